// Trigger, Update And Trigger, Trigger From Task (contract §4): each creates one flow instance with its
// task instances and returns at once; the engine hears of it through the store's events. Uniqueness of
// (flow, minute) is the store's unique key: never checked before the write.
import { DomainError, DuplicateKeyError, invalid } from '../domain/errors.js';
import { nodeIdOf, runSet } from '../domain/graph.js';
import { flowInstanceId, instanceSuffix, taskInstanceId } from '../domain/ids.js';
import type { Param, TriggerKind } from '../domain/types.js';
import type { NewFlowInstance } from '../store/store.js';
import { requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { loadFlow } from './flows.js';

export const ONE_MINUTE_TEXT =
  'Cannot create workflow instance. Please check if the workflow or task exist, and do not trigger the same workflow repeatedly in 1 minute.';

/** Flow parameters with the overrides applied: given keys replace, others are kept, new keys are added. */
export function applyOverrides(params: Param[], overrides: Param[]): Param[] {
  const given = new Map(overrides.map((p) => [p.key, p.value]));
  const out = params.map((p) => (given.has(p.key) ? { key: p.key, value: given.get(p.key) as string } : p));
  const known = new Set(params.map((p) => p.key));
  for (const [key, value] of given) if (!known.has(key)) out.push({ key, value });
  return out;
}

export interface TriggerInput {
  flowId: number;
  triggerTime: number;
  overrides?: Param[];
  startTaskId?: number;
}

export async function triggerFlow(deps: Deps, caller: Caller, input: TriggerInput): Promise<{ flowInstanceId: string }> {
  const { store, config, clock } = deps;
  const fw = await loadFlow(deps, caller, input.flowId);
  const now = clock.now();
  requireWritable(fw.flow, caller, now);
  if (fw.tasks.length === 0) throw new DomainError('noTask', `workflow ${input.flowId}`);
  const start = input.startTaskId;
  if (start !== undefined && !fw.tasks.some((t) => t.id === start)) {
    throw invalid('taskId', `Invalid parameter: taskId ${start} is not a task of workflow ${input.flowId}`);
  }
  const run = start === undefined ? null : runSet(fw.flow.nodes.map((n) => n.nodeId), fw.flow.relations, nodeIdOf(start));
  const id = flowInstanceId(fw.flow.id, input.triggerTime, config.timezone);
  const suffix = instanceSuffix(input.triggerTime, config.timezone);
  const overrides = input.overrides ?? [];
  const kind: TriggerKind = start !== undefined ? 'triggerFromTask' : input.overrides ? 'updateAndTrigger' : 'trigger';
  const byTask = new Map(fw.flow.nodes.map((n) => [n.taskId, n]));
  const req: NewFlowInstance = {
    instance: {
      id,
      flowId: fw.flow.id,
      orgId: fw.flow.orgId,
      kind,
      startTaskId: start ?? null,
      triggerTime: input.triggerTime,
      dueAt: Math.max(input.triggerTime, now),
      owner: caller.user.name,
      parameters: applyOverrides(fw.flow.parameters, overrides),
      overrides,
      snapshot: { flow: fw.flow, tasks: fw.tasks },
      createdAt: now,
    },
    tasks: fw.tasks.map((t) => {
      const nodeId = byTask.get(t.id)?.nodeId ?? nodeIdOf(t.id);
      return {
        id: taskInstanceId(t.id, suffix),
        flowInstanceId: id,
        flowId: fw.flow.id,
        taskId: t.id,
        nodeId,
        taskName: t.name,
        status: run && !run.has(nodeId) ? ('SKIP' as const) : ('INIT' as const),
      };
    }),
  };
  try {
    await store.createFlowInstance(req);
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw new DomainError('duplicateInstance', `instance ${id} exists`);
    throw e;
  }
  return { flowInstanceId: id };
}
