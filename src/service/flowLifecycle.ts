// Flow lifecycle use cases beyond the definition: Delete, Enable, Disable, and Load For Edit with its edit
// lock (contract §2, §3). Owners only; a locked account and another user's edit lock refuse before any
// write. What can change between this read and the write (the edit lock; for deletion also references to
// the flow and anything of it running) is checked again in the store's writing transaction.
import { StaleError, invalid, notFound } from '../domain/errors.js';
import { requireOwner, requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { loadFlow, type FlowView } from './flows.js';

export const REFERENCED_TEXT = 'This workflow is relied on by other workflows and cannot be deleted.';

export async function deleteFlow(deps: Deps, caller: Caller, flowId: number): Promise<void> {
  const cur = await loadFlow(deps, caller, flowId);
  const now = deps.clock.now();
  requireWritable(cur.flow, caller, now);
  try {
    // Refused in its transaction by another user's lock (62106) or a referencing flow (62104, naming it).
    await deps.store.deleteFlow(caller.user.orgId, flowId, caller.user.id, now);
  } catch (e) {
    if (!(e instanceof StaleError)) throw e;
    // Gone since our read, or something of it runs (the message names which).
    if (!(await deps.store.getFlow(caller.user.orgId, flowId))) throw notFound('Workflow', flowId);
    throw invalid('flowId', `Invalid parameter: workflow ${flowId} cannot be deleted now: ${e.message}`);
  }
}

export async function setFlowActive(deps: Deps, caller: Caller, flowId: number, active: 0 | 1): Promise<void> {
  const cur = await loadFlow(deps, caller, flowId);
  const now = deps.clock.now();
  requireWritable(cur.flow, caller, now);
  try {
    await deps.store.setFlowActive(caller.user.orgId, flowId, active, caller.user.name, now, caller.user.id);
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
