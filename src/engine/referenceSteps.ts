// The engine's decisions about references (contract §10), each inside a store transaction: opening an
// instance's waits when it starts (bound at once when the referenced instance already succeeded), waking
// the waits an end of a referenced instance (or task instance) satisfies, in that end's own transaction,
// and the timer's check of waits past their deadline (or whose wake-up was missed). Plans are pure
// (src/domain/referenceWaits.ts); nothing here polls: the timer is armed at the next deadline.
import type { NewReferenceWait, TaskRow, Transitions } from '../domain/plan.js';
import { describeWindow, windowOfGapText } from '../domain/references.js';
import { isSatisfiedBy, planReferenceSatisfied, planReferenceTimeout, type ReferenceWaitView } from '../domain/referenceWaits.js';
import type { EngineTx } from '../store/store.js';
import type { CachedInstance } from './instanceCache.js';
import type { StepContext } from './steps.js';

/** Waits one end may wake at once (the rest: the next end, or the timer's check). */
const WAKE_LIMIT = 200;
/** Waits the timer's check looks at per run. */
export const CHECK_LIMIT = 200;

/** The waits of an instance that starts now, each bound already, and the rows of the satisfied ones' targets. */
export async function openReferences(ctx: StepContext, tx: EngineTx, ci: CachedInstance, now: number): Promise<{ waits: NewReferenceWait[]; targets: TaskRow[] }> {
  const waits: NewReferenceWait[] = [];
  const satisfiedTargets: string[] = [];
  // The targets as they stand: all INIT at a first start; after a rerun of the failed part (contract §12)
  // a reference whose targets all kept their SUCCESS is not waited on again.
  const rows = await tx.tasks([...new Set(ci.references.flatMap((s) => s.targets))]);
  const initial = new Set(rows.filter((r) => r.status === 'INIT').map((r) => r.id));
  for (const spec of ci.references) {
    if (!spec.targets.some((t) => initial.has(t))) continue;
    const w = windowOfGapText(ci.triggerTime, spec.cycleGap, ctx.config.timezone);
    const binding = await tx.referenceBinding(spec.refFlowId, spec.refTaskId, w.start, w.end);
    const ok = isSatisfiedBy(binding);
    if (ok) satisfiedTargets.push(...spec.targets);
    waits.push({
      instanceId: ci.id,
      nodeId: spec.nodeId,
      cycleGap: spec.cycleGap,
      flowId: ci.flowId,
      refFlowId: spec.refFlowId,
      refTaskId: spec.refTaskId,
      windowStart: w.start,
      windowEnd: w.end,
      deadline: now + ci.refTimeoutSec * 1000,
      targets: spec.targets,
      status: ok ? 'SUCCESS' : 'WAITING',
      boundId: binding?.instanceId ?? null,
      boundStatus: binding?.status ?? null,
    });
  }
  const satisfied = new Set(satisfiedTargets);
  return { waits, targets: rows.filter((r) => satisfied.has(r.id)) };
}

/**
 * An instance of `flowId` (trigger time `triggerTime`), or one of its task instances, just succeeded in
 * this transaction: the waits on it whose binding is now satisfied end SUCCESS and free their targets.
 * `apply` writes a plan and notes what it did in the step's result.
 */
export async function wakeDependents(tx: EngineTx, flowId: number, triggerTime: number, now: number, apply: (t: Transitions) => Promise<void>): Promise<void> {
  const waits = await tx.waitingReferencesOn(flowId, triggerTime, WAKE_LIMIT);
  for (const w of waits) await settleWait(tx, w, now, apply, null);
}

/** Re-derives one wait: satisfied -> its targets run; past its deadline -> the instance fails. */
async function settleWait(tx: EngineTx, w: ReferenceWaitView, now: number, apply: (t: Transitions) => Promise<void>, timeout: { ci: CachedInstance; tz: string } | null): Promise<void> {
  const binding = await tx.referenceBinding(w.refFlowId, w.refTaskId, w.windowStart, w.windowEnd);
  if (!isSatisfiedBy(binding) && (timeout === null || now < w.deadline)) return;
  const instance = await tx.instance(w.instanceId); // locks the dependent instance (PostgreSQL)
  // Ended meanwhile (another wait of it timed out in this same step, say): its waits ended with it.
  if (!instance || instance.status !== 'RUNNING') return;
  const targets = await tx.tasks(w.targets);
  // A wake-up gets here only satisfied; the timer's check asks the timeout's plan, which satisfies a wait
  // found satisfied meanwhile.
  const plan =
    timeout === null
      ? planReferenceSatisfied({ instance, wait: w, binding: binding!, targets }, now)
      : planReferenceTimeout(
          {
            instance,
            wait: w,
            binding,
            targets,
            refName: timeout.ci.referenceName(w.nodeId),
            windowText: describeWindow({ start: w.windowStart, end: w.windowEnd }, timeout.tz),
            timeoutSec: timeout.ci.refTimeoutSec,
          },
          now,
        );
  await apply(plan);
}

/**
 * The timer's check: waits past their deadline fail their instance (unless satisfied meanwhile), and with
 * `all`, every waiting one is re-derived (the safety net for a wake-up that was missed).
 */
export async function checkReferences(ctx: StepContext, tx: EngineTx, now: number, all: boolean, apply: (t: Transitions) => Promise<void>): Promise<number> {
  const waits = await tx.expiredReferences(all ? Number.MAX_SAFE_INTEGER : now, CHECK_LIMIT);
  for (const w of waits) {
    const ci = await ctx.cache.get(w.instanceId, tx);
    await settleWait(tx, w, now, apply, { ci, tz: ctx.config.timezone });
  }
  return waits.length;
}
