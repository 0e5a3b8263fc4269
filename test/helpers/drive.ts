// Drives task and instance states through the engine's own decisions (src/engine/steps.ts over the
// store's EngineTx), for store and API tests that need an instance RUNNING or a task ended without
// running a whole engine. Every write goes through the same checked, recorded transitions as the engine's.
import { testConfig } from '../../src/config.js';
import { noTransitions, type AttemptResult } from '../../src/domain/plan.js';
import { InstanceCache } from '../../src/engine/instanceCache.js';
import { claim, commitEnds, startFlow, type StepContext, type StepResult } from '../../src/engine/steps.js';
import type { Store } from '../../src/store/store.js';

export const ENGINE = 'e1';

/** `clock`: the engine's clock as a decision reads it again (StepContext.now); none by default. */
export function driver(store: Store, engineId = ENGINE, clock?: () => number) {
  let slots = 0;
  const ctx: StepContext = {
    store,
    config: testConfig({ hostName: 'h' }),
    cache: new InstanceCache('UTC'),
    engineId: () => engineId,
    freeSlots: () => slots,
    ...(clock ? { now: clock } : {}),
  };
  return {
    /** Starts the flow's next due instance (claims nothing); its id, or null when none may start. */
    async startInstance(flowId: number, now: number): Promise<string | null> {
      slots = 0;
      const r = await startFlow(ctx, flowId, now);
      return r.instancesStarted[0]?.id ?? null;
    },
    /** Starts attempt runNum+1 of one task instance (READY or due RERUN), with banner `== <id> ==\n`. */
    async startTask(taskInstanceId: string, now: number, banner?: string): Promise<number> {
      return store.engineTx(async (tx) => {
        const [t] = await tx.tasks([taskInstanceId]);
        if (!t) throw new Error(`no task instance ${taskInstanceId}`);
        const runNum = t.runNum + 1;
        const plan = noTransitions();
        plan.tasks.push({ id: t.id, instanceId: t.instanceId, from: t.status, to: 'RUNNING', dueAt: null, start: { runNum, host: 'h', engineId, banner: banner ?? `== ${t.id} ==\n` } });
        await tx.apply(plan, now, engineId);
        return runNum;
      });
    },
    /** Claims up to n ready task instances, as an engine with n free slots would. */
    async claim(now: number, n: number): Promise<StepResult> {
      slots = n;
      try {
        return await claim(ctx, now);
      } finally {
        slots = 0;
      }
    },
    /** Commits the end of attempt runNum (claims nothing). */
    async endTask(
      taskInstanceId: string,
      runNum: number,
      status: AttemptResult['status'],
      now: number,
      opts: { logTail?: string; exitCode?: number | null; owner?: string } = {},
    ): Promise<StepResult> {
      slots = 0;
      const exitCode = opts.exitCode !== undefined ? opts.exitCode : status === 'SUCCESS' ? 0 : status === 'FAIL' ? 1 : null;
      return commitEnds(
        ctx,
        [
          {
            taskInstanceId,
            runNum,
            ownerEngineId: opts.owner ?? engineId,
            result: { status, exitCode, signal: null, note: null },
            logTail: opts.logTail ?? '',
            logTailAtLineStart: true,
            exitedHr: 0,
            exitSeenHr: 0,
          },
        ],
        now,
      );
    },
  };
}
