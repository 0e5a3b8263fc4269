// Runs the Store contracts (store.contract.ts, flowGuards.contract.ts, purge.contract.ts, ...) against the SQLite adapter on a fresh temp-file database per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { describeAuthStoreContract } from './auth.contract.js';
import { describeEngineStoreContract } from './engine.contract.js';
import { describeFlowGuardsContract } from './flowGuards.contract.js';
import { describePurgeContract } from './purge.contract.js';
import { describeInstanceSearchContract } from './instanceSearch.contract.js';
import { describeStoreContract } from './store.contract.js';
import { describeTaskKeysContract } from './taskKeys.contract.js';
import { describeReferenceWaitsContract } from './referenceWaits.contract.js';
import { describeRerunContract } from './rerun.contract.js';
import { describeAlertsContract } from './alerts.contract.js';
import { describeVersionsStoreContract } from './versions.contract.js';

const dir = mkdtempSync(path.join(tmpdir(), 'batchflow-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const factory = () => createSqliteStore({ filename: path.join(dir, `db${++n}`, 'batchflow.db') });
describeStoreContract('sqlite', factory);
describeEngineStoreContract('sqlite', factory);
describeFlowGuardsContract('sqlite', factory);
describeAuthStoreContract('sqlite', factory);
describeVersionsStoreContract('sqlite', factory);
describePurgeContract('sqlite', factory);
describeInstanceSearchContract('sqlite', factory);
describeTaskKeysContract('sqlite', factory);
describeReferenceWaitsContract('sqlite', factory);
describeRerunContract('sqlite', factory);
describeAlertsContract('sqlite', factory);
