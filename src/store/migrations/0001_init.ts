// 0001: the initial schema. Append-only: never edit after merge; change the schema in a new numbered file.
// Dialect-neutral DDL only: `bigint` has INTEGER affinity in SQLite and is 64-bit in PostgreSQL (epoch ms,
// ids); ids come from batchflow_counters (never reused) instead of AUTOINCREMENT / serial, so the same
// allocation code runs on both backends.
import { sql, type Kysely } from 'kysely';

export const name = '0001_init';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  // Last allocated value per sequence: 'flow', 'task', 'flow_instance_seq'.
  await s
    .createTable('batchflow_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  await db
    .insertInto('batchflow_counters')
    .values([
      { name: 'flow', value: 0 },
      { name: 'task', value: 0 },
      { name: 'flow_instance_seq', value: 0 },
    ])
    .execute();

  await s
    .createTable('orgs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await s
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await s
    .createTable('directories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('parent_id', 'text', (c) => c.references('directories.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('directories_child_name_uq', ['org_id', 'parent_id', 'name'])
    .execute();
  // NULLs are distinct in a unique key, so the one-root-per-org rule needs its own partial index.
  await s.createIndex('directories_one_root_uq').on('directories').column('org_id').unique().where(sql<boolean>`parent_id is null`).execute();

  await s
    .createTable('flows')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('dir_id', 'text', (c) => c.notNull().references('directories.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('type', 'integer', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('freq', 'text', (c) => c.notNull())
    .addColumn('cycle', 'text', (c) => c.notNull())
    .addColumn('owners', 'text', (c) => c.notNull())
    .addColumn('visitors', 'text', (c) => c.notNull())
    .addColumn('do_as', 'text', (c) => c.notNull())
    .addColumn('alert_mode', 'integer', (c) => c.notNull())
    .addColumn('alert_to', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('sync_type', 'integer', (c) => c.notNull())
    .addColumn('start_date', 'text', (c) => c.notNull())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('entry', 'integer', (c) => c.notNull())
    .addColumn('is_virtual', 'integer', (c) => c.notNull())
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('nodes', 'text', (c) => c.notNull())
    .addColumn('flow_refs', 'text', (c) => c.notNull())
    .addColumn('relations', 'text', (c) => c.notNull())
    .addColumn('creator_id', 'text', (c) => c.notNull())
    .addColumn('creator_name', 'text', (c) => c.notNull())
    .addColumn('update_user', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // When periodic scheduling (re)started (create, enable, a Save changing freq/startDate): no fire before it.
    .addColumn('schedule_from', 'bigint', (c) => c.notNull())
    .addColumn('lock_user_id', 'text')
    .addColumn('lock_user_name', 'text')
    .addColumn('lock_expires_at', 'bigint')
    .execute();
  await s.createIndex('flows_org_idx').on('flows').columns(['org_id', 'created_at']).execute();
  await s.createIndex('flows_periodic_idx').on('flows').columns(['type', 'active']).execute();

  await s
    .createTable('tasks')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('flow_id', 'bigint', (c) => c.notNull().references('flows.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('cmd', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('sync_type', 'integer', (c) => c.notNull())
    .addColumn('submitter', 'text', (c) => c.notNull())
    .addColumn('file_package', 'text', (c) => c.notNull())
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('priority_level', 'integer', (c) => c.notNull())
    .addColumn('timeout_sec', 'integer', (c) => c.notNull())
    .addColumn('retry_limit', 'integer', (c) => c.notNull())
    .addColumn('retry_interval_sec', 'integer', (c) => c.notNull())
    .addColumn('success_code', 'text', (c) => c.notNull())
    .addColumn('as_link', 'integer', (c) => c.notNull())
    .addColumn('run_mode', 'text', (c) => c.notNull())
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('wait_code', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('tasks_flow_idx').on('tasks').column('flow_id').execute();

  await s
    .createTable('flow_instances')
    // The one-minute rule's unique key: `<flowId>-<yyyyMMddHHmm>00`.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('flow_id', 'bigint', (c) => c.notNull().references('flows.id'))
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('start_task_id', 'bigint')
    .addColumn('trigger_time', 'bigint', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('overrides', 'text', (c) => c.notNull())
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .execute();
  await s.createIndex('flow_instances_next_idx').on('flow_instances').columns(['flow_id', 'status', 'due_at', 'seq']).execute();
  await s.createIndex('flow_instances_due_idx').on('flow_instances').columns(['status', 'due_at']).execute();
  await s.createIndex('flow_instances_org_trigger_idx').on('flow_instances').columns(['org_id', 'trigger_time']).execute();
  // The cron scheduler's "latest fire made" (max trigger_time of kind 'schedule' per flow) in one seek.
  await s.createIndex('flow_instances_schedule_idx').on('flow_instances').columns(['flow_id', 'kind', 'trigger_time']).execute();

  await s
    .createTable('task_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('flow_instance_id', 'text', (c) => c.notNull().references('flow_instances.id'))
    .addColumn('flow_id', 'bigint', (c) => c.notNull())
    .addColumn('ord', 'integer', (c) => c.notNull())
    .addColumn('task_id', 'bigint', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('task_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('ended_at', 'bigint')
    .addColumn('next_run_at', 'bigint')
    .addColumn('exit_code', 'integer')
    .addColumn('is_timeout', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('task_instances_instance_idx').on('task_instances').columns(['flow_instance_id', 'ord']).execute();
  await s.createIndex('task_instances_flow_status_idx').on('task_instances').columns(['flow_id', 'status']).execute();

  await s
    .createTable('attempts')
    .addColumn('task_instance_id', 'text', (c) => c.notNull().references('task_instances.id'))
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('engine_id', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer')
    .addColumn('pgid', 'integer')
    .addColumn('proc_start', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('signal', 'text')
    .addPrimaryKeyConstraint('attempts_pk', ['task_instance_id', 'run_num'])
    .execute();
  // Recovery scans open attempts only; keep that cheap however long the history grows.
  await s.createIndex('attempts_open_idx').on('attempts').column('status').where(sql<boolean>`status = 'RUNNING'`).execute();

  await s
    .createTable('task_logs')
    .addColumn('task_instance_id', 'text', (c) => c.notNull())
    .addColumn('run_num', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('task_logs_pk', ['task_instance_id', 'run_num', 'seq'])
    .addForeignKeyConstraint('task_logs_attempt_fk', ['task_instance_id', 'run_num'], 'attempts', ['task_instance_id', 'run_num'])
    .execute();
}
