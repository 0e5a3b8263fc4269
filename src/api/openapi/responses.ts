// The `data` schema of every operation's success envelope, keyed by operation name (the registry's
// `name`). A new operation needs an entry here: test/api/openapi.test.ts fails naming any that lacks one.
// Shapes follow src/api/render/*.ts and the reference's structs (ref §5, §6); V2.0 differences via `v`.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { VersionSpec } from '../operation.js';
import {
  ExportFlow,
  Flow,
  FlowInstance,
  FlowSimpInfo,
  FlowVersion,
  FlowVersionComparison,
  FlowVersionList,
  PageFlow,
  TaskInstance,
  WorkFlowDirRef,
} from './structs.js';

export type DataSchema = (v: VersionSpec) => TSchema;

const Void = Type.Literal('', { description: 'void operation: data is the empty string' });
const FlowIdData = Type.Object({ flowId: Type.Integer({ description: 'workflow id' }) }, { title: 'FlowId' });
const InstanceIdData = Type.Object(
  { flowInstanceId: Type.String({ description: 'the new flow instance, <flowId>-<yyyyMMddHHmm>00' }) },
  { title: 'FlowInstanceId' },
);
const extras = (v: VersionSpec) => v.flowExtras === true;

/** Each entry keeps its own schema type (the SDK's answer types are Static of these). */
export const RESPONSE_SCHEMAS = {
  // /flows
  getFlow: (v) => Flow(extras(v)),
  loadFlowForEdit: (v) => Flow(extras(v)),
  exportFlow: () => ExportFlow,
  importFlow: () => FlowIdData,
  saveFlow: () => FlowIdData,
  deleteFlow: () => Void,
  enableFlow: () => Void,
  disableFlow: () => Void,
  triggerFlow: () => InstanceIdData,
  updateAndTriggerFlow: () => InstanceIdData,
  triggerFlowFromTask: () => InstanceIdData,
  backfillFlow: () =>
    Type.Object(
      {
        flowInstanceIds: Type.Array(Type.String(), { description: 'the instances made, in trigger-time order' }),
        skipped: Type.Array(Type.String(), { description: 'the minutes that had an instance already (their ids), in trigger-time order' }),
      },
      { title: 'Backfill' },
    ),
  getMyFlow: () => Type.Array(FlowSimpInfo, { description: 'workflows the caller owns or visits, unpaged' }),
  searchFlow: () => Type.Array(PageFlow, { description: 'one page of the organization\'s workflows; no total count' }),
  listFlowVersions: () => FlowVersionList,
  getFlowVersion: () => FlowVersion,
  compareFlowVersions: () => FlowVersionComparison,
  // /flowInstances
  getFlowInstance: (v) => FlowInstance(extras(v)),
  cancelFlowInstance: () => Void,
  rerunFlowInstance: () =>
    Type.Object(
      {
        flowInstanceId: Type.String({ description: 'the instance, back to WAIT (same id)' }),
        mode: Type.Union([Type.Literal('failed'), Type.Literal('all')], { description: 'the mode applied' }),
        resetTaskInstIds: Type.Array(Type.String(), { description: 'the task instances that run again, in node order' }),
      },
      { title: 'Rerun' },
    ),
  searchFlowInstances: (v) =>
    Type.Object(
      {
        flowInsts: Type.Array(FlowInstance(extras(v)), { description: 'one page of instances' }),
        count: Type.Integer({ description: 'total number of matching instances (not the page size)' }),
      },
      { title: 'FlowInstancePage' },
    ),
  // /taskInstances
  getTaskInstance: () => TaskInstance,
  getTaskInstanceLog: () =>
    Type.Object({ log: Type.String({ description: 'the last maxLength characters of the log: one banner and output section per attempt' }) }, { title: 'InstanceLog' }),
  // Extension, V2.1: server-sent events, not an envelope (errors before the first event are envelopes).
  streamTaskInstanceLog: () =>
    Type.String({
      contentMediaType: 'text/event-stream',
      description:
        'server-sent events, each `event:` name, `id:` (log events only) and one JSON `data:` line: `status` {status, runNum} first; ' +
        '`log` {text, runNum, truncated} with id `runNum.seq` (pass it as `after` to resume); `end` {status} when the task instance is terminal and all of its log was sent. ' +
        'Comment lines (`: keepalive`) every 15 s.',
    }),
  // /directories
  listWorkFlowDirs: () => Type.Array(WorkFlowDirRef(), { description: 'the root Workflow directory with its tree' }),
  createDirectory: () => Type.Object({ dirId: Type.String({ description: 'the new directory id, 32 lowercase hex' }) }, { title: 'DirectoryId' }),
  // /time
  getCurrentTime: () => Type.Integer({ description: 'the service clock, epoch milliseconds' }),
  getTimeZone: () => Type.Object({ timezone: Type.String({ description: 'GMT+N, GMT-N or GMT+H:MM from the current offset of the service zone' }) }, { title: 'TimeZone' }),
} satisfies Record<string, DataSchema>;

export const RESPONSES: Record<string, DataSchema> = RESPONSE_SCHEMAS;

/** The `data` an operation answers with, as documented: handlers that render declare it as their result. */
export type ResponseData<N extends keyof typeof RESPONSE_SCHEMAS> = Static<ReturnType<(typeof RESPONSE_SCHEMAS)[N]>>;
