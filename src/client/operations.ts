// Every operation of the API as the SDK calls it: where it is routed (method, resource, action), and its
// input and answer types, taken (type-only, so nothing of the server reaches a browser bundle) from the
// TypeBox schemas the routes validate with and the response structs /openapi.json documents.
// test/client/sdk.test.ts checks this table against the operation registry, and test/client/inputTypes.ts
// (type-checked by tsc) that each input type is the schema its route declares.
import type { Static, TSchema } from '@sinclair/typebox';
import type { RESPONSE_SCHEMAS } from '../api/openapi/responses.js';
import type { CreateDirectoryBody } from '../api/schemas/directories.js';
import type {
  BackfillBody,
  CompareVersionsQuery,
  FlowIdBody,
  FlowIdQuery,
  FlowVersionQuery,
  GetMyFlowQuery,
  ImportBody,
  SaveBody,
  SearchFlowBody,
  TriggerBody,
  TriggerFromTaskBody,
  UpdateAndTriggerBody,
} from '../api/schemas/flows.js';
import type { CancelBody, FlowInstIdQuery, RerunBody, SearchInstancesBody, TaskInstIdQuery, TaskLogQuery, TaskLogStreamQuery } from '../api/schemas/instances.js';

type Q<S extends TSchema> = { in: 'query'; input: Static<S> };
type B<S extends TSchema> = { in: 'body'; input: Static<S> };
type None = { in: 'none'; input: Record<string, never> };

/** Operation name -> where its input goes and its type. */
export interface OperationInputs {
  listWorkFlowDirs: None;
  createDirectory: B<typeof CreateDirectoryBody>;
  getFlow: Q<typeof FlowIdQuery>;
  loadFlowForEdit: Q<typeof FlowIdQuery>;
  getMyFlow: Q<typeof GetMyFlowQuery>;
  searchFlow: B<typeof SearchFlowBody>;
  exportFlow: Q<typeof FlowIdQuery>;
  importFlow: B<typeof ImportBody>;
  saveFlow: B<typeof SaveBody>;
  deleteFlow: Q<typeof FlowIdQuery>;
  enableFlow: B<typeof FlowIdBody>;
  disableFlow: B<typeof FlowIdBody>;
  triggerFlow: B<typeof TriggerBody>;
  updateAndTriggerFlow: B<typeof UpdateAndTriggerBody>;
  triggerFlowFromTask: B<typeof TriggerFromTaskBody>;
  backfillFlow: B<typeof BackfillBody>;
  listFlowVersions: Q<typeof FlowIdQuery>;
  getFlowVersion: Q<typeof FlowVersionQuery>;
  compareFlowVersions: Q<typeof CompareVersionsQuery>;
  getFlowInstance: Q<typeof FlowInstIdQuery>;
  searchFlowInstances: B<typeof SearchInstancesBody>;
  cancelFlowInstance: B<typeof CancelBody>;
  rerunFlowInstance: B<typeof RerunBody>;
  getTaskInstance: Q<typeof TaskInstIdQuery>;
  getTaskInstanceLog: Q<typeof TaskLogQuery>;
  getCurrentTime: None;
  getTimeZone: None;
}

export type OperationName = keyof OperationInputs;
export type InputOf<N extends OperationName> = OperationInputs[N]['input'];
/** The `data` of the operation's success envelope, as documented (V2.1). */
export type OutputOf<N extends OperationName> = Static<ReturnType<(typeof RESPONSE_SCHEMAS)[N]>>;
/** The live log stream's query (an event stream, not an envelope: BatchflowClient.streamLog). */
export type StreamLogQuery = Static<typeof TaskLogStreamQuery>;

export interface Route {
  method: 'GET' | 'POST';
  resource: string;
  action: string;
  in: 'query' | 'body' | 'none';
  /** Needs no identity (the /time operations). */
  public?: boolean;
}

const q = (method: 'GET' | 'POST', resource: string, action: string): Route => ({ method, resource, action, in: 'query' });
const b = (resource: string, action: string): Route => ({ method: 'POST', resource, action, in: 'body' });

export const ROUTES: { [N in OperationName]: Route & { in: OperationInputs[N]['in'] } } = {
  listWorkFlowDirs: { method: 'GET', resource: 'directories', action: 'listWorkFlowDirs', in: 'none' },
  createDirectory: b('directories', 'create') as Route & { in: 'body' },
  getFlow: q('GET', 'flows', 'get') as Route & { in: 'query' },
  loadFlowForEdit: q('GET', 'flows', 'loadForEdit') as Route & { in: 'query' },
  getMyFlow: q('GET', 'flows', 'getMyFlow') as Route & { in: 'query' },
  searchFlow: b('flows', 'search') as Route & { in: 'body' },
  exportFlow: q('GET', 'flows', 'export') as Route & { in: 'query' },
  importFlow: b('flows', 'import') as Route & { in: 'body' },
  saveFlow: b('flows', 'save') as Route & { in: 'body' },
  deleteFlow: q('GET', 'flows', 'delete') as Route & { in: 'query' },
  enableFlow: b('flows', 'enable') as Route & { in: 'body' },
  disableFlow: b('flows', 'disable') as Route & { in: 'body' },
  triggerFlow: b('flows', 'trigger') as Route & { in: 'body' },
  updateAndTriggerFlow: b('flows', 'updateAndTrigger') as Route & { in: 'body' },
  triggerFlowFromTask: b('flows', 'triggerFromTask') as Route & { in: 'body' },
  backfillFlow: b('flows', 'backfill') as Route & { in: 'body' },
  listFlowVersions: q('GET', 'flows', 'listVersions') as Route & { in: 'query' },
  getFlowVersion: q('GET', 'flows', 'getVersion') as Route & { in: 'query' },
  compareFlowVersions: q('GET', 'flows', 'compareVersions') as Route & { in: 'query' },
  getFlowInstance: q('GET', 'flowInstances', 'get') as Route & { in: 'query' },
  searchFlowInstances: b('flowInstances', 'search') as Route & { in: 'body' },
  cancelFlowInstance: b('flowInstances', 'cancel') as Route & { in: 'body' },
  rerunFlowInstance: b('flowInstances', 'rerun') as Route & { in: 'body' },
  getTaskInstance: q('GET', 'taskInstances', 'get') as Route & { in: 'query' },
  getTaskInstanceLog: q('GET', 'taskInstances', 'getLog') as Route & { in: 'query' },
  getCurrentTime: { method: 'GET', resource: 'time', action: 'getCurrentTime', in: 'none', public: true },
  getTimeZone: { method: 'GET', resource: 'time', action: 'getTimeZone', in: 'none', public: true },
};
