// Runs the Store contracts (store.contract.ts, engine.contract.ts, flowGuards.contract.ts, purge.contract.ts, ...) against the
// PostgreSQL adapter, a fresh schema per test (dropped at the end). Skips loudly without PostgreSQL,
// fails under CI=true (test/helpers/postgres.ts).
import { afterAll, describe } from 'vitest';
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
import { dropSchemas, pgStore, postgresAvailable } from '../helpers/postgres.js';

afterAll(() => dropSchemas());

describe.runIf(postgresAvailable)('PostgreSQL', () => {
  const factory = () => pgStore();
  describeStoreContract('postgres', factory);
  describeEngineStoreContract('postgres', factory);
  describeFlowGuardsContract('postgres', factory);
  describeAuthStoreContract('postgres', factory);
  describeVersionsStoreContract('postgres', factory);
  describePurgeContract('postgres', factory);
  describeInstanceSearchContract('postgres', factory);
  describeTaskKeysContract('postgres', factory);
  describeReferenceWaitsContract('postgres', factory);
  describeRerunContract('postgres', factory);
  describeAlertsContract('postgres', factory);
});
