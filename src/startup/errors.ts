// Start-up failures a person can act on: bad configuration, a data directory or port already in use, a
// store that cannot be opened. Each carries a one-line message; the CLI prints it and exits 2, with no
// stack trace. Anything else that goes wrong at start-up is a bug and keeps its stack.

export class StartupError extends Error {
  override readonly name: string = 'StartupError';
}

/** Who holds a data directory, as its serve.json says (the lock itself names no one). */
export interface DataDirHolder {
  pid: number;
  host: string;
  /** null until the holder listens (it was started with port 0, or is still starting). */
  port: number | null;
  startedAt: string;
}

export class DataDirLockedError extends StartupError {
  override readonly name: string = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirHolder | null,
  ) {
    const who = holder ? `pid ${holder.pid}, ${holder.port === null ? 'not listening yet' : `port ${holder.port}`}` : 'holder unknown';
    super(`data directory ${dataDir} is in use by another batchflow server (${who})`);
  }
}

export class PortInUseError extends StartupError {
  override readonly name: string = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
    /** The listening process, found through /proc when it can be. */
    readonly holderPid: number | null,
  ) {
    super(`port ${port} on ${host} is in use (${holderPid === null ? 'holder unknown' : `pid ${holderPid}`})`);
  }
}

/** One line for an operational error (a Node system error or an SQLite error): its message and code. */
export function causeOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : '';
  return `${message}${code}`.replace(/\s*\n\s*/g, ' ');
}

/** Operational errors carry a string code (ENOENT, EACCES, SQLITE_CANTOPEN, ...); bugs usually do not. */
export function isOperational(err: unknown): boolean {
  return typeof (err as { code?: unknown } | null)?.code === 'string';
}

/** A database URL without its password, for messages. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
