// The searching reads: Get My Flow (the caller's flows, unpaged), Search Flow (the org's flows, paged) and
// List Flow Instances (the org's instances, filtered, paged, with the total count). Fuzzy matching is a
// case-insensitive "contains" on ids and names (ref §6.10, §6.15, §6.19; contract §7).
import { invalid, outOfRange } from '../domain/errors.js';
import type { FlowInstanceStatus } from '../domain/status.js';
import type { Flow } from '../domain/types.js';
import type { FlowHead } from '../store/store.js';
import { isOwner, splitNames } from './access.js';
import type { Caller, Deps } from './context.js';
import type { InstanceView } from './instances.js';
import { MAX_EXPRESSION_LENGTH } from './limits.js';
import { parsePagination } from './paging.js';

export const FLOW_SORT_FIELDS = ['createTime', 'updateTime', 'startTime'] as const;
export const INSTANCE_SORT_FIELDS = ['createTime', 'updateTime', 'startTime', 'triggerTime', 'endTime'] as const;

/** A search expression, trimmed; undefined when empty; 62102 past MAX_EXPRESSION_LENGTH characters. */
function expressionOf(v: string | undefined): string | undefined {
  const e = v?.trim();
  if (e && e.length > MAX_EXPRESSION_LENGTH) {
    throw outOfRange('expression', `Invalid parameter: expression is out of range: at most ${MAX_EXPRESSION_LENGTH} characters, got ${e.length} characters`);
  }
  return e || undefined;
}

function matches(expression: string | undefined, ...values: string[]): boolean {
  const e = (expression ?? '').toLowerCase();
  return e === '' || values.some((v) => v.toLowerCase().includes(e));
}

/** Flows the caller created, owns or visits, matching the expression; by id. */
export async function getMyFlows(deps: Deps, caller: Caller, expression?: string): Promise<Array<{ flow: FlowHead; editable: boolean }>> {
  const { user } = caller;
  const e = expressionOf(expression);
  // The store narrows to flows naming the user somewhere; the exact rules (and the expression's
  // case folding) stay here.
  const flows = await deps.store.listFlowHeads(user.orgId, user);
  return flows
    .filter((f) => isOwner(f, user) || splitNames(f.visitors).includes(user.name))
    .filter((f) => matches(e, String(f.id), f.name))
    .map((flow) => ({ flow, editable: isOwner(flow, user) }));
}

export async function searchFlows(deps: Deps, caller: Caller, input: { expression?: string; pagination?: unknown; pageBase: 0 | 1 }): Promise<Flow[]> {
  const expression = expressionOf(input.expression);
  const page = parsePagination(input.pagination, input.pageBase, FLOW_SORT_FIELDS);
  return deps.store.searchFlows({ orgId: caller.user.orgId, expression, ...page });
}

export interface InstanceQuery {
  flowType: 0 | 1 | 2;
  expression?: string;
  owner: string;
  fromTriggerTime: number;
  toTriggerTime: number;
  /** null: any status; [] (only codes no flow instance can have): nothing matches. */
  statuses: FlowInstanceStatus[] | null;
  pagination?: unknown;
  pageBase: 0 | 1;
}

export async function searchFlowInstances(deps: Deps, caller: Caller, q: InstanceQuery): Promise<{ views: InstanceView[]; count: number }> {
  if (q.fromTriggerTime > q.toTriggerTime) {
    throw invalid('fromTriggerTime', `Invalid parameter: fromTriggerTime (${q.fromTriggerTime}) is after toTriggerTime (${q.toTriggerTime})`);
  }
  const expression = expressionOf(q.expression);
  const page = parsePagination(q.pagination, q.pageBase, INSTANCE_SORT_FIELDS);
  if (q.statuses !== null && q.statuses.length === 0) return { views: [], count: 0 };
  const { instances, total } = await deps.store.searchFlowInstances({
    orgId: caller.user.orgId,
    flowType: q.flowType,
    expression,
    owner: q.owner.trim() || undefined,
    fromTriggerTime: q.fromTriggerTime,
    toTriggerTime: q.toTriggerTime,
    statuses: q.statuses ?? undefined,
    ...page,
  });
  // One read for the whole page's task instances: the number of store calls does not grow with the page.
  const tasksOf = await deps.store.listTaskInstancesOf(instances.map((i) => i.id));
  const views = instances.map((instance): InstanceView => ({ instance, tasks: tasksOf.get(instance.id) ?? [], hasEditPri: isOwner(instance.snapshot.flow, caller.user) }));
  return { views, count: total };
}
