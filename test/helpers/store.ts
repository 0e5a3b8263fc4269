// A migrated SQLite store in a fresh temp directory, removed by close().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';

export interface TempStore {
  store: Store;
  dir: string;
  close(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'batchflow-test-'));
  const store = await createSqliteStore({ filename: path.join(dir, 'batchflow.db') });
  return {
    store,
    dir,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
