// Extension of Get Flow Instance (contract §12): an instance's alerts with their delivery per channel, as
// the DecodedAlert struct documents them. Times in the service zone with their epoch-ms twins.
import { isOpenAlert, type Alert } from '../../domain/alerts.js';
import type { DecodedAlertWire } from '../openapi/structs.js';
import { stamped } from './dates.js';

export function renderAlert(a: Alert, tz: string): DecodedAlertWire {
  return {
    alertId: a.id,
    event: a.event,
    taskInstId: a.taskInstanceId,
    runNum: a.runNum,
    reason: a.reason,
    status: a.status,
    tries: a.tries,
    ...stamped('createdAt', a.createdAt, tz),
    ...stamped('nextTryAt', isOpenAlert(a.status) ? a.nextAt : null, tz),
    deliveries: a.deliveries.map((d) => ({
      channel: d.channel,
      to: d.to,
      status: d.status,
      tries: d.tries,
      error: d.error,
      ...stamped('sentAt', d.sentAt, tz),
    })),
  };
}
