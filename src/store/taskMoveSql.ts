// The SQL of a task instance's move (used by transitions.ts, which decides and checks the moves): the
// guarded UPDATE, and on PostgreSQL the whole move in ONE statement. There a move that ends an attempt
// (close the attempt, append its log tail, move the row, its history row) or starts one (move the row, its
// history row, open the attempt, its banner) is one round trip instead of three or four: data-modifying
// CTEs over the guarded UPDATE, each CTE's row count returned so that the caller tells which guard failed.
import { sql, type Kysely, type Updateable } from 'kysely';
import { compiledOnce, type DB, type TaskInstancesTable } from './db.js';
import { appendChunkInsert } from './logs.js';

/** The SET and WHERE of a task instance's move (shape: T terminal, S attempt start, E exit code, R run guard). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function taskUpdate(db: Kysely<DB>, v: (key: string) => any, shape: string) {
  let q = db
    .updateTable('task_instances')
    .set((eb) => {
      const set: Updateable<TaskInstancesTable> = { status: v('to'), updated_at: v('at'), next_run_at: v('nextRunAt'), due_at: v('dueAt') };
      if (shape.includes('T')) set.ended_at = v('at');
      if (shape.includes('S')) {
        // A new attempt: clear what the previous one left.
        Object.assign(set, { run_num: v('runNum'), started_at: eb.fn.coalesce('started_at', eb.val(v('at'))), ended_at: null, exit_code: null, is_timeout: 0 });
      }
      if (shape.includes('E')) Object.assign(set, { exit_code: v('exitCode'), is_timeout: v('isTimeout') });
      return set;
    })
    .where('id', '=', v('id'))
    .where('status', '=', v('from'));
  if (shape.includes('R')) q = q.where('run_num', '=', v('guardRunNum'));
  return q;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function closeAttemptUpdate(db: Kysely<DB>, v: (key: string) => any) {
  return db
    .updateTable('attempts')
    .set((eb) => ({
      status: v('status'),
      ended_at: v('at'),
      exit_code: v('attemptExitCode'),
      signal: v('signal'),
      // A short attempt's process group is recorded with its end (recorded while it ran: kept).
      pid: eb.fn.coalesce('pid', eb.val(v('pid'))),
      pgid: eb.fn.coalesce('pgid', eb.val(v('pgid'))),
      proc_start: eb.fn.coalesce('proc_start', eb.val(v('procStart'))),
    }))
    .where('task_instance_id', '=', v('id'))
    .where('run_num', '=', v('finishRunNum'))
    .where('status', '=', 'RUNNING')
    .where('engine_id', '=', v('finishEngineId'));
}

const EVENT_COLUMNS = ['task_instance_id', 'flow_instance_id', 'run_num', 'at', 'from_status', 'to_status', 'reason', 'engine_id'] as const;
// Casts: a bare parameter in a select list is untyped on PostgreSQL.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const eventOf = (v: (key: string) => any) => [
  sql<number>`cast(${v('at')} as bigint)`.as('at'),
  sql<string>`cast(${v('from')} as text)`.as('from_status'),
  sql<string>`cast(${v('to')} as text)`.as('to_status'),
  sql<string | null>`cast(${v('reason')} as text)`.as('reason'),
  sql<string | null>`cast(${v('engineId')} as text)`.as('engine_id'),
];

/** The history row of each row CTE `u` (the guarded UPDATE) returned: none when its guard failed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const eventsOfU = (d: any, v: (key: string) => any) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  d.insertInto('status_events').columns(EVENT_COLUMNS).expression((eb: any) => eb.selectFrom('u').select(['u.id', 'u.flow_instance_id', 'u.run_num', ...eventOf(v)]));

// PostgreSQL: the move and its history row in one statement.
export const updateTaskRecorded = compiledOnce((db, v, shape) => eventsOfU(db.with('u', () => taskUpdate(db, v, shape).returning(['id', 'flow_instance_id', 'run_num'])), v));

/**
 * PostgreSQL: a move that ends and/or starts an attempt, in one statement. Shape: the move's (taskUpdate)
 * then `|` and F (closes attempt finishRunNum), L (appends the log tail), O (opens attempt runNum with its
 * banner). Returns one row: `closed` (attempts rows closed) and `moved` (task rows moved). Every CTE runs
 * whatever the others' counts: a failed guard is the caller's StaleError, which rolls the transaction back.
 */
export const attemptMoveRecorded = compiledOnce((db, v, shape) => {
  const [move, parts = ''] = shape.split('|');
  // The CTEs a shape needs (Kysely types each `with` by name; the chain differs per shape).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let q: any = db.with('u', () => taskUpdate(db, v, move).returning(['id', 'flow_instance_id', 'run_num']));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  q = q.with('e', (d: any) => eventsOfU(d, v));
  if (parts.includes('F')) q = q.with('a', () => closeAttemptUpdate(db, v).returning('run_num'));
  if (parts.includes('L')) {
    // The log tail after the attempt's last chunk, as logs.ts appendLogIn writes it.
    q = q.with('l', () => appendChunkInsert(db, v('id'), v('finishRunNum'), v('logTail')));
  }
  if (parts.includes('O')) {
    // The new attempt and its banner (chunk 0), only for a row the guarded UPDATE moved.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    q = q.with('o', (d: any) =>
      d
        .insertInto('attempts')
        .columns(['task_instance_id', 'run_num', 'status', 'started_at', 'host', 'engine_id'])
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .expression((eb: any) =>
          eb
            .selectFrom('u')
            .select([
              'u.id',
              'u.run_num',
              sql<string>`'RUNNING'`.as('status'),
              sql<number>`cast(${v('at')} as bigint)`.as('started_at'),
              sql<string>`cast(${v('host')} as text)`.as('host'),
              sql<string>`cast(${v('startEngineId')} as text)`.as('engine_id'),
            ]),
        )
        .returning(['task_instance_id', 'run_num']),
    );
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    q = q.with('b', (d: any) =>
      d
        .insertInto('task_logs')
        .columns(['task_instance_id', 'run_num', 'seq', 'text'])
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .expression((eb: any) => eb.selectFrom('o').select(['o.task_instance_id', 'o.run_num', sql<number>`0`.as('seq'), sql<string>`cast(${v('banner')} as text)`.as('text')]))
        .returning('seq'),
    );
  }
  const closed = parts.includes('F') ? sql<number>`(select count(1) from a)` : sql<number>`0`;
  return (q as Kysely<DB>).selectNoFrom([sql<number>`${closed}::int`.as('closed'), sql<number>`(select count(1) from u)::int`.as('moved')]);
});
