// Starts one attempt of a task instance that the store already marked RUNNING: picks its OS user, makes its
// working directory, builds the command and its clean environment, spawns it in its own process group and
// streams its output into the attempt's log. It decides nothing: the engine does.
import type { Config } from '../config.js';
import type { Timers } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { AttemptLog } from './attemptLog.js';
import { notStarted, type Executor, type RunningProcess } from './executor.js';
import type { ClaimedAttempt } from './steps.js';
import { attemptMarker, buildTaskCommand } from './taskCommand.js';
import type { TaskUsers } from './taskUsers.js';
import type { WorkDirs } from './workDirs.js';

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
  users: TaskUsers;
  workDirs: WorkDirs;
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
  let proc: RunningProcess;
  let made = false;
  try {
    if (!choice.ok) throw new Error(choice.error);
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
