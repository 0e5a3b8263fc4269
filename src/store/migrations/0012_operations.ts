// 0012: operations beyond the original (contract §12). Append-only: never edit after merge.
// users.email / users.phone: where a flow's owners are alerted ('' when unknown).
// idempotency_keys: one row per (scope, key) of a request sent with an Idempotency-Key header: the hash of
//   the request it stands for, PENDING while the first copy runs (claimed until `lease_until`), DONE with
//   the answer, kept until `expires_at` (24 h after the answer).
// alerts: the outbox. One row per alert (an instance that ended FAIL or INTERNAL_ERROR, or a task attempt
//   that timed out), written in the same transaction as that end; claimed by one live process under a
//   lease and sent per channel (`deliveries`: JSON, per channel its recipients, status, tries, last error);
//   PENDING until every channel is SENT or gave up (then SENT or FAILED).
import { sql, type Kysely } from 'kysely';

export const name = '0012_operations';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('email', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('users').addColumn('phone', 'text', (c) => c.notNull().defaultTo('')).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('answer', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expires_idx').on('idempotency_keys').columns(['expires_at']).execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('flow_id', 'bigint', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    // FAIL | INTERNAL_ERROR (the instance's end) | TIMEOUT (a task attempt timed out)
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('task_instance_id', 'text')
    .addColumn('run_num', 'integer')
    .addColumn('reason', 'text')
    .addColumn('alert_mode', 'integer', (c) => c.notNull())
    .addColumn('alert_to', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('tries', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_at', 'bigint', (c) => c.notNull())
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'bigint')
    .addColumn('deliveries', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alerts_instance_idx').on('alerts').columns(['instance_id', 'created_at']).execute();
  await db.schema
    .createIndex('alerts_due_idx')
    .on('alerts')
    .columns(['next_at'])
    .where(sql<boolean>`status = 'PENDING'`)
    .execute();
}
