// Compile-time check (npx tsc --noEmit): the SDK's input map (src/client/operations.ts) names, for every
// operation, the very schema its route declares (defineOp keeps name and schemas in the registry's type).
// A route that switches schema, or a new operation the SDK lacks, fails type-checking here.
import type { TSchema } from '@sinclair/typebox';
import type { directoryOperations } from '../../src/api/operations/directories.js';
import type { flowInstanceOperations } from '../../src/api/operations/flowInstances.js';
import type { flowOperations } from '../../src/api/operations/flows.js';
import type { flowVersionOperations } from '../../src/api/operations/flowVersions.js';
import type { taskInstanceOperations } from '../../src/api/operations/taskInstances.js';
import type { timeOperations } from '../../src/api/operations/time.js';
import type { Static } from '@sinclair/typebox';
import type { OperationInputs } from '../../src/client/operations.js';

type Registry = (typeof flowOperations | typeof flowVersionOperations | typeof flowInstanceOperations | typeof taskInstanceOperations | typeof directoryOperations | typeof timeOperations)[number];
type SchemaOf<N> = NonNullable<Extract<Registry, { name: N }>['declared']>['schema'];
type Declared<N> =
  SchemaOf<N> extends { querystring: infer S extends TSchema } ? { in: 'query'; input: Static<S> }
  : SchemaOf<N> extends { body: infer S extends TSchema } ? { in: 'body'; input: Static<S> }
  : { in: 'none'; input: Record<string, never> };
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Registry names the SDK types (streamLog is an event stream: BatchflowClient.streamLog). */
type Enveloped = Exclude<Registry['name'], 'streamTaskInstanceLog' | 'streamLog'>;
export const sdkHasEveryOperation: Same<Enveloped, keyof OperationInputs> = true;
export const sdkInputsAreTheRouteSchemas: { [N in keyof OperationInputs]: Same<OperationInputs[N], Declared<N>> } = {
  listWorkFlowDirs: true, createDirectory: true, getFlow: true, loadFlowForEdit: true, getMyFlow: true, searchFlow: true, exportFlow: true,
  importFlow: true, saveFlow: true, deleteFlow: true, enableFlow: true, disableFlow: true, triggerFlow: true, updateAndTriggerFlow: true,
  triggerFlowFromTask: true, backfillFlow: true, listFlowVersions: true, getFlowVersion: true, compareFlowVersions: true, getFlowInstance: true,
  searchFlowInstances: true, cancelFlowInstance: true, rerunFlowInstance: true, getTaskInstance: true, getTaskInstanceLog: true, getCurrentTime: true, getTimeZone: true,
};
