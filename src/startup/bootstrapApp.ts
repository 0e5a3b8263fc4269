// The first signed call without any set-up (contract §9): when authentication is on and the store has no
// app yet, an app for o-default is made, and its key and secret are written once to
// <data dir>/bootstrap-credentials.json (mode 0600) for `batchflow call` and the README's tour.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../domain/clock.js';
import { addApp } from '../service/auth/apps.js';
import type { SecretBox } from '../service/auth/secretBox.js';
import { DEFAULT_ADMIN, DEFAULT_ORG } from '../service/identity.js';
import type { Store } from '../store/store.js';

export const BOOTSTRAP_CREDENTIALS_FILE = 'bootstrap-credentials.json';

export interface BootstrapCredentials {
  accessKey: string;
  secretKey: string;
  orgId: string;
  userId: string;
  /** Where they were written. */
  file: string;
}

/** Makes the first app when the store has none and o-default exists; null when there was nothing to do. */
export async function bootstrapApp(store: Store, clock: Clock, box: SecretBox, dataDir: string): Promise<BootstrapCredentials | null> {
  if ((await store.listApps()).length > 0 || !(await store.getOrg(DEFAULT_ORG.id))) return null;
  const app = await addApp(store, clock, box, { orgId: DEFAULT_ORG.id, name: 'bootstrap' });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, BOOTSTRAP_CREDENTIALS_FILE);
  const creds = { accessKey: app.accessKey, secretKey: app.secretKey, orgId: DEFAULT_ORG.id, userId: DEFAULT_ADMIN.id };
  writeFileSync(file, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an older file of that name keeps its mode through writeFileSync
  return { ...creds, file };
}
