// A client generated from the served /openapi.json, as a user would make one: openapi-typescript writes
// the `paths` type, openapi-fetch calls the alias paths the document describes (`/flows/trigger`, no
// `?action=`), a middleware signs each request (contract §9) over the final URL's query and body. Against
// a real server in this process with authentication on: Import Flow, Trigger Flow and Get Flow Instance
// answer code 0 and the instance id round-trips. The generated client file is type-checked (tsc) too.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SignedClient } from '../../src/client/signer.js';
import { startInProcess, type InProcess } from '../engine/harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const OPENAPI_TS = path.join(ROOT, 'tools/openapi-gen/node_modules/openapi-typescript/bin/cli.js');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** The shape of client.ts below (its real types are checked by tsc in the temp dir). */
interface GeneratedClient {
  importTriggerGet(
    baseUrl: string,
    sign: (pathAndQuery: string, body: string) => Promise<Record<string, string>>,
    who: { userId: string; orgId: string },
    triggerTime: number,
  ): Promise<{ flowId: number; flowInstId: string; triggerCode: number; instance: unknown }>;
}

let srv: InProcess;
let dir: string;

beforeAll(async () => {
  srv = await startInProcess({ auth: true });
  dir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-genclient-'));
  // The generated client resolves openapi-fetch as a user's project would: from its node_modules.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}, 30_000);
afterAll(async () => {
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// What a user writes against the generated types (type-checked below, then run).
const CLIENT = `import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';

export type Sign = (pathAndQuery: string, body: string) => Promise<Record<string, string>>;

export function makeClient(baseUrl: string, sign: Sign) {
  const signing: Middleware = {
    async onRequest({ request }) {
      const url = new URL(request.url);
      const body = request.body === null ? '' : await request.clone().text();
      for (const [k, v] of Object.entries(await sign(url.pathname + url.search, body))) request.headers.set(k, v);
      return request;
    },
  };
  const client = createClient<paths>({ baseUrl });
  client.use(signing);
  return client;
}

export async function importTriggerGet(baseUrl: string, sign: Sign, who: { userId: string; orgId: string }, triggerTime: number) {
  const client = makeClient(baseUrl, sign);
  const dirs = await client.GET('/batch-processing-service/v2.1/directories/listWorkFlowDirs', { params: { query: who } });
  if (!dirs.data || dirs.data.code !== 0) throw new Error('listWorkFlowDirs: ' + JSON.stringify(dirs.data ?? dirs.error));
  const dirId = String(dirs.data.data[0].key);
  const flowJson = { name: 'generated', type: 0, parameters: [], relations: [], tasks: [{ name: 'hello', type: 'SHELL', cmd: 'echo hello', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0' }] };
  const imported = await client.POST('/batch-processing-service/v2.1/flows/import', { params: { query: who }, body: { flowName: 'generated', desc: '', dirId, flowJson } });
  if (!imported.data || imported.data.code !== 0) throw new Error('importFlow: ' + JSON.stringify(imported.data ?? imported.error));
  const flowId = imported.data.data.flowId;
  const triggered = await client.POST('/batch-processing-service/v2.1/flows/trigger', { params: { query: who }, body: { flowId, triggerTime } });
  if (!triggered.data || triggered.data.code !== 0) throw new Error('triggerFlow: ' + JSON.stringify(triggered.data ?? triggered.error));
  const flowInstId = triggered.data.data.flowInstanceId;
  const got = await client.GET('/batch-processing-service/v2.1/flowInstances/get', { params: { query: { ...who, flowInstId } } });
  return { flowId, flowInstId, triggerCode: triggered.data.code, instance: got.data };
}
`;

it('openapi-typescript + openapi-fetch: a signed generated client imports, triggers and reads back a flow instance', async () => {
  const res = await fetch(`${srv.server.url}/openapi.json`);
  expect(res.status).toBe(200);
  writeFileSync(path.join(dir, 'openapi.json'), await res.text());
  await run(process.execPath, [OPENAPI_TS, path.join(dir, 'openapi.json'), '-o', path.join(dir, 'schema.d.ts')], { cwd: dir });
  writeFileSync(path.join(dir, 'client.ts'), CLIENT);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['client.ts'] }),
  );
  // The generated types describe the calls above (paths, parameters, bodies, envelopes): tsc accepts them.
  const tsc = await run(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir }).catch((e: { stdout?: string; stderr?: string }) => e);
  expect(`${tsc.stdout ?? ''}${tsc.stderr ?? ''}`, 'tsc on the generated client').toBe('');

  const creds = srv.server.bootstrapCredentials;
  expect(creds).not.toBeNull();
  const signer = new SignedClient(srv.server.url, { accessKey: creds!.accessKey, secretKey: creds!.secretKey });
  const sent: string[] = [];
  const sign = async (pathAndQuery: string, body: string) => {
    sent.push(pathAndQuery);
    return signer.sign(pathAndQuery, body);
  };
  const { importTriggerGet } = (await import(path.join(dir, 'client.ts'))) as GeneratedClient;
  const triggerTime = Date.now() + 3_600_000; // an hour ahead: the instance waits, nothing races the read
  const r = await importTriggerGet(srv.server.url, sign, { userId: creds!.userId, orgId: creds!.orgId }, triggerTime);
  expect(r.triggerCode).toBe(0);
  expect(r.flowInstId).toMatch(new RegExp(`^${r.flowId}-\\d{14}$`));
  expect(r.instance).toMatchObject({ code: 0, data: { instanceId: r.flowInstId, flowId: r.flowId } });
  // The alias paths, each action once, never `?action=...?action=...`.
  expect(sent.map((u) => u.split('?')[0])).toEqual([
    '/batch-processing-service/v2.1/directories/listWorkFlowDirs',
    '/batch-processing-service/v2.1/flows/import',
    '/batch-processing-service/v2.1/flows/trigger',
    '/batch-processing-service/v2.1/flowInstances/get',
  ]);
  expect(sent.filter((u) => u.includes('action='))).toEqual([]);
}, 120_000);

// Unsigned, the same alias path is refused as the EnOS form is (401, the envelope).
it('refuses an unsigned call on an alias path', async () => {
  const creds = srv.server.bootstrapCredentials!;
  const res = await fetch(`${srv.server.url}/batch-processing-service/v2.1/directories/listWorkFlowDirs?userId=${creds.userId}&orgId=${creds.orgId}`);
  expect(res.status).toBe(401);
  expect(await res.json()).toMatchObject({ code: 1202, data: null });
});
