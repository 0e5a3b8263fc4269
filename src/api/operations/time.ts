// /time operations: the service clock and zone. Public: no userId/orgId (ref §6.7, §6.13).
import { gmtOffsetLabel } from '../../domain/time.js';
import { defineOp } from '../operation.js';

export const timeOperations = [
  defineOp({
    name: 'getCurrentTime', method: 'GET', resource: 'time', action: 'getCurrentTime', access: 'public',
    schema: {},
    handler: async ({ deps }) => deps.clock.now(),
  }),
  defineOp({
    name: 'getTimeZone', method: 'GET', resource: 'time', action: 'getTimeZone', access: 'public',
    schema: {},
    handler: async ({ deps }) => ({ timezone: gmtOffsetLabel(deps.clock.now(), deps.config.timezone) }),
  }),
];
