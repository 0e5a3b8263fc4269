// Rerun of an ended flow instance (contract §12): owners only, same id, trigger time and parameters; the
// store resets what the mode names and queues it (src/store/rerun.ts). The request names the instance and
// a mode; every refusal says why and changes nothing.
import { invalid, notFound, StaleError } from '../domain/errors.js';
import { RERUN_MODES, type RerunMode } from '../domain/status.js';
import { RerunRefusedError } from '../store/rerun.js';
import { requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { show } from './input.js';
import { loadInstance } from './instances.js';

export interface RerunAnswer {
  flowInstanceId: string;
  mode: RerunMode;
  /** The task instances that run again, in node order. */
  resetTaskInstIds: string[];
}

/** `mode` as sent: "failed" (the default when absent) or "all". */
export function rerunModeOf(v: unknown): RerunMode {
  if (v === undefined || v === null || v === '') return 'failed';
  if (typeof v === 'string' && (RERUN_MODES as readonly string[]).includes(v.trim())) return v.trim() as RerunMode;
  throw invalid('mode', `Invalid parameter: mode must be "failed" or "all", got ${show(v)}`);
}

export async function rerunInstance(deps: Deps, caller: Caller, id: string, mode: RerunMode): Promise<RerunAnswer> {
  const inst = await loadInstance(deps, caller, id);
  const fw = await deps.store.getFlow(caller.user.orgId, inst.flowId);
  // A rerun runs the workflow's stored version again: a deleted workflow has nothing to run it under.
  if (!fw) throw invalid('flowInstId', `Invalid parameter: the workflow ${inst.flowId} of flow instance ${id} was deleted; it cannot be rerun`);
  const now = deps.clock.now();
  requireWritable(fw.flow, caller, now);
  try {
    const done = await deps.store.rerunInstance({ orgId: caller.user.orgId, id, mode, at: now, userId: caller.user.id, userName: caller.user.name });
    return { flowInstanceId: done.instance.id, mode, resetTaskInstIds: done.reset };
  } catch (e) {
    if (e instanceof RerunRefusedError) throw invalid('flowInstId', `Invalid parameter: ${e.message}`);
    if (e instanceof StaleError) {
      // Deleted meanwhile, or another rerun won the race: say what it is now.
      const again = await deps.store.getFlowInstance(caller.user.orgId, id);
      if (!again) throw notFound('Flow instance', id);
      throw invalid('flowInstId', `Invalid parameter: flow instance ${id} is ${again.status} now; only an ended instance can be rerun`);
    }
    throw e;
  }
}
