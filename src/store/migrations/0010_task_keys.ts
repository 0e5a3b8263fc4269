// 0010: the keys of taskMode 2 task instances (contract §11). Append-only: never edit after merge.
// task_keys: one row per task instance that ran keys: `states` holds one character per key, in key order
// (src/domain/keyStatus.ts: 10,000 keys = 10 KB), rewritten whole by the attempt that runs them (run_num),
// so that a retry, on any engine and after any restart, runs only the keys that did not succeed.
// Counts per status are computed from it (Get Task Instance). Rows go with their task instance (purge,
// Delete Flow).
import type { Kysely } from 'kysely';

export const name = '0010_task_keys';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('task_keys')
    .addColumn('task_instance_id', 'text', (c) => c.primaryKey().references('task_instances.id'))
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .addColumn('states', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
