// The master key that seals app secrets and tokens at rest (contract §9): BATCHFLOW_MASTER_KEY when set,
// else a key file (default <data dir>/master.key) created with mode 0600 on first start. Several
// processes of one deployment must share the key: the store remembers the id of the key its secrets were
// sealed with, and a process holding another key refuses to start (checkMasterKey), naming both ids.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { newMasterKey, parseMasterKey, secretBox, type SecretBox } from '../service/auth/secretBox.js';
import type { Store } from '../store/store.js';
import { StartupError } from './errors.js';

export const masterKeyFileOf = (config: Pick<Config, 'dataDir' | 'masterKeyFile'>): string => config.masterKeyFile || path.join(config.dataDir, 'master.key');

function readKeyFile(file: string): Buffer {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw new StartupError(`the master key file ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`);
  const key = parseMasterKey(readFileSync(file, 'utf8'));
  if (!key) throw new StartupError(`the master key file ${file} does not hold a key (64 hex digits or 32 bytes in base64)`);
  return key;
}

/** The master key of this process; creates the key file (0600) when there is no key yet. */
export function loadMasterKey(config: Pick<Config, 'dataDir' | 'masterKey' | 'masterKeyFile'>, opts: { create?: boolean } = {}): SecretBox {
  if (config.masterKey) return secretBox(parseMasterKey(config.masterKey)!); // checked by the config parser with the same function
  const file = masterKeyFileOf(config);
  if (existsSync(file)) return secretBox(readKeyFile(file));
  if (opts.create === false) throw new StartupError(`no master key: set BATCHFLOW_MASTER_KEY or create ${file} (the service makes it on its first start)`);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600); // exclusive: two first starts never make two keys
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return secretBox(readKeyFile(file));
    throw new StartupError(`cannot create the master key file ${file}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, `${newMasterKey().toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  return secretBox(readKeyFile(file));
}

/**
 * The store's secrets must have been sealed with this key: the first process records its key id, every
 * later one must hold the same key.
 */
export async function checkMasterKey(store: Store, box: SecretBox): Promise<void> {
  const recorded = await store.claimMasterKeyId(box.keyId);
  if (recorded !== box.keyId) {
    throw new StartupError(
      `the master key (id ${box.keyId}) is not the one this store's secrets are sealed with (id ${recorded}); give every process of the deployment the same BATCHFLOW_MASTER_KEY or key file`,
    );
  }
}
