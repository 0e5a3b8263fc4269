// What every client command shares: the connection flags (--url, credentials, --user/--org, --json),
// the SDK client they make, output (a human view, or the answer's data as JSON with --json), and the
// exit codes: 0 done, 1 the run failed or was cancelled, 2 a usage error, 3 the API refused or was unreachable.
import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { BatchflowApiError, createClient, type BatchflowClient } from '../../client/index.js';
import { credentialsOf } from '../authCommands.js';

export const EXIT = { ok: 0, runFailed: 1, usage: 2, api: 3 } as const;

/** A usage error found by a command itself (a bad --param, a bad time): exit 2 with its message. */
export class UsageError extends Error {}

export interface Connection {
  url?: string;
  port?: string;
  dataDir?: string;
  accessKey?: string;
  secretKey?: string;
  user?: string;
  org?: string;
  json?: boolean;
}

/** Adds the connection flags to a client command. */
export function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the service (default BATCHFLOW_URL or http://127.0.0.1:8080)')
    .option('--port <n>', 'the service port on 127.0.0.1 (default 8080)')
    .option('--data-dir <dir>', 'where bootstrap-credentials.json is (default ./data, or BATCHFLOW_DATA_DIR)')
    .option('--access-key <key>', 'sign as this app (default: the bootstrap credentials, or BATCHFLOW_ACCESS_KEY)')
    .option('--secret-key <secret>', "the app's secret key (or BATCHFLOW_SECRET_KEY)")
    .option('--user <userId>', 'act as this user (default: the bootstrap user)')
    .option('--org <orgId>', 'in this organization (default: the bootstrap organization)')
    .option('--json', 'print the answer as JSON instead of the human view');
}

export function clientOf(o: Connection): BatchflowClient {
  const config = loadConfig({ dataDir: o.dataDir, port: o.port }, process.env, { dataDir: '--data-dir', port: '--port' });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const baseUrl = o.url ?? process.env.BATCHFLOW_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  const creds = credentialsOf(o, config);
  return createClient({
    baseUrl,
    accessKey: creds?.accessKey,
    secretKey: creds?.secretKey,
    userId: o.user ?? creds?.userId ?? 'u-admin',
    orgId: o.org ?? creds?.orgId ?? 'o-default',
  });
}

/** Prints `data` as JSON (--json) or through the human view. */
export function output(o: Connection, data: unknown, human: (d: never) => string): void {
  const text = o.json ? JSON.stringify(data, null, 2) : human(data as never);
  if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The exit code and one line for an error a client command ended with. */
export function describeFailure(e: unknown): { code: number; line: string } | null {
  if (e instanceof UsageError) return { code: EXIT.usage, line: `batchflow: ${e.message}` };
  if (e instanceof BatchflowApiError) return { code: EXIT.api, line: `batchflow: ${e.operation} refused: ${e.code} ${e.msg}` };
  if (e instanceof TypeError && /fetch failed/.test(e.message)) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { code: EXIT.api, line: `batchflow: cannot reach the service: ${cause?.code ?? cause?.message ?? e.message}` };
  }
  return null;
}

/** Epoch ms from --at: digits (epoch ms), or a date/time text (ISO, or "yyyy-MM-dd HH:mm" taken as local time). */
export function parseAt(v: string): number {
  if (/^\d{10,15}$/.test(v)) return Number(v);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(v) ? v.replace(' ', 'T') : v);
  if (Number.isNaN(ms)) throw new UsageError(`--at must be epoch milliseconds or a date and time (2026-12-03T10:15, "2026-12-03 10:15"), got "${v}"`);
  return ms;
}

export function parseParam(v: string, all: Array<{ key: string; value: string }> = []): Array<{ key: string; value: string }> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new UsageError(`--param must be key=value, got "${v}"`);
  return [...all, { key: v.slice(0, eq), value: v.slice(eq + 1) }];
}

export function flowIdOf(v: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`a flow id is a number, got "${v}"`);
  return Number(v);
}

export const formatMs = (ms: number | null): string => {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
};
