// The `data` schema of every operation's success envelope, keyed by operation name (the registry's
// `name`). A new operation needs an entry here: test/api/openapi.test.ts fails naming any that lacks one.
// Shapes follow src/api/render/*.ts and the reference's structs (ref §5, §6); V2.0 differences via `v`.
import { Type, type TSchema } from '@sinclair/typebox';
import type { VersionSpec } from '../operation.js';
import { ExportFlow, Flow, FlowInstance, TaskInstance, WORKFLOW_DIR_REF } from './structs.js';

export type DataSchema = (v: VersionSpec) => TSchema;

const Void = Type.Literal('', { description: 'void operation: data is the empty string' });
const FlowIdData = Type.Object({ flowId: Type.Integer({ description: 'workflow id' }) }, { title: 'FlowId' });
const InstanceIdData = Type.Object(
  { flowInstanceId: Type.String({ description: 'the new flow instance, <flowId>-<yyyyMMddHHmm>00' }) },
  { title: 'FlowInstanceId' },
);
const extras = (v: VersionSpec) => v.flowExtras === true;
const VersionRef = Type.Object(
  {
    version: Type.Integer({ description: 'version number, 1, 2, ... per workflow' }),
    hash: Type.String({ description: 'SHA-256 of the version\'s content' }),
    createdBy: Type.String({ description: 'who imported or saved it' }),
    createTime: Type.String({ description: 'when, yyyy-MM-dd HH:mm:ss in the service time zone' }),
    createTimeMs: Type.Integer({ description: 'when, epoch ms' }),
  },
  { title: 'FlowVersionRef' },
);

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
  getMyFlow: () =>
    Type.Array(
      Type.Object(
        {
          flowId: Type.String({ description: 'workflow id, as a string (ref §5.8 FlowSimpInfo)' }),
          editable: Type.Boolean({ description: 'the caller owns it' }),
          flowName: Type.String({ description: 'workflow name' }),
          cycle: Type.String({ description: 'M, W, D, H or mi' }),
        },
        { title: 'FlowSimpInfo' },
      ),
      { description: 'workflows the caller owns or visits, unpaged' },
    ),
  searchFlow: () =>
    Type.Array(Type.Object({ flowId: Type.Integer({ description: 'workflow id' }), flowName: Type.String({ description: 'workflow name' }) }, { title: 'PageFlow' }), {
      description: 'one page of the organization\'s workflows; no total count',
    }),
  listFlowVersions: () =>
    Type.Object(
      {
        flowId: Type.Integer({ description: 'workflow id' }),
        currentVersion: Type.Union([Type.Integer(), Type.Null()], { description: 'the version the workflow has now' }),
        versions: Type.Array(VersionRef, { description: 'newest first' }),
      },
      { title: 'FlowVersionList' },
    ),
  getFlowVersion: () =>
    Type.Object(
      {
        flowId: Type.Integer({ description: 'workflow id' }),
        ...VersionRef.properties,
        flow: Type.Object({}, { additionalProperties: true, description: 'the workflow\'s definition in this version' }),
        tasks: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'its tasks, in node order' }),
      },
      { title: 'FlowVersion' },
    ),
  compareFlowVersions: () => {
    const Change = Type.Object({ field: Type.String(), from: Type.Unknown(), to: Type.Unknown() }, { title: 'FieldChange' });
    const TaskRef = Type.Object({ id: Type.Integer(), name: Type.String() });
    const RelRef = Type.Object({ source: Type.String(), target: Type.String() });
    return Type.Object(
      {
        flowId: Type.Integer({ description: 'workflow id' }),
        from: VersionRef,
        to: VersionRef,
        same: Type.Boolean({ description: 'the two contents are equal' }),
        flow: Type.Array(Change, { description: 'workflow fields that differ' }),
        tasks: Type.Object({
          added: Type.Array(TaskRef),
          removed: Type.Array(TaskRef),
          changed: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), changes: Type.Array(Change) })),
        }),
        relations: Type.Object({
          added: Type.Array(RelRef),
          removed: Type.Array(RelRef),
          changed: Type.Array(Type.Object({ source: Type.String(), target: Type.String(), changes: Type.Array(Change) })),
        }),
      },
      { title: 'FlowVersionComparison' },
    );
  },
  // /flowInstances
  getFlowInstance: (v) => FlowInstance(extras(v)),
  cancelFlowInstance: () => Void,
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
  listWorkFlowDirs: () => Type.Array(Type.Unsafe({ $ref: WORKFLOW_DIR_REF }), { description: 'the root Workflow directory with its tree' }),
  createDirectory: () => Type.Object({ dirId: Type.String({ description: 'the new directory id, 32 lowercase hex' }) }, { title: 'DirectoryId' }),
  // /time
  getCurrentTime: () => Type.Integer({ description: 'the service clock, epoch milliseconds' }),
  getTimeZone: () => Type.Object({ timezone: Type.String({ description: 'GMT+N, GMT-N or GMT+H:MM from the current offset of the service zone' }) }, { title: 'TimeZone' }),
} satisfies Record<string, DataSchema>;

export const RESPONSES: Record<string, DataSchema> = RESPONSE_SCHEMAS;
