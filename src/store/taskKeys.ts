// taskMode 2 (contract §11): the state of every key of a task instance (task_keys, migration 0010), one
// character per key (src/domain/keyStatus.ts). The attempt that runs the keys rewrites the whole text as it
// goes (src/engine/keyedAttempt.ts); the next attempt reads it to run only the keys that did not succeed;
// Get Task Instance shows the counts per status.
import { sql } from 'kysely';
import { emptyByStatus, KEY_CHAR, KEY_STATUSES, type KeyCounts, type KeyState, type KeyStatus } from '../domain/keyStatus.js';
import { num, type Ctx } from './db.js';

// Writes: the task_keys row of one task instance (insert or replace). Guard, in the same statement: attempt
// (taskInstanceId, runNum) is open (RUNNING), owned by `engineId`, and that engine is still live (not
// expired by a takeover, not stopped); and no later attempt wrote the row. A fenced or stale attempt writes
// nothing: false.
export async function recordKeyResults(ctx: Ctx, taskInstanceId: string, runNum: number, engineId: string, states: string, now: number): Promise<boolean> {
  if (engineId === '') return false;
  const r = await ctx.db
    .insertInto('task_keys')
    .columns(['task_instance_id', 'run_num', 'states', 'updated_at'])
    .expression((eb) =>
      eb
        .selectFrom('attempts as a')
        .innerJoin('engines as e', 'e.id', 'a.engine_id')
        // Casts: a bare parameter in a select list is untyped on PostgreSQL.
        .select([
          sql<string>`cast(${taskInstanceId} as text)`.as('task_instance_id'),
          sql<number>`cast(${runNum} as integer)`.as('run_num'),
          sql<string>`cast(${states} as text)`.as('states'),
          sql<number>`cast(${now} as bigint)`.as('updated_at'),
        ])
        .where('a.task_instance_id', '=', taskInstanceId)
        .where('a.run_num', '=', runNum)
        .where('a.status', '=', 'RUNNING')
        .where('a.engine_id', '=', engineId)
        .where('e.state', '=', 'live'),
    )
    .onConflict((oc) =>
      oc
        .column('task_instance_id')
        .doUpdateSet((eb) => ({ run_num: eb.ref('excluded.run_num'), states: eb.ref('excluded.states'), updated_at: eb.ref('excluded.updated_at') }))
        .where('task_keys.run_num', '<=', (eb) => eb.ref('excluded.run_num')),
    )
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

// Reads: the task_keys row of one task instance. Guard: none.
export async function keyState(ctx: Ctx, taskInstanceId: string): Promise<KeyState | null> {
  const r = await ctx.db.selectFrom('task_keys').select(['run_num', 'states']).where('task_instance_id', '=', taskInstanceId).executeTakeFirst();
  return r ? { runNum: num(r.run_num), states: r.states } : null;
}

const IN_LIST = 500;

// Reads: the task_keys rows of the given task instances, counted in the database (the states texts do not
// travel): a character's count is length(states) - length(replace(states, c, '')). Guard: none.
export async function keyCounts(ctx: Ctx, taskInstanceIds: string[]): Promise<Map<string, KeyCounts>> {
  const out = new Map<string, KeyCounts>();
  const ids = [...new Set(taskInstanceIds)];
  for (let i = 0; i < ids.length; i += IN_LIST) {
    const rows = await ctx.db
      .selectFrom('task_keys')
      .select([
        'task_instance_id',
        'run_num',
        sql<number>`length(states)`.as('total'),
        ...KEY_STATUSES.map((s) => sql<number>`length(states) - length(replace(states, ${sql.lit(KEY_CHAR[s])}, ''))`.as(`n_${s}`)),
      ])
      .where('task_instance_id', 'in', ids.slice(i, i + IN_LIST))
      .execute();
    for (const r of rows as Array<Record<string, unknown>>) {
      const byStatus = emptyByStatus();
      for (const s of KEY_STATUSES) byStatus[s as KeyStatus] = Number(r[`n_${s}`]);
      out.set(String(r.task_instance_id), { runNum: Number(r.run_num), total: Number(r.total), byStatus });
    }
  }
  return out;
}
