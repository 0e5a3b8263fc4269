// `redocly lint` (its built-in recommended rules, no config, nothing switched off) on the document the
// service serves at /openapi.json: no errors and no warnings. Path keys hold no query (the alias paths),
// every signed operation names the apim-* security schemes, servers and license are declared.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeWorld, type World } from '../helpers/world.js';

const run = promisify(execFile);
const REDOCLY = path.resolve(import.meta.dirname, '../../node_modules/@redocly/cli/bin/cli.js');

let w: World;
let dir: string;
beforeAll(async () => {
  w = await makeWorld();
  dir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-redocly-'));
});
afterAll(async () => {
  await w.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: Array<{ pointer: string }>;
}

it('redocly lint reports no errors and no warnings on the served /openapi.json', async () => {
  const res = await w.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  const file = path.join(dir, 'openapi.json');
  writeFileSync(file, res.body);
  // Run from the temp dir: no redocly.yaml of the repository applies, only the recommended rules.
  const out = await run(process.execPath, [REDOCLY, 'lint', file, '--format=json', '--max-problems=1000'], { cwd: dir, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } }).catch(
    (e: { stdout?: string; stderr?: string; code?: number }) => e,
  );
  const stdout = out.stdout ?? '';
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Problem[] };
  const shown = report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
  expect(shown.filter((p) => p.startsWith('error')), 'redocly errors').toEqual([]);
  expect(shown, 'redocly warnings').toEqual([]);
  expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
}, 120_000);
