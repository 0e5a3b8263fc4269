// Starts one attempt of a task instance that the store already marked RUNNING: makes its working
// directory, builds the command and its clean environment, spawns it in its own process group, streams
// its output into the attempt's log, and records the process group as soon as its pid is known (it may
// arrive from the spawner a little after the spawn). It decides nothing: the engine does.
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import type { TaskDef, TaskInstance } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { AttemptLog } from './attemptLog.js';
import { notStarted, type Executor, type Outcome, type RunningProcess } from './executor.js';
import { attemptMarker } from './recovery.js';
import { buildTaskCommand } from './taskCommand.js';

export interface AttemptRequest {
  task: TaskInstance;
  def: TaskDef;
  runNum: number;
  renderedCmd: string;
  params: Map<string, string>;
  flowInstanceId: string;
  triggerTime: number;
  triggerTimeText: string;
}

export interface LaunchedAttempt {
  proc: RunningProcess;
  log: AttemptLog;
  /** Resolves once the process group is recorded in the store (awaited before the attempt is closed). */
  recorded: Promise<void>;
  /** Removes the working directory (unless configured to keep it). */
  cleanUp(): void;
}

export function launchAttempt(
  deps: { store: Store; config: Config; executor: Executor },
  req: AttemptRequest,
  onDone: (outcome: Outcome, exitedHr: number) => void,
): LaunchedAttempt {
  const { config, store, executor } = deps;
  const workDir = path.join(config.dataDir, 'work', `${req.task.id}.${req.runNum}`);
  const log = new AttemptLog({
    store,
    taskInstanceId: req.task.id,
    runNum: req.runNum,
    capBytes: config.logCapBytes,
    flushMs: config.logFlushMs,
  });
  let proc: RunningProcess;
  try {
    mkdirSync(workDir, { recursive: true });
    const cmd = buildTaskCommand({
      type: req.def.type,
      renderedCmd: req.renderedCmd,
      workDir,
      pythonPath: config.pythonPath,
      params: req.params,
      context: {
        instanceId: req.flowInstanceId,
        flowInstanceId: req.flowInstanceId,
        taskId: req.task.taskId,
        taskInstanceId: req.task.id,
        runNum: req.runNum,
        triggerTime: req.triggerTime,
        triggerTimeText: req.triggerTimeText,
        timezone: config.timezone,
        dataDir: config.dataDir,
      },
    });
    for (const f of cmd.files) writeFileSync(f.path, f.content);
    proc = executor.start({
      argv: cmd.argv,
      cwd: workDir,
      env: cmd.env,
      timeoutMs: req.def.timeoutSec * 1000,
      killGraceMs: config.killGraceMs,
      onOutput: (chunk) => log.write(chunk),
      marker: attemptMarker(req.task.id, req.runNum),
    });
  } catch (error) {
    // The working directory or the script could not be written: report it as a failed spawn.
    const message = error instanceof Error ? error.message : String(error);
    proc = notStarted(message);
  }
  // Crash recovery needs the group as soon as it is known (before that, it finds the attempt's processes
  // by their marker variable). `started` resolves before `done`, so this write is queued before the end's.
  const recorded = proc.started.then((s) => (s ? store.recordAttemptProcess(req.task.id, req.runNum, { pid: s.pid, pgid: s.pgid, procStart: s.procStart }) : undefined));
  proc.done.then((outcome) => onDone(outcome, performance.now()));
  return {
    proc,
    log,
    recorded,
    cleanUp: () => {
      if (!config.keepWorkDirs) void rm(workDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
