// The `batchflow` command: `serve` runs the service; `admin ...` manages organizations and users in the
// same store as a running server and prints JSON. Every start-up failure a person can act on (bad
// configuration, data directory or port in use, a store that cannot be opened) is a StartupError: one
// line, exit 2, decided at the bottom of this file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { systemClock } from '../domain/clock.js';
import { DomainError } from '../domain/errors.js';
import { addOrg, addUser, setUserContact, setUserLocked } from '../service/identity.js';
import { redactUrl, StartupError } from '../startup/errors.js';
import { registerAppCommands, registerCallCommand } from './authCommands.js';
import { closeInheritedFds } from '../startup/inheritedFds.js';
import { registerStoreCommands } from './storeCommands.js';
import { ALERT_FLAG_OF, alertOptions } from './alertOptions.js';
import { describeFailure, EXIT } from './client/connect.js';
import { registerFlowCommands } from './client/flowsCommands.js';
import { registerRunCommands } from './client/runsCommands.js';
import { registerOperatorCommands } from './client/opsCommands.js';
import type { Store } from '../store/store.js';

// Commands load the server, the store and their drivers only when they run (`call` needs none of it).
// Whatever this process writes (the store, logs, the key file, work dirs) is its user's alone.
process.umask(0o077);

const program = new Command();
// package.json is two levels up from src/cli/ and from dist/cli/ alike.
const { version } = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
program
  .name('batchflow')
  .description('A batch workflow service speaking the EnOS Batch Processing Service API')
  .version(version)
  .showHelpAfterError()
  // Usage errors end with exit code 2 (decided at the bottom), not commander's 1.
  .exitOverride();

const storeOptions = (cmd: Command) =>
  cmd
    .option('--data <dir>', 'data directory (embedded SQLite store, task work dirs)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL instead of the embedded store');

/** Setting <- the commander attribute of the flag that sets it (`--data` is `data`). */
const FLAG_OF: Partial<Record<keyof Config, string>> = {
  port: 'port',
  host: 'host',
  dataDir: 'data',
  databaseUrl: 'databaseUrl',
  timezone: 'timezone',
  workerConcurrency: 'concurrency',
  logLevel: 'logLevel',
  role: 'role',
  ...ALERT_FLAG_OF,
};

/** The config of a command's flags; a bad value is named by the flag as declared (`--concurrency`). */
function configFrom(cmd: Command): Config {
  const opts = cmd.opts();
  const overrides: Partial<Record<keyof Config, unknown>> = { runEngine: opts.engine === false ? false : undefined, auth: opts.auth === false ? false : undefined };
  const flagNames: Partial<Record<keyof Config, string>> = {};
  for (const [key, attr] of Object.entries(FLAG_OF) as Array<[keyof Config, string]>) {
    const option = cmd.options.find((o) => o.attributeName() === attr);
    if (!option) continue;
    overrides[key] = opts[attr];
    if (option.long) flagNames[key] = option.long;
  }
  return loadConfig(overrides, undefined, flagNames);
}

storeOptions(alertOptions(
  program
    .command('serve')
    .description('serve the API (and run the engine) on 127.0.0.1:8080 by default')
    .option('--port <n>', 'port to listen on')
    .option('--host <host>', 'address to listen on')
    .option('--timezone <zone>', 'service time zone (IANA name)')
    .option('--concurrency <n>', 'task processes running at once')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--role <role>', 'all (default), api, scheduler or worker; roles other than all need --database-url')
    .addOption(new Option('--no-engine', 'serve the API only; run no tasks'))
    .addOption(new Option('--no-auth', 'accept unsigned calls, trusting userId/orgId (loopback hosts only; for local trials)'))),
).action(async (_opts, cmd: Command) => {
  closeInheritedFds(); // before anything is opened: nothing inherited reaches a task (docs/engine.md, Task isolation)
  const config = configFrom(cmd);
  const { startServer } = await import('../server.js');
  const server = await startServer(config);
  if (!config.auth && server.app) console.warn(`batchflow: WARNING: authentication is off (--no-auth): anyone who can reach ${server.url} acts as any user`);
  // The process serves until a signal stops it. Its components unref their timers and reconnects (so that
  // an in-process server never holds a test open): without the listening HTTP server (roles scheduler and
  // worker), a store that is unreachable for a moment (a PostgreSQL restart) left nothing referenced, and
  // node ended the process with exit code 0. This handle holds it until shutdown's process.exit.
  setInterval(() => {}, 2 ** 31 - 1);
  const base = `${server.url}/batch-processing-service/v2.1`;
  if (server.bootstrapped) {
    const where = config.databaseUrl ? `on PostgreSQL ${redactUrl(config.databaseUrl)}` : `at ${config.dataDir}`;
    console.log(`batchflow: created organization o-default and user u-admin (name "admin") in a new store ${where}`);
  }
  const storeText = config.databaseUrl ? `PostgreSQL ${redactUrl(config.databaseUrl)}` : `SQLite in ${config.dataDir}`;
  const does = [server.app ? `serving on ${server.url}` : null, server.scheduler ? 'cron scheduler' : null, server.engine ? `worker of ${config.workerConcurrency} slots` : null].filter(Boolean);
  console.log(`batchflow: role ${config.role}: ${does.join(', ') || 'nothing (engine off)'} (store: ${storeText}, time zone ${config.timezone})`);
  const creds = server.bootstrapCredentials;
  if (creds) {
    // The one time the secret is shown (it is also in the file, readable by this user only).
    console.log(`batchflow: created app ${creds.accessKey} for organization ${creds.orgId}; its secret key, shown this once: ${creds.secretKey}`);
    console.log(`batchflow: both are saved in ${creds.file} (mode 0600)`);
  }
  if (server.app && config.auth) console.log(`batchflow: try  npx batchflow call GET 'directories?action=listWorkFlowDirs'${config.port === 8080 ? '' : ` --port ${config.port}`}${config.dataDir === path.resolve('data') ? '' : ` --data-dir ${config.dataDir}`}`);
  else if (server.app) console.log(`batchflow: try  curl '${base}/directories?action=listWorkFlowDirs&userId=u-admin&orgId=o-default'`);
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(130);
    console.log(`batchflow: ${signal} received: finishing running tasks (up to ${config.shutdownGraceMs / 1000} s), then stopping`);
    server.close().then(
      () => process.exit(0),
      (e) => {
        console.error('batchflow: shutdown failed:', e);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
});

async function withStore(cmd: Command, fn: (store: Store, config: Config) => Promise<unknown>): Promise<void> {
  const config = configFrom(cmd);
  const { openStore } = await import('../server.js');
  const store = await openStore(config);
  try {
    const out = await fn(store, config);
    console.log(JSON.stringify(out === undefined ? { ok: true } : out, null, 2));
  } finally {
    await store.close();
  }
}

storeOptions(program.command('migrate').description('apply pending schema migrations to the store (under its migration lock) and exit')).action(async (_opts, cmd: Command) => {
  const config = configFrom(cmd);
  const { openStore } = await import('../server.js');
  const store = await openStore(config); // opening migrates
  await store.close();
  console.log(JSON.stringify({ migrated: true, store: config.databaseUrl ? redactUrl(config.databaseUrl) : config.dataDir }));
});

const admin = program.command('admin').description('manage organizations and users (prints JSON)');
const org = admin.command('org').description('organizations');
storeOptions(org.command('add').requiredOption('--id <id>', 'organization id').requiredOption('--name <name>', 'display name')).action((opts, cmd: Command) =>
  withStore(cmd, (s) => addOrg(s, systemClock, { id: opts.id, name: opts.name })),
);
const user = admin.command('user').description('users');
storeOptions(
  user
    .command('add')
    .requiredOption('--id <id>', 'user id')
    .requiredOption('--name <name>', 'user name (unique)')
    .requiredOption('--org <org>', 'organization id')
    .option('--email <address>', 'where alerts of the flows the user owns are mailed')
    .option('--phone <number>', 'where SMS alerts go (digits, +, spaces, dashes)'),
).action((opts, cmd: Command) => withStore(cmd, (s) => addUser(s, systemClock, { id: opts.id, name: opts.name, orgId: opts.org, email: opts.email, phone: opts.phone })));
storeOptions(
  user
    .command('set <userId>')
    .description("change a user's alert contact ('' clears a field)")
    .option('--email <address>', 'email address for alerts')
    .option('--phone <number>', 'phone number for SMS alerts'),
).action((userId: string, opts, cmd: Command) => withStore(cmd, (s) => setUserContact(s, userId, { email: opts.email, phone: opts.phone })));
for (const [verb, locked] of [
  ['lock', true],
  ['unlock', false],
] as const) {
  storeOptions(user.command(`${verb} <userId>`).description(`${verb} a user account`)).action((userId: string, _opts, cmd: Command) =>
    withStore(cmd, (s) => setUserLocked(s, userId, locked)),
  );
}

registerAppCommands(admin, { configFrom, storeOptions, withStore });
registerCallCommand(program);
registerStoreCommands(program, { configFrom, storeOptions });
registerFlowCommands(program);
registerRunCommands(program);
registerOperatorCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Commander printed its message (or the help, or the version) already.
    process.exit(['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code) ? 0 : EXIT.usage);
  }
  const failure = describeFailure(e);
  if (failure) {
    console.error(failure.line);
    process.exit(failure.code);
  }
  if (e instanceof StartupError) {
    console.error(`batchflow: ${e.message}`);
    process.exit(2);
  }
  if (e instanceof DomainError) {
    console.error(JSON.stringify({ error: e.message, field: e.field ?? null }));
    process.exit(1);
  }
  console.error('batchflow:', e);
  process.exit(1);
});
