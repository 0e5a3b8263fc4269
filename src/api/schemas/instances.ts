// Request schemas of /flowInstances and /taskInstances (ref §6.1, 6.9, 6.11, 6.12).
import { Type } from '@sinclair/typebox';
import { NonEmptyText } from './common.js';

export const FlowInstIdQuery = Type.Object({ flowInstId: NonEmptyText });
export const CancelBody = Type.Object({ flowInstId: NonEmptyText });
export const TaskInstIdQuery = Type.Object({ taskInstId: NonEmptyText });
export const TaskLogQuery = Type.Object({
  taskInstId: NonEmptyText,
  maxLength: Type.Optional(Type.String({ pattern: '^\\s*\\d+\\s*$', description: 'a positive integer' })),
});
