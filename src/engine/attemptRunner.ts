// Starts one attempt of a task instance that the store already marked RUNNING: makes its working
// directory, builds the command and its clean environment, spawns it in its own process group and
// streams its output into the attempt's log. It decides nothing: the engine does.
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Timers } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { AttemptLog } from './attemptLog.js';
import { notStarted, type Executor, type RunningProcess } from './executor.js';
import type { ClaimedAttempt } from './steps.js';
import { attemptMarker, buildTaskCommand } from './taskCommand.js';

export interface LaunchedAttempt {
  proc: RunningProcess;
  log: AttemptLog;
  /** Removes the working directory (unless configured to keep it). */
  cleanUp(): void;
}

export interface LaunchDeps {
  store: Pick<Store, 'appendLog'>;
  config: Config;
  executor: Executor;
  timers: Timers;
  storeId: string;
}

export function launchAttempt(deps: LaunchDeps, c: ClaimedAttempt): LaunchedAttempt {
  const { config, executor } = deps;
  const workDir = path.join(config.dataDir, 'work', `${c.taskInstanceId}.${c.runNum}`);
  const log = new AttemptLog({
    store: deps.store,
    taskInstanceId: c.taskInstanceId,
    runNum: c.runNum,
    capBytes: config.logCapBytes,
    flushMs: config.logFlushMs,
    timers: deps.timers,
  });
  const marker = attemptMarker(deps.storeId, c.taskInstanceId, c.runNum);
  let proc: RunningProcess;
  try {
    mkdirSync(workDir, { recursive: true });
    const cmd = buildTaskCommand({
      type: c.def.type,
      renderedCmd: c.renderedCmd,
      workDir,
      pythonPath: config.pythonPath,
      params: c.params,
      context: {
        instanceId: c.instanceId,
        flowInstanceId: c.instanceId,
        taskId: c.taskId,
        taskInstanceId: c.taskInstanceId,
        runNum: c.runNum,
        triggerTime: c.triggerTime,
        triggerTimeText: c.triggerTimeText,
        timezone: config.timezone,
        dataDir: config.dataDir,
        storeId: deps.storeId,
      },
    });
    for (const f of cmd.files) writeFileSync(f.path, f.content);
    proc = executor.start({
      argv: cmd.argv,
      cwd: workDir,
      env: cmd.env,
      timeoutMs: c.def.timeoutSec * 1000,
      killGraceMs: config.killGraceMs,
      onOutput: (chunk) => log.write(chunk),
      marker,
    });
  } catch (error) {
    // The working directory or the script could not be written: report it as a failed spawn.
    proc = notStarted(error instanceof Error ? error.message : String(error));
  }
  return {
    proc,
    log,
    cleanUp: () => {
      if (!config.keepWorkDirs) void rm(workDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
