// Every refused start of `batchflow serve` is one line on stderr naming what the user typed (the flag or
// the environment variable) or the cause, exit code 2, no stack trace, and nothing written.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { LOG_LEVELS } from '../../src/config.js';
import { tempDir } from '../engine/harness.js';
import { lines, runCli } from './cli.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

it.each<{ args: string[]; env: Record<string, string>; named: string }>([
  { args: ['--log-level', 'loud'], env: {}, named: '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"' },
  { args: ['--port', 'abc'], env: {}, named: '--port must be an integer, got "abc"' },
  { args: ['--concurrency', '0'], env: {}, named: '--concurrency must be between 1 and 4096, got 0' },
  { args: [], env: { BATCHFLOW_PORT: 'x' }, named: 'BATCHFLOW_PORT must be an integer, got "x"' },
  { args: [], env: { BATCHFLOW_LOG_LEVEL: 'loud' }, named: 'BATCHFLOW_LOG_LEVEL must be one of' },
  { args: ['--role', 'worker'], env: {}, named: 'the role worker (--role, BATCHFLOW_ROLE) needs a shared PostgreSQL store (--database-url)' },
  { args: ['--database-url', 'mysql://x'], env: {}, named: '--database-url must be a postgres:// URL, got "mysql://x"' },
])('serve with $args $env exits 2 with one line: $named', async ({ args, env, named }) => {
  const dataDir = dir();
  const run = await runCli(['serve', '--data', dataDir, ...args], env);
  expect(run.code).toBe(2);
  expect(lines(run.stderr)).toHaveLength(1);
  expect(run.stderr).toContain(`batchflow: ${named}`);
  expect(readdirSync(dataDir)).toEqual([]);
});

it('serve exits 2 with one line, the password left out, when PostgreSQL cannot be reached', async () => {
  const run = await runCli(['serve', '--port', '0', '--data', dir(), '--database-url', 'postgres://bf:s3cret@127.0.0.1:1/none']);
  expect(run.code).toBe(2);
  expect(lines(run.stderr)).toHaveLength(1);
  expect(run.stderr).toContain('batchflow: cannot open the PostgreSQL store postgres://bf:***@127.0.0.1:1/none: ');
  expect(run.stderr).not.toContain('s3cret');
});

it('serve exits 2 with one line naming the cause when the store cannot be opened', async () => {
  const dataDir = dir();
  mkdirSync(path.join(dataDir, 'batchflow.sqlite')); // a directory where the store file should be
  const run = await runCli(['serve', '--port', '0', '--data', dataDir]);
  expect(run.code).toBe(2);
  expect(lines(run.stderr)).toEqual([`batchflow: cannot open the store ${path.join(dataDir, 'batchflow.sqlite')}: unable to open database file (SQLITE_CANTOPEN)`]);
  expect(readdirSync(dataDir).sort()).toEqual(['batchflow.sqlite', 'serve.lock']);
});

it('serve exits 2 with one line when the data directory is not a directory', async () => {
  const file = path.join(dir(), 'plain-file');
  writeFileSync(file, '');
  const run = await runCli(['serve', '--port', '0', '--data', file]);
  expect(run.code).toBe(2);
  expect(lines(run.stderr)).toEqual([`batchflow: cannot use data directory ${file}: it exists and is not a directory`]);
});

it("the log levels accepted are pino's own and silent", () => {
  expect([...LOG_LEVELS].sort()).toEqual([...Object.keys(pino.levels.values), 'silent'].sort());
});
