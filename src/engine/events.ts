// The engine's typed events. Tests, logs and benchmarks subscribe to these; nobody reads engine internals.
// `hr` is performance.now() at the moment of the event (sub-millisecond latency measurements). Every event
// about a transition is emitted only after that transition is committed to the store.
import { EventEmitter } from 'node:events';
import type { FlowInstanceStatus, TaskInstanceStatus } from '../domain/status.js';

export interface EngineEvents {
  instanceStarted: [{ instanceId: string; flowId: number; at: number; hr: number }];
  instanceEnded: [{ instanceId: string; flowId: number; status: FlowInstanceStatus; reason: string | null; at: number; hr: number }];
  /**
   * The attempt's process was spawned and the engine learned its pid (0: it could not start). `spawnHr`: when
   * the engine asked for the spawn (its RUNNING status already committed); `spawnedHr`: when spawn()
   * returned, in the spawner or in this process (libuv's fork + exec wait lies before it); `hr`: now.
   */
  taskStarted: [{ instanceId: string; taskInstanceId: string; runNum: number; pid: number; at: number; spawnHr: number; spawnedHr: number; hr: number }];
  /**
   * The attempt's process ended (`exitSeenHr`: when the process that reaped it saw the exit and its pipes
   * closed; `exitedHr`: when the engine learned it) and its end is committed; `status`
   * is what the task instance became. Emitted before the instanceEnded the same commit may cause and before
   * any successor it starts, so a listener sees every end of an instance before the instance's end.
   */
  taskEnded: [{ instanceId: string; taskInstanceId: string; runNum: number; status: TaskInstanceStatus; exitSeenHr: number; exitedHr: number; at: number; hr: number }];
  /**
   * A decision failed (a store error, a stale read...): logged, and tried again with backoff from the
   * store's state. Not named 'error' on purpose: an EventEmitter throws an 'error' nobody listens to.
   */
  stepFailed: [{ where: string; error: unknown; failures: number }];
  /** A work-loop item ran (`where`: its key, as in stepFailed), failed or not, for `ms` of wall-clock time. */
  stepDone: [{ where: string; ms: number; ok: boolean }];
  /** A decision's store transaction (one engineTx) committed (`ok`) or failed, after `ms` from its start. */
  txDone: [{ ms: number; ok: boolean }];
  /** The engine registered in the store under this id (at start, and again after losing its lease). */
  registered: [{ engineId: string }];
  /** This engine gave up its identity: another engine took over, or it fenced itself (lease ran out unrenewed). */
  leaseLost: [{ engineId: string; why: 'taken over' | 'fenced' }];
  /** Recovery found and closed an attempt whose owner died. */
  attemptRecovered: [{ taskInstanceId: string; runNum: number; killed: number[] }];
}

export class EngineEmitter extends EventEmitter<EngineEvents> {}
