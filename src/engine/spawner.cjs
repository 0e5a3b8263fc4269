// The spawner: a small, long-lived helper process that the executor starts once (spawnerExecutor.ts), so that
// forking a task copies this process's page tables (~1 ms) rather than the service's (~180 MB, 2-3 ms).
// It only spawns, signals a task's process group when asked, relays output (utf8-decoded) and reports each
// exit; every decision (timeouts, kills, retries) and every store write stays in the service. It loads only
// node core modules, and exits when the service is gone, leaving the tasks running for recovery to find.
'use strict';
const { spawn } = require('node:child_process');
const { closeSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { StringDecoder } = require('node:string_decoder'); // already loaded by node's own streams

/** After a process exits, how long its pipes may stay open (a grandchild holding them) before we stop waiting. */
const PIPE_DRAIN_MS = 50;
/** Batches sent but not yet written to the channel before we stop reading the tasks' pipes (back-pressure). */
const MAX_UNSENT = 16;

/**
 * Every fd above 2 without close-on-exec was inherited from the service (which inherited it from whatever
 * started it): closed at start, so that tasks, which may run as another user, get nothing but their stdio.
 * Node marks its own fds close-on-exec, the IPC channel included. The same rule as src/startup/inheritedFds.ts.
 */
function closeInheritedFds() {
  let fds;
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  for (const name of fds) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
      if (flags && (parseInt(flags[1], 8) & 0o2000000) === 0) closeSync(fd);
    } catch {
      /* gone meanwhile (the directory listing's own fd) */
    }
  }
}
closeInheritedFds();

/** id -> { pid, child, reaped, open, code, signal, drainTimer, decoders } */
const procs = new Map();
let queue = [];
let flushQueued = false;
let unsent = 0;
let paused = false;

const now = () => {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
};

// Everything for the service goes out in one message per event-loop turn: an exit and the end of its
// pipes, or several tasks' output, cost one write and one 'message' event in the service.
function post(m) {
  queue.push(m);
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

function flush() {
  flushQueued = false;
  const batch = queue;
  queue = [];
  if (batch.length === 0 || !process.connected) return;
  unsent++;
  process.send(batch, onSent);
  // A service slower than its tasks' output: stop reading their pipes, as a direct reader would, so that
  // the tasks block on write instead of this process buffering without bound.
  if (unsent > MAX_UNSENT && !paused) setPaused(true);
}

function onSent() {
  unsent--;
  if (paused && unsent <= MAX_UNSENT / 2) setPaused(false);
}

function setPaused(on) {
  paused = on;
  for (const p of procs.values()) {
    for (const s of [p.child.stdout, p.child.stderr]) {
      if (s.destroyed) continue;
      if (on) s.pause();
      else s.resume();
    }
  }
}

/** Field 22 of /proc/<pid>/stat (start time since boot), the service's guard against pid reuse. */
function procStart(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Attempts that ran longer than this get a full /proc scan at their end (pids may have wrapped around). */
const FULL_SCAN_AFTER_MS = 5_000;

/**
 * SIGKILLs every process whose environment holds `marker` (NAME=value) exactly: what is left of an attempt
 * outside its process group (setsid, double fork). Only pids handed out since the attempt's leader are
 * read (one /proc/<pid>/environ read costs ~0.05 ms), unless the attempt ran long or the pid counter
 * wrapped. The same rule as killMarkedSince in procs.ts (this file loads nothing of the app).
 */
function killMarked(marker, leaderPid, startedMs) {
  if (!marker) return;
  const entry = Buffer.from(marker);
  let last = 0;
  try {
    last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'latin1'));
  } catch {
    /* no such file: scan everything */
  }
  const full = !(last > 0) || Date.now() - startedMs >= FULL_SCAN_AFTER_MS;
  const wrapped = last < leaderPid;
  // The common case costs one read: no process at all was made since the leader (a task that forks
  // nothing), or only a few, which are read one by one instead of listing /proc.
  if (!full && last === leaderPid) return;
  if (!full && !wrapped && last - leaderPid <= FEW_PIDS) {
    for (let pid = leaderPid + 1; pid <= last; pid++) if (pid !== process.pid) killIfMarked(pid, entry);
    return;
  }
  let names;
  try {
    names = readdirSync('/proc');
  } catch {
    return;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    if (!full && (wrapped ? pid < leaderPid && pid > last : pid < leaderPid || pid > last)) continue;
    killIfMarked(pid, entry);
  }
}

/** Pids made since the leader read one by one rather than by listing /proc. */
const FEW_PIDS = 64;

function killIfMarked(pid, entry) {
  let env;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return; // gone, or another user's
  }
  for (let i = env.indexOf(entry); i !== -1; i = env.indexOf(entry, i + 1)) {
    const end = i + entry.length;
    if ((i === 0 || env[i - 1] === 0) && (end === env.length || env[end] === 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      return;
    }
  }
}

function signalGroup(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    /* ESRCH: the group has no members left */
  }
}

function start(m) {
  let child;
  try {
    // A grouped run (m.procs) is gated on its stdin: it waits there until it is in its control group.
    const opts = { cwd: m.cwd, env: m.env, detached: true, stdio: [m.procs ? 'pipe' : 'ignore', 'pipe', 'pipe'] };
    // Another user's task (the service is root): libuv drops the supplementary groups, then sets gid and uid.
    if (m.uid != null && m.gid != null) Object.assign(opts, { uid: m.uid, gid: m.gid });
    child = spawn(m.file, m.args, opts);
  } catch (e) {
    post({ t: 'f', id: m.id, error: e.message, code: e.code ?? null });
    return;
  }
  const hr = now();
  if (child.pid === undefined) {
    // ENOENT, EACCES, EMFILE...: node emits 'error' on the next tick and nothing else.
    child.once('error', (e) => post({ t: 'f', id: m.id, error: e.message, code: e.code ?? null }));
    return;
  }
  if (m.procs && !placeInGroup(m, child)) return;
  const p = { pid: child.pid, child, reaped: false, open: 2, code: null, signal: null, drainTimer: undefined, decoders: [], marker: m.marker, startedMs: Date.now() };
  procs.set(m.id, p);
  post({ t: 'p', id: m.id, pid: p.pid, procStart: procStart(p.pid), hr });
  for (const stream of [child.stdout, child.stderr]) {
    const dec = new StringDecoder('utf8');
    p.decoders.push(dec);
    stream.on('data', (b) => {
      const s = dec.write(b);
      if (s.length > 0) post({ t: 'o', id: m.id, s });
    });
    stream.on('end', () => {
      const s = dec.end();
      if (s.length > 0) post({ t: 'o', id: m.id, s });
    });
    stream.on('error', () => {}); // a read error ends the stream: 'close' follows
    stream.on('close', () => {
      if (--p.open === 0 && p.reaped) settle(m.id, p);
    });
    if (paused) stream.pause();
  }
  child.on('error', () => {}); // after a successful spawn only kill() failures land here, and we never use child.kill
  child.on('exit', (code, signal) => {
    p.reaped = true;
    p.code = code;
    p.signal = signal;
    if (p.open === 0) settle(m.id, p);
    else p.drainTimer = setTimeout(drainOver, PIPE_DRAIN_MS, m.id, p);
  });
}

/**
 * Writes the gated child's pid into its group's cgroup.procs files, then lets it run (closes its stdin).
 * When it cannot: kills it (it runs nothing yet) and reports the spawn failed.
 */
function placeInGroup(m, child) {
  child.stdin.on('error', () => {});
  try {
    for (const f of m.procs) writeFileSync(f, String(child.pid));
  } catch (e) {
    child.on('error', () => {});
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    for (const s of [child.stdin, child.stdout, child.stderr]) s.destroy();
    post({ t: 'f', id: m.id, error: `cannot place the process in its control group (${e.message})`, code: null });
    return false;
  }
  // destroy, not end: closing the fd now gives the gate its EOF at once; end() would shut the socket
  // down only on the next turn of the event loop (measured: ~0.3 ms more process life per grouped run).
  child.stdin.destroy();
  return true;
}

function drainOver(id, p) {
  // Not reading because the service is behind: the pipes are not known to be held, wait on.
  if (paused) p.drainTimer = setTimeout(drainOver, PIPE_DRAIN_MS, id, p);
  else settle(id, p);
}

function settle(id, p) {
  if (!procs.has(id)) return;
  procs.delete(id);
  clearTimeout(p.drainTimer);
  // A finished task leaves no process behind: what is left of its group (a daemonised child, a grandchild
  // holding the pipes) is killed outright, its unread output dropped. The group id cannot have been
  // reused: it still had members, or it is empty.
  signalGroup(p.pid, 'SIGKILL');
  if (p.open > 0) {
    for (const dec of p.decoders) {
      const s = dec.end();
      if (s.length > 0) post({ t: 'o', id, s });
    }
    p.child.stdout.destroy();
    p.child.stderr.destroy();
  }
  post({ t: 'x', id, code: p.code, signal: p.signal, hr: now() });
  // After the exit has gone out (the flush was queued first), and before any later message (a retry's
  // spawn) is read: the escapees of this attempt are dead before its successor or retry can start.
  if (p.marker) setImmediate(killMarked, p.marker, p.pid, p.startedMs);
}

process.on('message', (m) => {
  if (m.t === 's') start(m);
  else if (m.t === 'k') {
    // Only this process knows whether the leader was reaped: before that its pid, hence the group id,
    // cannot belong to anyone else. After it, settle() has already killed what was left.
    const p = procs.get(m.id);
    if (p && !p.reaped) signalGroup(p.pid, m.sig);
  }
});

// The service is gone (crash, kill -9, or its orderly close): exit without touching the tasks. Their
// process groups live on; the pipes' read ends close with this process, exactly as when the service
// itself held them, and the next service start recovers the attempts from the store.
process.on('disconnect', () => process.exit(0));
