// Flow use cases: Get, Export, Import, Save. Loads through the store (another org's flow reads as
// missing), checks access (src/service/access.ts), parses definitions (flowDefinition.ts), writes once.
import { invalid, notFound, StaleError } from '../domain/errors.js';
import type { FlowWithTasks } from '../domain/types.js';
import { canRead, isOwner, lockHeldByOther, requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { exportStruct, parseImport, parseSave, type ImportInput } from './flowDefinition.js';
import { show } from './input.js';
import { MAX_NAME_LENGTH } from './limits.js';

/** A flow as one caller sees it: the data plus the caller-relative flags of the Flow struct. */
export interface FlowView {
  fw: FlowWithTasks;
  locked: boolean;
  hasEditPri: boolean;
  hasReadPri: boolean;
  isUserLocked: boolean;
}

export async function loadFlow(deps: Deps, caller: Caller, flowId: number): Promise<FlowWithTasks> {
  const fw = await deps.store.getFlow(caller.user.orgId, flowId);
  if (!fw || !canRead(fw.flow, caller.user)) throw notFound('Workflow', flowId);
  return fw;
}

/** As loadFlow, with the tasks of the flow's current version (Store.getFlowToRun): for creating instances. */
export async function loadFlowToRun(deps: Deps, caller: Caller, flowId: number, opts: { maybeStale?: boolean } = {}): Promise<FlowWithTasks> {
  const fw = await deps.store.getFlowToRun(caller.user.orgId, flowId, opts);
  if (!fw || !canRead(fw.flow, caller.user)) throw notFound('Workflow', flowId);
  return fw;
}

export async function getFlow(deps: Deps, caller: Caller, flowId: number): Promise<FlowView> {
  const fw = await loadFlow(deps, caller, flowId);
  return {
    fw,
    locked: lockHeldByOther(fw.flow, caller, deps.clock.now()) !== null,
    hasEditPri: isOwner(fw.flow, caller.user),
    hasReadPri: true,
    isUserLocked: caller.user.locked,
  };
}

export async function exportFlow(deps: Deps, caller: Caller, flowId: number): Promise<Record<string, unknown>> {
  return exportStruct(await loadFlow(deps, caller, flowId));
}

/** Every name must be a user of the caller's org (names of other orgs' users read as unknown). */
async function requireUsers(deps: Deps, orgId: string, names: { owners: string[]; visitors: string[] }, prefix: string): Promise<void> {
  for (const [field, list] of Object.entries(names)) {
    for (const name of list) {
      const u = await deps.store.getUserByName(name);
      if (!u || u.orgId !== orgId) throw invalid(`${prefix}${field}`, `Invalid parameter: ${prefix}${field} names no user of organization ${orgId}: "${name}"`);
    }
  }
}

export async function importFlow(deps: Deps, caller: Caller, input: Omit<ImportInput, 'dirId'> & { dirId: string }): Promise<{ flowId: number }> {
  const { user } = caller;
  if (input.flowName.trim() === '') throw invalid('flowName', 'Invalid parameter: flowName (must not be empty)');
  if (input.flowName.trim().length > MAX_NAME_LENGTH) throw invalid('flowName', `Invalid parameter: flowName must be at most ${MAX_NAME_LENGTH} characters, got ${input.flowName.trim().length}`);
  if (input.dirId.trim() === '' || !(await deps.store.getDirectory(user.orgId, input.dirId))) {
    throw invalid('dirId', `Directory does not exist: dirId ${show(input.dirId)}`);
  }
  const parsed = parseImport({ ...input, flowName: input.flowName.trim() }, { orgId: user.orgId, userId: user.id, userName: user.name, now: deps.clock.now() });
  await requireUsers(deps, user.orgId, parsed.userNames, 'flowJson.');
  const created = await deps.store.createFlow(parsed.newFlow);
  return { flowId: created.flow.id };
}

/**
 * Reads the flow (its version v), checks and parses, then writes over v only: the store's guarded write
 * refuses, with nothing written, when another write came between (62102 FlowChangedError), another user
 * took the lock meanwhile (62106) or the flow went (62102 not found).
 */
export async function saveFlow(deps: Deps, caller: Caller, flowId: number, body: Record<string, unknown>): Promise<{ flowId: number }> {
  const cur = await loadFlow(deps, caller, flowId);
  const now = deps.clock.now();
  requireWritable(cur.flow, caller, now);
  const parsed = parseSave(body, cur, { userId: caller.user.id, userName: caller.user.name, now });
  await requireUsers(deps, caller.user.orgId, parsed.userNames, '');
  try {
    await deps.store.updateFlow(caller.user.orgId, parsed.update);
  } catch (e) {
    if (e instanceof StaleError) throw notFound('Workflow', flowId);
    throw e;
  }
  return { flowId };
}
