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

export const RESPONSES: Record<string, DataSchema> = {
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
  // /directories
  listWorkFlowDirs: () => Type.Array(Type.Unsafe({ $ref: WORKFLOW_DIR_REF }), { description: 'the root Workflow directory with its tree' }),
  createDirectory: () => Type.Object({ dirId: Type.String({ description: 'the new directory id, 32 lowercase hex' }) }, { title: 'DirectoryId' }),
  // /time
  getCurrentTime: () => Type.Integer({ description: 'the service clock, epoch milliseconds' }),
  getTimeZone: () => Type.Object({ timezone: Type.String({ description: 'GMT+N, GMT-N or GMT+H:MM from the current offset of the service zone' }) }, { title: 'TimeZone' }),
};
