// Starts one attempt of a task instance that the store already marked RUNNING: picks its OS user, makes its
// working directory, builds the command and its clean environment, spawns it in its own process group and
// streams its output into the attempt's log. It decides nothing: the engine does.
import type { Config } from '../config.js';
import type { Timers } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { runModeOf } from '../domain/runMode.js';
import { AttemptLog } from './attemptLog.js';
import { groupFor, type ResourceLimits } from './cgroups.js';
import { notStarted, type Executor, type RunningProcess } from './executor.js';
import type { ClaimedAttempt } from './steps.js';
import { attemptMarker, attemptMarkerValue, buildTaskCommand, type TaskCommand, type TaskCommandInput } from './taskCommand.js';
import { forKey, KEY_ENV, KEY_MARKER, KEY_PLACEHOLDER, KeyedRun, type KeyedRunDeps } from './keyedAttempt.js';
import type { RunMode } from '../domain/runMode.js';
import type { TaskUserChoice, TaskUsers } from './taskUsers.js';
import type { WorkDirs } from './workDirs.js';

export interface LaunchedAttempt {
  proc: RunningProcess;
  log: AttemptLog;
  /** Removes the working directory (unless configured to keep it). */
  cleanUp(): void;
  /** taskMode 2: the composite run of the keys (its processes running now, and the note with the counts). */
  keyed?: KeyedRun;
}

/** What a taskMode 2 attempt needs of the engine besides the executor (src/engine/keyedAttempt.ts). */
export type KeyedLaunchDeps = Pick<KeyedRunDeps, 'store' | 'now' | 'owner' | 'mayStartMore'>;

export interface LaunchDeps {
  store: Pick<Store, 'appendLog'>;
  config: Config;
  executor: Executor;
  timers: Timers;
  storeId: string;
  users: TaskUsers;
  workDirs: WorkDirs;
  /** cpu and memory limits with control groups (null: not enforced on this host). */
  limits?: ResourceLimits | null;
  /** taskMode 2 attempts (without it, one fails to start). */
  keyed?: KeyedLaunchDeps;
}

export function launchAttempt(deps: LaunchDeps, c: ClaimedAttempt): LaunchedAttempt {
  const { config, executor, workDirs } = deps;
  const workDir = workDirs.pathOf(c.taskInstanceId, c.runNum);
  // A doAs mapped to a user this host does not have fails this attempt (its log says why), not the service.
  const choice = deps.users.userFor(c.doAs);
  const user = choice.ok ? choice.user : null;
  const log = new AttemptLog({
    store: deps.store,
    taskInstanceId: c.taskInstanceId,
    runNum: c.runNum,
    capBytes: config.logCapBytes,
    flushMs: config.logFlushMs,
    timers: deps.timers,
  });
  const marker = attemptMarker(deps.storeId, c.taskInstanceId, c.runNum);
  const mode = runModeOf(c.def.runMode);
  if (mode.taskMode === 2) return launchKeyed(deps, c, mode, log, workDir, choice);
  let proc: RunningProcess;
  let made = false;
  try {
    if (!choice.ok) throw new Error(choice.error);
    const cmd = buildTaskCommand(commandInput(deps, c, workDir, c.renderedCmd));
    made = true;
    workDirs.make(workDir, cmd.files, user);
    proc = executor.start({
      argv: cmd.argv,
      cwd: workDir,
      env: cmd.env,
      timeoutMs: c.def.timeoutSec * 1000,
      killGraceMs: config.killGraceMs,
      onOutput: (chunk) => log.write(chunk),
      marker,
      user: user ? { uid: user.uid, gid: user.gid } : undefined,
      group: groupFor(deps.limits, c, mode),
    });
  } catch (error) {
    // No such user, or the working directory or the script could not be written: a failed spawn.
    proc = notStarted(error instanceof Error ? error.message : String(error));
  }
  return {
    proc,
    log,
    cleanUp: () => {
      if (made && !config.keepWorkDirs) void workDirs.remove(workDir, user);
    },
  };
}

/** What buildTaskCommand makes the attempt's command of. */
function commandInput(deps: LaunchDeps, c: ClaimedAttempt, workDir: string, renderedCmd: string): TaskCommandInput {
  const { config } = deps;
  return {
    type: c.def.type,
    renderedCmd,
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
  };
}

/**
 * taskMode 2 (contract §11): the attempt runs its keys (src/engine/keyedAttempt.ts) in one working
 * directory, each key's run a process group of its own with the attempt's environment plus BATCHFLOW_KEY,
 * `${key}` replaced by the key in its command (a PYTHON task whose script names `${key}` gets a script per
 * key), its own marker, and its own control group (with the task's cpu and memory limits, if any).
 */
function launchKeyed(deps: LaunchDeps, c: ClaimedAttempt, mode: RunMode, log: AttemptLog, workDir: string, choice: TaskUserChoice): LaunchedAttempt {
  const { config, workDirs } = deps;
  const user = choice.ok ? choice.user : null;
  if (!deps.keyed) return { proc: notStarted('taskMode 2 is not available to this engine'), log, cleanUp: () => {} };
  // `${key}` is left in the rendered command for taskMode 2 (steps.ts prepareStart), even where a
  // parameter is named `key`: each key's run replaces it.
  const template = c.renderedCmd;
  const perKeyScript = c.def.type === 'PYTHON' && template.includes(KEY_PLACEHOLDER);
  const scriptOf = (i: number) => `${workDir}/task.k${i + 1}.py`;
  const markerBase = attemptMarkerValue(deps.storeId, c.taskInstanceId, c.runNum);
  let base: TaskCommand | null = null;
  let made = false;
  const run = new KeyedRun(
    { ...deps.keyed, executor: deps.executor, timers: deps.timers, workerConcurrency: config.workerConcurrency, flushMs: config.logFlushMs },
    {
      taskInstanceId: c.taskInstanceId,
      runNum: c.runNum,
      keys: mode.keys,
      maxParallel: mode.maxParallel,
      timeoutSec: c.def.timeoutSec,
      successCode: c.def.successCode,
      log,
      prepare: (toRun) => {
        if (!choice.ok) throw new Error(choice.error);
        base = buildTaskCommand(commandInput(deps, c, workDir, template));
        made = true;
        workDirs.make(workDir, perKeyScript ? toRun.map((i) => ({ path: scriptOf(i), content: forKey(template, mode.keys[i]!) })) : base.files, user);
      },
      specOf: (i, onOutput) => {
        const cmd = base!;
        const key = mode.keys[i]!;
        const argv = (c.def.type === 'SHELL' ? cmd.argv.map((a) => forKey(a, key)) : perKeyScript ? [...cmd.argv.slice(0, -1), scriptOf(i)] : cmd.argv) as [string, ...string[]];
        // Internal names (marker, control group) use the 0-based key index; the log and script names count from 1.
        const marker = { name: KEY_MARKER, value: `${markerBase}/k${i}` };
        return {
          argv,
          cwd: workDir,
          env: { ...cmd.env, [KEY_ENV]: key, [marker.name]: marker.value },
          timeoutMs: 0, // the attempt's timeout is the composite's
          killGraceMs: config.killGraceMs,
          onOutput,
          marker,
          user: user ? { uid: user.uid, gid: user.gid } : undefined,
          // Each key's run is limited on its own (contract §11: the limits are of each run).
          group: groupFor(deps.limits, { taskInstanceId: c.taskInstanceId, runNum: c.runNum, keyIndex: i }, mode),
        };
      },
    },
  );
  return {
    proc: run,
    log,
    keyed: run,
    cleanUp: () => {
      if (made && !config.keepWorkDirs) void workDirs.remove(workDir, user);
    },
  };
}
