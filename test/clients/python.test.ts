// A client in Python's standard library only (test/clients/batchflow_client.py) signs per contract §9 and
// calls every operation of both API versions of a real `batchflow serve` (test/clients/every_operation.py).
// The list of operations comes from the registry, so a new operation fails here until the script calls it.
// Also: the Python signing functions agree with the service's on vectors (the docstring's among them),
// and the script exits non-zero when the service refuses it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/api/operations/index.js';
import { API_VERSIONS } from '../../src/api/versions.js';
import { requestSignature, tokenEncryption } from '../../src/domain/signature.js';
import { BOOTSTRAP_CREDENTIALS_FILE } from '../../src/startup/bootstrapApp.js';
import { ChildServer, freePort, tempDir, waitFor } from '../engine/harness.js';

const PYTHON = '/usr/bin/python3';
const HERE = import.meta.dirname;
const ROOT = path.resolve(HERE, '../..');
const hasPython = existsSync(PYTHON);
if (!hasPython) console.warn(`SKIPPED test/clients/python.test.ts: ${PYTHON} is missing, the Python client is untested`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function python(args: string[], opts: { stdin?: string; env?: Record<string, string>; deadlineMs?: number } = {}): Promise<Run> {
  const deadlineMs = opts.deadlineMs ?? 50_000;
  const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
  const proc = spawn(PYTHON, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdin.end(opts.stdin ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`python3 ${args.join(' ')} did not exit within ${deadlineMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, deadlineMs);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Line {
  version: string;
  operation: string;
  code: number | null;
  msg?: string;
}
const parseLines = (out: string): Line[] => out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);

describe.skipIf(!hasPython)('the Python standard-library client', () => {
  let dataDir: string;
  let server: ChildServer;
  let credentials: string;

  beforeAll(async () => {
    dataDir = tempDir('batchflow-pyclient-');
    server = new ChildServer(dataDir, freePort());
    await server.start();
    credentials = path.join(dataDir, BOOTSTRAP_CREDENTIALS_FILE);
    await waitFor(async () => existsSync(credentials), 20_000, 'the bootstrap credentials file');
  }, 40_000);

  afterAll(async () => {
    if (server?.proc) await server.stop('SIGTERM');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs as the service verifies (the docstring vectors, a URL-encoded unicode query, a raw body)', async () => {
    const cases = [
      { token: 'tok', query: 'action=get&flowId=42&userId=u1&orgId=o1', params: [['action', 'get'], ['flowId', '42'], ['userId', 'u1'], ['orgId', 'o1']], body: '', ts: '1700000000000', secret: 'sec' },
      { token: 'tok', query: 'action=trigger&userId=u1&orgId=o1', params: [['action', 'trigger'], ['userId', 'u1'], ['orgId', 'o1']], body: '{"flowId": 42, "triggerTime": 1700000000000}', ts: '1700000000001', secret: 'sec' },
      { token: 'T0k+/=', query: 'orgId=o%201&expression=caf%C3%A9%20%E2%98%95&action=getMyFlow', params: [['orgId', 'o 1'], ['expression', 'café ☕'], ['action', 'getMyFlow']], body: '{"dir_name": "ünï ☕", "parent_id": "x"}', ts: '1712345678901', secret: 'S3cr€t' },
    ];
    const script = [
      'import json, sys',
      "sys.path.insert(0, 'test/clients')",
      'from batchflow_client import request_signature, token_encryption',
      'for c in json.load(sys.stdin):',
      "    print(request_signature(c['token'], [tuple(p) for p in c['params']], c['body'].encode('utf-8'), c['ts'], c['secret']))",
      "print(token_encryption('ak-1', 1700000000000, 'sec'))",
    ].join('\n');
    const run = await python(['-c', script], { stdin: JSON.stringify(cases) });
    expect(run.code, run.stderr).toBe(0);
    const want = [...cases.map((c) => requestSignature({ accessToken: c.token, rawQuery: c.query, rawBody: c.body, timestamp: c.ts, appSecret: c.secret })), tokenEncryption('ak-1', '1700000000000', 'sec')];
    expect(run.stdout.trim().split('\n')).toEqual(want);
    // The vectors the client's docstring shows Python users.
    expect(want.slice(0, 2)).toEqual(['f737063ac0e578e42f68fdc4b16ac08edf88aa9dfd1754e4a6173b2ffcb4875a', '8001dac91123ca64f1d477284e642e3d948d85c241a1c85d500bab8fe44f0dfa']);
  });

  it('calls every operation of both versions, each answering code 0', async () => {
    const run = await python(['test/clients/every_operation.py', '--url', server.client.url, '--credentials', credentials]);
    const lines = parseLines(run.stdout);
    expect(run.code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(lines.filter((l) => l.code !== 0), run.stdout).toEqual([]);
    const seen = new Set(lines.map((l) => `${l.version} ${l.operation}`));
    const expected = API_VERSIONS.flatMap((v) => OPERATIONS.filter((op) => !op.versions || op.versions.includes(v.name)).map((op) => `${v.name} ${op.method} /${op.resource}?action=${op.action}`));
    expect(expected.length).toBeGreaterThan(30);
    for (const key of expected) expect(seen, `every_operation.py never called ${key}`).toContain(key);
    expect(seen).toContain('apim POST /apim-token-service/v2.0/token/get');
    expect(seen).toContain('apim POST /apim-token-service/v2.0/token/refresh');
  }, 55_000);

  it('exits non-zero, naming the code, when the service refuses it (a wrong secret)', async () => {
    const { accessKey } = JSON.parse(readFileSync(credentials, 'utf8')) as { accessKey: string };
    const run = await python(['test/clients/every_operation.py', '--url', server.client.url], { env: { BATCHFLOW_ACCESS_KEY: accessKey, BATCHFLOW_SECRET_KEY: 'not-the-secret' }, deadlineMs: 20_000 });
    expect(run.code, run.stderr).toBe(1);
    expect(parseLines(run.stdout)).toEqual([expect.objectContaining({ version: 'apim', operation: 'POST /apim-token-service/v2.0/token/get', code: 1003 })]);
  }, 30_000);
});
