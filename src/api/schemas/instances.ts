// Request schemas of /flowInstances and /taskInstances (ref §6.1, 6.9, 6.11, 6.12).
import { Type } from '@sinclair/typebox';
import { EpochMs, IntLike, NonEmptyText, PaginationInput, Text } from './common.js';

export const FlowInstIdQuery = Type.Object({ flowInstId: NonEmptyText });
export const CancelBody = Type.Object({ flowInstId: NonEmptyText });
/** Rerun (extension, contract §12): the mode is checked by the handler, which names what it accepts. */
export const RerunBody = Type.Object({
  flowInstId: NonEmptyText,
  mode: Type.Optional(Type.String({ description: '"failed" (default): the task instances that did not succeed run again; "all": every task instance of its run set' })),
});
export const TaskInstIdQuery = Type.Object({ taskInstId: NonEmptyText });
export const TaskLogQuery = Type.Object({
  taskInstId: NonEmptyText,
  // Checked by the handler, which names the limit (the configured attempt log cap).
  maxLength: Type.Optional(Type.String({ description: 'a positive integer up to the attempt log cap (16777216 by default)' })),
});

/** The live log stream (extension): a cursor to continue after, or how much of the past to start with. */
export const TaskLogStreamQuery = Type.Object({
  taskInstId: NonEmptyText,
  after: Type.Optional(Type.String({ description: 'continue after this log event id ("runNum.seq", the `id` of a `log` event)' })),
  tailChars: Type.Optional(Type.String({ description: 'without `after`: start with at most this many characters of the newest log (default 65536; 0: none)' })),
  follow: Type.Optional(Type.String({ description: '"false": send the log there is now and end (default "true": until the task instance is terminal)' })),
});

/**
 * List Flow Instances (ref §6.15). The trigger-time window is required; the Java sample's spelling
 * startTriggerTime/endTriggerTime is accepted for it (the handler reports the canonical name when absent).
 */
export const SearchInstancesBody = Type.Object({
  type: IntLike,
  expression: Type.Optional(Text),
  owner: Text,
  fromTriggerTime: Type.Optional(EpochMs),
  toTriggerTime: Type.Optional(EpochMs),
  startTriggerTime: Type.Optional(EpochMs),
  endTriggerTime: Type.Optional(EpochMs),
  status: Type.Union([Type.String(), Type.Integer()], { description: 'comma-separated status codes ("1,2") or one code' }),
  pagination: Type.Optional(PaginationInput),
});
