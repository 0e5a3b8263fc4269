// Recovery (contract §5): the attempts of engines that are gone. An engine is gone when its lease ran out,
// when it stopped or was taken over with attempts still open, or when it ran on this host and its process
// no longer exists (this engine's own previous life, after a crash: no need to wait for the lease). Its
// live row is first marked expired (a guarded write: a heartbeat that comes first keeps it alive), then
// each open attempt is closed as LOST, but only after what is left of its processes on this host (found
// by the recorded group, pid-reuse guarded, and by the marker carrying this store's id) is killed, so an
// attempt and its retry never overlap. Processes of another host, another store or a live engine are never
// touched.
import type { Clock } from '../domain/clock.js';
import type { EngineRecord, OpenAttempt, Store } from '../store/store.js';
import type { Host } from './host.js';
import type { PendingEnd } from './steps.js';
import { attemptMarker } from './taskCommand.js';

export interface RecoveryDeps {
  store: Store;
  clock: Clock;
  host: Host;
  storeId: string;
  killGraceMs: number;
}

/** Why an engine counts as gone, or null while it may still run. */
export function goneReason(e: EngineRecord, host: Host, now: number): string | null {
  if (e.state === 'stopped') return 'it stopped';
  if (e.state === 'expired') return 'its lease expired';
  if (e.leaseUntil < now) return `its lease expired at ${new Date(e.leaseUntil).toISOString()}`;
  if (host.isEngineAlive(e) === false) return `its process ${e.pid} on ${e.host} is gone`;
  return null;
}

/** Gone engines other than `selfId` that still hold open attempts (or are still marked live). */
export async function goneEngines(d: RecoveryDeps, selfId: string): Promise<Array<{ engine: EngineRecord; why: string }>> {
  const now = d.clock.now();
  const out: Array<{ engine: EngineRecord; why: string }> = [];
  for (const e of await d.store.listEngines()) {
    if (e.id === selfId) continue;
    const why = goneReason(e, d.host, now);
    if (why) out.push({ engine: e, why });
  }
  return out;
}

/**
 * Takes over a gone engine: marks it expired (unless it renewed meanwhile: then null) and returns its
 * open attempts.
 */
export async function takeOver(d: RecoveryDeps, e: EngineRecord): Promise<OpenAttempt[] | null> {
  if (e.state === 'live' && !(await d.store.expireEngine(e.id, e.heartbeatAt, d.clock.now()))) return null;
  return d.store.listOpenAttemptsOf(e.id);
}

/** Kills what is left of the attempt on this host, then says how it ended: LOST, with the log line. */
export async function recoverAttempt(d: RecoveryDeps, a: OpenAttempt, why: string): Promise<PendingEnd> {
  let killed: number[] = [];
  let where: string;
  if (a.host === d.host.name) {
    try {
      ({ killed } = await d.host.killAttempt({ pid: a.pid, pgid: a.pgid, procStart: a.procStart, marker: attemptMarker(d.storeId, a.taskInstanceId, a.runNum) }, d.killGraceMs));
      where = killed.length ? `killed its leftover processes ${killed.join(', ')}` : 'no process of it was left';
    } catch (e) {
      where = `its processes could not be checked (${e instanceof Error ? e.message : String(e)})`;
    }
  } else {
    where = `it ran on host ${a.host}, whose processes this host cannot check`;
  }
  const note = `attempt lost: its engine ${a.engineId} (host ${a.host}, pid ${a.pid ?? 'unknown'}) is gone (${why}); recovered at ${new Date(d.clock.now()).toISOString()}; ${where}`;
  return {
    taskInstanceId: a.taskInstanceId,
    runNum: a.runNum,
    ownerEngineId: a.engineId,
    result: { status: 'LOST', exitCode: null, signal: null, note },
    logTail: '',
    logTailAtLineStart: false,
    exitedHr: NaN,
    exitSeenHr: NaN,
    recovered: { killed },
  };
}
