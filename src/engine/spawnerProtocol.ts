// The messages between the executor (spawnerExecutor.ts) and its helper process (spawner.cjs), over the
// helper's IPC channel (node's JSON serialization). Types only: the helper is plain JavaScript and must
// load nothing of the app. The helper sends arrays: everything of one event-loop turn in one message.

/** To the helper, one message each. */
export type ToSpawner =
  /**
   * Spawn `file args` detached (a new process group), stdio ignore/pipe/pipe. `marker` (NAME=value, an entry
   * of env): at the process's end, every process still carrying it is killed, outside the group too.
   * `uid`/`gid` (both or neither): the user to run it as (the helper runs as the service's user, root).
   * `procs`: a grouped run (src/engine/cgroups.ts): `file args` is gated on its stdin, a pipe; the helper
   * writes the pid into each of these cgroup.procs files, then closes the pipe (on a failed write it kills
   * the process and reports `f`).
   */
  | { t: 's'; id: number; file: string; args: string[]; cwd: string; env: Record<string, string>; marker: string | null; uid: number | null; gid: number | null; procs: string[] | null }
  /** Signal process `id`'s group, unless its leader was already reaped. */
  | { t: 'k'; id: number; sig: NodeJS.Signals };

/** From the helper, in arrays. `hr` stamps are the helper's process.hrtime() in milliseconds. */
export type FromSpawner =
  /** Spawned: pid (= pgid) and /proc start time, `hr` when spawn() returned. */
  | { t: 'p'; id: number; pid: number; procStart: string | null; hr: number }
  /** Could not spawn (the error's message and errno code). */
  | { t: 'f'; id: number; error: string; code: string | null }
  /** Output of stdout or stderr, utf8-decoded, in the order read. */
  | { t: 'o'; id: number; s: string }
  /** Exited and both pipes closed (or given up on after 50 ms, leftovers of the group killed). */
  | { t: 'x'; id: number; code: number | null; signal: NodeJS.Signals | null; hr: number };
