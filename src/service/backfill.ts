// Backfill (contract §12): one instance per fire of a cron in [fromTime, toTime] — the flow's own for a
// periodic flow, a given 7-field cron for a manual one (required there) — each exactly a trigger at that
// fire time (same builder as the scheduler's), all written in one transaction; minutes that already have
// an instance are skipped and listed. They then run one at a time in trigger-time order, as any others.
import { validateQuartzCron } from '../domain/cron.js';
import { DomainError, invalid, notFound, outOfRange, StaleError } from '../domain/errors.js';
import { BACKFILL_COUNT_CAP, BACKFILL_MAX, firesInRange } from '../domain/fires.js';
import { buildFlowInstance } from '../domain/instances.js';
import type { Param } from '../domain/types.js';
import { requireWritable } from './access.js';
import type { Caller, Deps } from './context.js';
import { loadFlow } from './flows.js';
import { show } from './input.js';
import { requireMillis } from './triggers.js';

export interface BackfillInput {
  flowId: number;
  fromTime: number;
  toTime: number;
  /** Required for a manual flow; for a periodic one it replaces the flow's cron for this call. */
  cron?: string;
  overrides?: Param[];
}

export interface BackfillAnswer {
  /** The instances made, in trigger-time order. */
  flowInstanceIds: string[];
  /** The ids of the minutes that had an instance already, in trigger-time order. */
  skipped: string[];
}

export async function backfillFlow(deps: Deps, caller: Caller, input: BackfillInput): Promise<BackfillAnswer> {
  const { store, config, clock } = deps;
  const fw = await loadFlow(deps, caller, input.flowId);
  const now = clock.now();
  requireWritable(fw.flow, caller, now);
  if (fw.tasks.length === 0) throw new DomainError('noTask', `workflow ${input.flowId}`);
  requireMillis('fromTime', input.fromTime);
  requireMillis('toTime', input.toTime);
  if (input.toTime < input.fromTime) throw invalid('toTime', `Invalid parameter: toTime ${input.toTime} is before fromTime ${input.fromTime}`);
  const cron = cronOf(input.cron, fw.flow.type, fw.flow.freq, input.flowId);
  const fires = firesInRange(cron, input.fromTime, input.toTime, config.timezone, BACKFILL_COUNT_CAP + 1);
  if (fires.length > BACKFILL_MAX) {
    const count = fires.length > BACKFILL_COUNT_CAP ? `more than ${BACKFILL_COUNT_CAP}` : String(fires.length);
    throw outOfRange('toTime', `Invalid parameter: the range holds ${count} fires of "${cron}"; a backfill makes at most ${BACKFILL_MAX} instances per call: split the range`);
  }
  const overrides = input.overrides ?? [];
  const inputs = fires.map((triggerTime) =>
    buildFlowInstance({ fw, triggerTime, now, timezone: config.timezone, owner: caller.user.name, kind: 'backfill', overrides, startTaskId: null, runSet: null }),
  );
  try {
    const done = await store.createFlowInstances(inputs.map((i) => ({ ...i, lockUserId: caller.user.id })));
    return { flowInstanceIds: done.created.map((i) => i.id), skipped: done.skipped };
  } catch (e) {
    if (e instanceof StaleError) throw notFound('Workflow', input.flowId);
    throw e;
  }
}

function cronOf(given: string | undefined, type: number, freq: string, flowId: number): string {
  const cron = given?.trim() ?? '';
  if (cron === '') {
    if (type === 1) return freq;
    throw invalid('cron', `Missing parameter: cron (workflow ${flowId} is not periodic: give the 7-field cron whose fires to backfill)`);
  }
  const problem = validateQuartzCron(cron);
  if (problem) throw invalid('cron', `Invalid parameter: cron ${show(cron)} is not a 7-field Quartz cron: ${problem}`);
  return cron;
}
