// 0009: indexes of the rows that the engine and the scheduler look for, not of every row ever made. At a
// million stored instances every index entry an insert or a status change writes lands on a b-tree leaf
// of its own (keys led by flow_id: a hot leaf per flow); four indexes held every instance only to find the
// few WAIT, RUNNING or scheduled ones. Each becomes partial, so a finished instance leaves it and a manual
// trigger never enters the scheduled one (bench/README.md, growth). Queries repeat the conditions as
// literals (SQLite uses a partial index only then). Append-only: never edit after merge.
import { sql, type Kysely } from 'kysely';

export const name = '0009_partial_indexes';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  // The queue of one flow (engineTx.ts selectNextInstance): its WAIT instances in (due_at, seq) order.
  await s.dropIndex('flow_instances_next_idx').execute();
  await s.createIndex('flow_instances_wait_idx').on('flow_instances').columns(['flow_id', 'due_at', 'seq']).where(sql<boolean>`status = 'WAIT'`).execute();
  // Due instances of every flow and the next wake-up (flowInstances.ts listFlowsWithDueInstances, nextWakeAt).
  await s.dropIndex('flow_instances_due_idx').execute();
  await s.createIndex('flow_instances_due_idx').on('flow_instances').column('due_at').where(sql<boolean>`status = 'WAIT'`).execute();
  // The cron scheduler's memory of its fires (schedule.ts lastScheduledFireTime, purge.ts's newest fire).
  await s.dropIndex('flow_instances_schedule_idx').execute();
  await s.createIndex('flow_instances_fires_idx').on('flow_instances').columns(['flow_id', 'trigger_time']).where(sql<boolean>`kind = 'schedule'`).execute();
  // "Does a task of this flow run?" (the one-instance rule, Delete Flow): RUNNING task instances only.
  await s.dropIndex('task_instances_flow_status_idx').execute();
  await s.createIndex('task_instances_running_idx').on('task_instances').column('flow_id').where(sql<boolean>`status = 'RUNNING'`).execute();
}
