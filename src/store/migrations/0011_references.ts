// 0011: references between workflows (contract §10). Append-only: never edit after merge.
// reference_waits: one row per (dependent instance, reference node, cycleGap) in the instance's run set,
// written when the instance starts. WAITING until the bound instance (or task instance) of the referenced
// workflow succeeds (SUCCESS), the reference times out (FAIL), or the dependent ends otherwise (CANCEL,
// SKIP). Two partial indexes serve the engine: the end of an instance of flow F finds the waits on F
// whose window holds its trigger time; the timer finds the first deadline.
// flows.ref_timeout_sec: the workflow's reference timeout (null: the default).
import { sql, type Kysely } from 'kysely';

export const name = '0011_references';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('flows').addColumn('ref_timeout_sec', 'integer').execute();
  await db.schema
    .createTable('reference_waits')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('cycle_gap', 'text', (c) => c.notNull())
    .addColumn('flow_id', 'bigint', (c) => c.notNull())
    .addColumn('ref_flow_id', 'bigint', (c) => c.notNull())
    .addColumn('ref_task_id', 'bigint')
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_end', 'bigint', (c) => c.notNull())
    .addColumn('deadline', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    // JSON array of the task instance ids that wait on it (the relation targets in the run set).
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('bound_id', 'text')
    .addColumn('bound_status', 'text')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addPrimaryKeyConstraint('reference_waits_pk', ['instance_id', 'node_id', 'cycle_gap'])
    .execute();
  await db.schema
    .createIndex('reference_waits_on_idx')
    .on('reference_waits')
    .columns(['ref_flow_id', 'window_start'])
    .where(sql<boolean>`status = 'WAITING'`)
    .execute();
  // The binding's read: a flow's latest instance in a window.
  await db.schema.createIndex('flow_instances_flow_trigger_idx').on('flow_instances').columns(['flow_id', 'trigger_time']).execute();
  await db.schema
    .createIndex('reference_waits_deadline_idx')
    .on('reference_waits')
    .columns(['deadline'])
    .where(sql<boolean>`status = 'WAITING'`)
    .execute();
}
