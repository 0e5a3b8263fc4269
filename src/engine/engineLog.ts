// The engine's lifecycle lines: one info line when a flow instance starts and ends and when a task attempt
// starts and ends, written from the engine's events (after each transition committed), never from inside
// a decision. Durations are measured in this process: an end whose start another process saw (a recovered
// attempt, an instance whose tasks ran on several workers) has no duration.
import type { Logger } from 'pino';
import type { EngineEmitter } from './events.js';

/** Start times (performance.now()) by key, for durations; bounded, so starts whose end happens elsewhere cannot pile up. */
export class StartTimes {
  private readonly hr = new Map<string, number>();
  constructor(private readonly max = 10_000) {}
  start(key: string, hr: number): void {
    this.hr.set(key, hr);
    if (this.hr.size > this.max) this.hr.delete(this.hr.keys().next().value as string);
  }
  /** Milliseconds since the key's start (and forgets it); null when this process did not see it start. */
  end(key: string, hr: number): number | null {
    const t = this.hr.get(key);
    if (t === undefined) return null;
    this.hr.delete(key);
    return hr - t;
  }
}

const ms = (d: number | null): number | null => (d === null ? null : Math.round(d * 1000) / 1000);

export function attachEngineLog(events: EngineEmitter, log: Logger): void {
  const instances = new StartTimes();
  const attempts = new StartTimes();
  events.on('instanceStarted', (e) => {
    instances.start(e.instanceId, e.hr);
    log.info({ instanceId: e.instanceId, flowId: e.flowId }, 'flow instance started');
  });
  events.on('instanceEnded', (e) => {
    const durationMs = ms(instances.end(e.instanceId, e.hr));
    log.info({ instanceId: e.instanceId, flowId: e.flowId, status: e.status, reason: e.reason, durationMs }, 'flow instance ended');
  });
  events.on('taskStarted', (e) => {
    attempts.start(`${e.taskInstanceId}:${e.runNum}`, e.spawnHr);
    log.info({ instanceId: e.instanceId, taskInstanceId: e.taskInstanceId, runNum: e.runNum, pid: e.pid }, 'task attempt started');
  });
  events.on('taskEnded', (e) => {
    const durationMs = ms(attempts.end(`${e.taskInstanceId}:${e.runNum}`, e.hr));
    log.info({ instanceId: e.instanceId, taskInstanceId: e.taskInstanceId, runNum: e.runNum, status: e.status, durationMs }, 'task attempt ended');
  });
}
