// `batchflow admin app add|list|revoke` (apps of an org: the secret printed once), `batchflow admin
// master-key rotate` (reseal every secret under a new key), and `batchflow call METHOD PATH`, which signs
// a request as contract §9 says with the bootstrap credentials (or given ones) and prints the answer.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { systemClock } from '../domain/clock.js';
import { SignedClient, type Credentials } from '../client/signer.js';
import { addApp, listApps, revokeApp } from '../service/auth/apps.js';
import { newMasterKey, secretBox } from '../service/auth/secretBox.js';
import { BOOTSTRAP_CREDENTIALS_FILE } from '../startup/bootstrapApp.js';
import { StartupError } from '../startup/errors.js';
import { checkMasterKey, loadMasterKey, masterKeyFileOf } from '../startup/masterKey.js';
import type { Store } from '../store/store.js';
import path from 'node:path';

export interface CliKit {
  configFrom(cmd: Command): Config;
  storeOptions(cmd: Command): Command;
  withStore(cmd: Command, fn: (store: Store, config: Config) => Promise<unknown>): Promise<void>;
}

export function registerAppCommands(admin: Command, kit: CliKit): void {
  const app = admin.command('app').description('apps (service accounts) that sign API calls');
  kit
    .storeOptions(app.command('add').description('add an app to an organization; prints its accessKey and secretKey (the secret only this once)'))
    .requiredOption('--org <org>', 'organization id')
    .option('--name <name>', 'what the app is for', '')
    .action((opts: { org: string; name: string }, cmd: Command) =>
      kit.withStore(cmd, async (store, config) => {
        const box = loadMasterKey(config);
        await checkMasterKey(store, box);
        return addApp(store, systemClock, box, { orgId: opts.org, name: opts.name });
      }),
    );
  kit
    .storeOptions(app.command('list').description('list apps (never their secrets)'))
    .option('--org <org>', 'only this organization')
    .action((opts: { org?: string }, cmd: Command) => kit.withStore(cmd, (store) => listApps(store, opts.org)));
  kit
    .storeOptions(app.command('revoke <accessKey>').description('revoke an app: its tokens stop working within a second'))
    .action((accessKey: string, _opts, cmd: Command) => kit.withStore(cmd, (store) => revokeApp(store, systemClock, accessKey)));

  const key = admin.command('master-key').description('the key sealing app secrets and tokens at rest');
  kit
    .storeOptions(key.command('rotate').description('reseal every secret under a new master key (stop the API processes first)'))
    .action((_opts, cmd: Command) =>
      kit.withStore(cmd, async (store, config) => {
        const old = loadMasterKey(config, { create: false });
        await checkMasterKey(store, old);
        const fresh = newMasterKey();
        const box = secretBox(fresh);
        if (config.masterKey) {
          const n = await store.resealSecrets((sealed, boundTo) => box.seal(old.open(sealed, boundTo), boundTo), box.keyId);
          return { resealed: n, keyId: box.keyId, newMasterKey: fresh.toString('hex'), next: 'set BATCHFLOW_MASTER_KEY to newMasterKey in every process, then start them' };
        }
        // The new key is on disk (beside the old) before the store commits to it, then takes the old one's place.
        const file = masterKeyFileOf(config);
        const next = `${file}.new`;
        const fd = openSync(next, 'w', 0o600);
        try {
          writeSync(fd, `${fresh.toString('hex')}\n`);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        const n = await store.resealSecrets((sealed, boundTo) => box.seal(old.open(sealed, boundTo), boundTo), box.keyId);
        renameSync(next, file);
        return { resealed: n, keyId: box.keyId, keyFile: file, next: 'copy the key file to every API process of the deployment, then start them' };
      }),
    );
}

function readBody(data: string | undefined): string | undefined {
  if (data === undefined) return undefined;
  if (data === '@-') return readFileSync(0, 'utf8');
  if (data.startsWith('@')) return readFileSync(data.slice(1), 'utf8');
  return data;
}

export function credentialsOf(opts: { accessKey?: string; secretKey?: string }, config: Config): (Credentials & { orgId?: string; userId?: string }) | null {
  const accessKey = opts.accessKey ?? process.env.BATCHFLOW_ACCESS_KEY;
  const secretKey = opts.secretKey ?? process.env.BATCHFLOW_SECRET_KEY;
  if (accessKey || secretKey) {
    if (!accessKey || !secretKey) throw new StartupError('call: give both --access-key and --secret-key (or BATCHFLOW_ACCESS_KEY and BATCHFLOW_SECRET_KEY)');
    return { accessKey, secretKey };
  }
  const file = path.join(config.dataDir, BOOTSTRAP_CREDENTIALS_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Credentials & { orgId: string; userId: string };
}

/** `flows?action=get` -> the V2.1 path; the caller's userId/orgId added when the query has none. */
export function requestPath(p: string, identity: { userId?: string; orgId?: string }): string {
  let out = p.startsWith('/') ? p : `/batch-processing-service/v2.1/${p}`;
  const q = out.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : out.slice(q + 1));
  const isApi = /^\/(batch-processing-service|dataflow-batch-service)\//.test(out) && !/\/time(\?|$)/.test(out);
  const add: string[] = [];
  if (isApi && identity.userId && !params.has('userId')) add.push(`userId=${encodeURIComponent(identity.userId)}`);
  if (isApi && identity.orgId && !params.has('orgId')) add.push(`orgId=${encodeURIComponent(identity.orgId)}`);
  if (add.length > 0) out += (q < 0 ? '?' : '&') + add.join('&');
  return out;
}

export function registerCallCommand(program: Command): void {
  program
    .command('call <method> <path>')
    .description('send one signed API request and print the answer (exit 1 unless its code is 0)')
    .option('--data <json>', 'the request body: JSON text, @file or @- (standard input)')
    .option('--url <url>', 'the service (default http://127.0.0.1:<port>, or BATCHFLOW_URL)')
    .option('--port <n>', 'the service port (default 8080)')
    .option('--access-key <key>', 'sign as this app (default: <data dir>/bootstrap-credentials.json)')
    .option('--secret-key <secret>', "the app's secret key")
    .option('--user <userId>', 'act as this user (default: the bootstrap user u-admin)')
    .option('--org <orgId>', 'in this organization (default: the app file orgId)')
    .option('--data-dir <dir>', 'where bootstrap-credentials.json is (default ./data, or BATCHFLOW_DATA_DIR)')
    .action(async (method: string, p: string, opts: { data?: string; url?: string; port?: string; dataDir?: string; accessKey?: string; secretKey?: string; user?: string; org?: string }) => {
      const config = loadConfig({ dataDir: opts.dataDir, port: opts.port }, process.env, { dataDir: '--data-dir', port: '--port' });
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      const base = opts.url ?? process.env.BATCHFLOW_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
      const creds = credentialsOf(opts, config);
      const target = requestPath(p, { userId: opts.user ?? creds?.userId, orgId: opts.org ?? creds?.orgId });
      const body = readBody(opts.data);
      const verb = method.toUpperCase();
      let status: number;
      let text: string;
      if (creds) ({ status, text } = await new SignedClient(base, creds).request(verb, target, body));
      else {
        const res = await fetch(new URL(target, base), { method: verb, body, headers: body === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' } });
        ({ status, text } = { status: res.status, text: await res.text() });
      }
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      let code: unknown = null;
      try {
        const env = JSON.parse(text) as { code?: unknown; status?: unknown };
        code = env.code ?? env.status;
      } catch {
        // not JSON: reported by the exit code
      }
      if (status >= 300 || code !== 0) process.exitCode = 1;
    });
}
