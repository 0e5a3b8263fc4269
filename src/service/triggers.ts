// Trigger, Update And Trigger, Trigger From Task (contract §4): each creates one flow instance with its
// task instances and returns at once; the engine hears of it through the store's events. Uniqueness of
// (flow, minute) is the store's unique key: never checked before the write. The instance itself is built
// by src/domain/instances.ts, the same builder the cron scheduler uses.
import { DomainError, DuplicateKeyError, StaleFlowError, StaleError, invalid, notFound } from '../domain/errors.js';
import { nodeIdOf, runSet } from '../domain/graph.js';
import { buildFlowInstance, type NewFlowInstance } from '../domain/instances.js';
import type { FlowWithTasks, Param, TriggerKind } from '../domain/types.js';
import { canRead, requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { loadFlowToRun } from './flows.js';
import { outOfRangeError } from './input.js';
import { MIN_TRIGGER_TIME_MS } from './limits.js';

export { applyOverrides } from '../domain/instances.js';

export const ONE_MINUTE_TEXT =
  'Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.';

export interface TriggerInput {
  flowId: number;
  triggerTime: number;
  overrides?: Param[];
  startTaskId?: number;
}

export async function triggerFlow(deps: Deps, caller: Caller, input: TriggerInput): Promise<{ flowInstanceId: string }> {
  // First from the flow as this process last read it (no read): the creating transaction checks that the
  // row is still at that version. Anything that refuses or finds it changed is decided again from a read
  // of the row, so every answer but the success is the one a fresh read gives.
  const cached = await deps.store.getFlowToRun(caller.user.orgId, input.flowId, { maybeStale: true });
  if (cached && canRead(cached.flow, caller.user)) {
    try {
      return await triggerFrom(deps, caller, input, cached, true);
    } catch (e) {
      if (!(e instanceof StaleFlowError || e instanceof RefusedBeforeWrite)) throw e;
    }
  }
  return triggerFrom(deps, caller, input, await loadFlowToRun(deps, caller, input.flowId), false);
}

/** A refusal decided from a possibly stale flow, before anything was written (triggerFlow decides it again). */
class RefusedBeforeWrite extends Error {}

async function triggerFrom(deps: Deps, caller: Caller, input: TriggerInput, fw: FlowWithTasks, maybeStale: boolean): Promise<{ flowInstanceId: string }> {
  const { store, config, clock } = deps;
  const now = clock.now();
  let req: NewFlowInstance;
  try {
    req = instanceToCreate(fw, caller, input, now, config.timezone);
  } catch (e) {
    throw maybeStale ? new RefusedBeforeWrite() : e;
  }
  const id = req.instance.id;
  try {
    // lockUserId: the store checks the edit lock again in the creating transaction (62106).
    await store.createFlowInstance({ ...req, lockUserId: caller.user.id, ...(maybeStale ? { flowVersion: fw.flow.version } : {}) });
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw new DomainError('duplicateInstance', `instance ${id} exists`);
    // The flow was deleted after our read.
    if (e instanceof StaleError) throw notFound('Workflow', input.flowId);
    throw e;
  }
  return { flowInstanceId: id };
}

/** The instance a trigger of `fw` creates, or the refusal (not writable, no task, bad task id or time). */
function instanceToCreate(fw: FlowWithTasks, caller: Caller, input: TriggerInput, now: number, timezone: string): NewFlowInstance {
  requireWritable(fw.flow, caller, now);
  if (fw.tasks.length === 0) throw new DomainError('noTask', `workflow ${input.flowId}`);
  const start = input.startTaskId;
  if (start !== undefined && !fw.tasks.some((t) => t.id === start)) {
    throw invalid('taskId', `Invalid parameter: taskId ${start} is not a task of workflow ${input.flowId}`);
  }
  // After the lookups, so an unknown flow or task is named first (its own fault, whatever the time).
  requireMillis('triggerTime', input.triggerTime);
  const kind: TriggerKind = start !== undefined ? 'triggerFromTask' : input.overrides ? 'updateAndTrigger' : 'trigger';
  return buildFlowInstance({
    fw,
    triggerTime: input.triggerTime,
    now,
    timezone,
    owner: caller.user.name,
    kind,
    overrides: input.overrides ?? [],
    startTaskId: start ?? null,
    runSet: start === undefined ? null : runSet(fw.flow.nodes.map((n) => n.nodeId), fw.flow.relations, nodeIdOf(start)),
  });
}

/** A trigger time (or a backfill's bound) below 1973 looks like seconds where epoch milliseconds are expected (contract §4). */
export function requireMillis(field: string, v: number): void {
  if (v >= MIN_TRIGGER_TIME_MS) return;
  throw outOfRangeError(field, `at least ${MIN_TRIGGER_TIME_MS} (1973-03-03T09:46:40Z): it looks like seconds where epoch milliseconds are expected`, v);
}
