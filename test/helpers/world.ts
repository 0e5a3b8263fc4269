// A bootstrapped service for tests: store in a temp dir, fake clock, the API app, and a cast of users:
// admin (u-admin, creator/owner of what it imports), bob (member of o-default), vic (named as visitor by
// flows that want one), lou (locked), eve (in another org, o-other).
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { testConfig, type Config } from '../../src/config.js';
import type { User } from '../../src/domain/types.js';
import { addApp, type NewAppCredentials } from '../../src/service/auth/apps.js';
import { newMasterKey, secretBox, type SecretBox } from '../../src/service/auth/secretBox.js';
import { addOrg, addUser, bootstrap, setUserLocked } from '../../src/service/identity.js';
import type { Deps } from '../../src/service/context.js';
import type { Store } from '../../src/store/store.js';
import { fakeClock, type FakeClock } from './clock.js';
import { tempStore } from './store.js';

export type Who = 'admin' | 'bob' | 'vic' | 'lou' | 'eve';

export interface World {
  store: Store;
  clock: FakeClock;
  config: Config;
  deps: Deps;
  app: FastifyInstance;
  users: Record<Who, User>;
  /** Root directory id of an org (o-default unless given). */
  rootDir(orgId?: string): Promise<string>;
  /** With `auth: true`: the master key's box, and an app of o-default (`default`) and of o-other (`other`). */
  secrets: SecretBox | null;
  apps: Record<'default' | 'other', NewAppCredentials> | null;
  close(): Promise<void>;
}

export async function makeWorld(overrides: Partial<Config> = {}): Promise<World> {
  const ts = await tempStore();
  const clock = fakeClock();
  const config = testConfig({ dataDir: ts.dir, ...overrides });
  const { store } = ts;
  await bootstrap(store, clock);
  await addUser(store, clock, { id: 'u-bob', name: 'bob', orgId: 'o-default' });
  await addUser(store, clock, { id: 'u-vic', name: 'vic', orgId: 'o-default' });
  await addUser(store, clock, { id: 'u-lou', name: 'lou', orgId: 'o-default' });
  await setUserLocked(store, 'u-lou', true);
  await addOrg(store, clock, { id: 'o-other', name: 'Other' });
  await addUser(store, clock, { id: 'u-eve', name: 'eve', orgId: 'o-other' });
  const users = {} as Record<Who, User>;
  for (const [who, id] of [['admin', 'u-admin'], ['bob', 'u-bob'], ['vic', 'u-vic'], ['lou', 'u-lou'], ['eve', 'u-eve']] as const) {
    users[who] = (await store.getUser(id))!;
  }
  const secrets = config.auth ? secretBox(newMasterKey()) : null;
  const apps = secrets
    ? { default: await addApp(store, clock, secrets, { orgId: 'o-default', name: 'default' }), other: await addApp(store, clock, secrets, { orgId: 'o-other', name: 'other' }) }
    : null;
  const app = await buildApp({ store, config, clock, secrets });
  return {
    store,
    clock,
    config,
    deps: { store, config, clock },
    app,
    users,
    rootDir: async (orgId = 'o-default') => (await store.getRootDirectory(orgId))!.id,
    secrets,
    apps,
    async close() {
      await app.close();
      await ts.close();
    },
  };
}
