// 0002: the engine's truth in the store. The store's own id (for the task processes' marker), the engine
// registry with leases, the history of every status change, and on task instances what a claim and a
// readiness decision need without reading the whole instance: how many upstream nodes are still pending
// (waiting_on) and since when a task is claimable (due_at). Existing open instances get both computed.
// Append-only: never edit after merge.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

export const name = '0002_engine';

interface SnapshotLike {
  flow: { nodes: Array<{ nodeId: string }>; relations: Array<{ source: string; target: string }> };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s.createTable('batchflow_meta').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
  await db.insertInto('batchflow_meta').values({ key: 'store_id', value: randomUUID() }).execute();

  await s
    .createTable('engines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('proc_start', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    // live: renewing its lease; stopped: shut down; expired: its lease ran out and another engine took over.
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .execute();
  await s.createIndex('engines_state_idx').on('engines').columns(['state', 'lease_until']).execute();

  await s.alterTable('task_instances').addColumn('waiting_on', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await s.alterTable('task_instances').addColumn('due_at', 'bigint').execute();
  // Claims: READY and RERUN task instances by due time, in one seek however many there are.
  await s
    .createIndex('task_instances_claim_idx')
    .on('task_instances')
    .columns(['due_at', 'ord'])
    .where(sql<boolean>`status in ('READY', 'RERUN')`)
    .execute();
  // "Is anything of this instance still active / open?" in a few index probes.
  await s.createIndex('task_instances_status_idx').on('task_instances').columns(['flow_instance_id', 'status']).execute();
  // Open attempts are found per engine; 0001's index of every open attempt has no reader any more, and each
  // index costs a page in the commit of every attempt's start and end.
  await s.createIndex('attempts_engine_idx').on('attempts').columns(['engine_id']).where(sql<boolean>`status = 'RUNNING'`).execute();
  await s.dropIndex('attempts_open_idx').execute();

  // The history: one row per status change of a flow instance (task_instance_id null) or of a task
  // instance, in one table so that its id is the global order of changes.
  await s
    .createTable('status_events')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('flow_instance_id', 'text', (c) => c.notNull())
    .addColumn('task_instance_id', 'text')
    .addColumn('run_num', 'integer')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('from_status', 'text', (c) => c.notNull())
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('engine_id', 'text')
    .execute();
  await s.createIndex('status_events_instance_idx').on('status_events').columns(['flow_instance_id', 'id']).execute();
  await s.createIndex('status_events_task_idx').on('status_events').columns(['task_instance_id', 'id']).where(sql<boolean>`task_instance_id is not null`).execute();

  // Open instances made before this migration: compute waiting_on from their snapshot, and due_at.
  const open = await db.selectFrom('flow_instances').select(['id', 'status', 'snapshot']).where('status', 'in', ['WAIT', 'RUNNING']).execute();
  for (const inst of open) {
    const snap = JSON.parse(inst.snapshot as string) as SnapshotLike;
    const tasks = await db.selectFrom('task_instances').select(['id', 'node_id', 'status']).where('flow_instance_id', '=', inst.id).execute();
    const statusOf = new Map(tasks.map((t) => [t.node_id as string, t.status as string]));
    const pending = new Map<string, Set<string>>();
    for (const r of snap.flow.relations) {
      const from = statusOf.get(r.source);
      if (from === undefined || !statusOf.has(r.target) || from === 'SUCCESS' || from === 'SKIP') continue;
      let set = pending.get(r.target);
      if (!set) pending.set(r.target, (set = new Set()));
      set.add(r.source);
    }
    for (const t of tasks) {
      const waiting = pending.get(t.node_id as string)?.size ?? 0;
      if (waiting > 0) await db.updateTable('task_instances').set({ waiting_on: waiting }).where('id', '=', t.id).execute();
      // The old engine queued such tasks in memory only: make them claimable.
      else if (inst.status === 'RUNNING' && t.status === 'INIT') {
        await db.updateTable('task_instances').set({ status: 'READY', updated_at: sql`updated_at` }).where('id', '=', t.id).execute();
      }
    }
  }
  await db
    .updateTable('task_instances')
    .set({ due_at: sql`coalesce(next_run_at, updated_at)` })
    .where('status', 'in', ['READY', 'RERUN'])
    .execute();
}
