// Flow lifecycle use cases beyond the definition: Delete, Enable, Disable, and Load For Edit with its edit
// lock (contract §2, §3). Owners only; a locked account and another user's edit lock refuse before any
// write. Deletion's guards (nothing of the flow running) live in the store's transaction.
import { DomainError, StaleError, invalid, notFound } from '../domain/errors.js';
import { requireOwner, requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { loadFlow, type FlowView } from './flows.js';

export const REFERENCED_TEXT = 'This workflow is relied on by other workflows and cannot be deleted.';

export async function deleteFlow(deps: Deps, caller: Caller, flowId: number): Promise<void> {
  const cur = await loadFlow(deps, caller, flowId);
  requireWritable(cur.flow, caller, deps.clock.now());
  const referrers = (await deps.store.listFlows(caller.user.orgId)).filter((f) => f.id !== flowId && f.flowRefs.some((r) => Number(r.flowId) === flowId));
  if (referrers.length > 0) {
    throw new DomainError('referenced', `workflow ${flowId} is referenced by ${referrers.map((f) => `${f.id} (${f.name})`).join(', ')}`);
  }
  try {
    await deps.store.deleteFlow(caller.user.orgId, flowId);
  } catch (e) {
    // The store refuses while an instance or a task of the flow runs; its message names which.
    if (e instanceof StaleError) throw invalid('flowId', `Invalid parameter: workflow ${flowId} cannot be deleted now: ${e.message}`);
    throw e;
  }
}

export async function setFlowActive(deps: Deps, caller: Caller, flowId: number, active: 0 | 1): Promise<void> {
  const cur = await loadFlow(deps, caller, flowId);
  const now = deps.clock.now();
  requireWritable(cur.flow, caller, now);
  try {
    await deps.store.setFlowActive(caller.user.orgId, flowId, active, caller.user.name, now);
  } catch (e) {
    if (e instanceof StaleError) throw notFound('Workflow', flowId);
    throw e;
  }
}

/**
 * Takes (or renews) the caller's edit lock for `editLockMinutes` and returns the flow. Another user's
 * unexpired lock answers 62106 naming the holder and the expiry; Save by the holder releases it.
 */
export async function loadFlowForEdit(deps: Deps, caller: Caller, flowId: number): Promise<FlowView> {
  const cur = await loadFlow(deps, caller, flowId);
  requireOwner(cur.flow, caller);
  const now = deps.clock.now();
  const mine = { userId: caller.user.id, userName: caller.user.name, expiresAt: now + deps.config.editLockMinutes * 60_000 };
  let held;
  try {
    held = await deps.store.takeEditLock(caller.user.orgId, flowId, mine, now);
  } catch (e) {
    if (e instanceof StaleError) throw notFound('Workflow', flowId);
    throw e;
  }
  // The store wrote ours unless another user's lock is still valid: report that one (62106).
  const flow = { ...cur.flow, editLock: held };
  requireWritable(flow, caller, now);
  return { fw: { ...cur, flow }, locked: false, hasEditPri: true, hasReadPri: true, isUserLocked: caller.user.locked };
}
