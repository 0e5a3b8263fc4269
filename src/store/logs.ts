// Task logs: appended chunks per attempt (the banner is chunk 0), and the tail read the API serves.
// The cap per attempt is the engine's business; this file only stores and reads text in order.
import { sql, type Kysely } from 'kysely';
import { compiledOnce, type Ctx, type DB, type QueryRunner } from './db.js';

/**
 * The insert of one chunk after the attempt's last one (seq = max + 1; 0 for its first), over the given
 * values (compiledOnce slots): appendLogIn's statement, and a CTE of the one-statement attempt end
 * (taskMoveSql.ts).
 */
export function appendChunkInsert(db: Kysely<DB>, id: unknown, runNum: unknown, text: unknown) {
  return db
    .insertInto('task_logs')
    .columns(['task_instance_id', 'run_num', 'seq', 'text'])
    .expression((eb) =>
      eb
        .selectFrom('task_logs')
        // Casts: a bare parameter in a select list is untyped on PostgreSQL.
        .select([
          sql<string>`cast(${id} as text)`.as('task_instance_id'),
          sql<number>`cast(${runNum} as integer)`.as('run_num'),
          sql<number>`coalesce(max(seq), -1) + 1`.as('seq'),
          sql<string>`cast(${text} as text)`.as('text'),
        ])
        .where('task_instance_id', '=', id as string)
        .where('run_num', '=', runNum as number),
    );
}

const appendChunk = compiledOnce((db, v) => appendChunkInsert(db, v('id'), v('runNum'), v('text')));

// Writes: one task_logs row after the attempt's last chunk (empty text: nothing). Guard: the
// (task_instance_id, run_num, seq) primary key and the foreign key to the attempts row.
// One statement: seq = max(seq) + 1 of the attempt.
export async function appendLogIn(ctx: Ctx, runner: QueryRunner, taskInstanceId: string, runNum: number, text: string): Promise<void> {
  if (text === '') return;
  await appendChunk(ctx, runner, '', { id: taskInstanceId, runNum, text });
}

// Writes: one task_logs row. Guard: as appendLogIn.
export async function appendLog(ctx: Ctx, taskInstanceId: string, runNum: number, text: string): Promise<void> {
  await appendLogIn(ctx, ctx.db, taskInstanceId, runNum, text);
}

const TAIL_BATCH = 64;

// Reads: the newest task_logs rows of one task instance until maxChars are gathered (readLogTail: a 16 MiB
// log costs only the chunks the tail needs); the attempts table answers "no attempt yet" (null).
// Guard: none; the keyset cursor ignores chunks appended during the read.
export async function getLogTail(ctx: Ctx, taskInstanceId: string, maxChars: number): Promise<string | null> {
  const any = await ctx.db.selectFrom('attempts').select('run_num').where('task_instance_id', '=', taskInstanceId).limit(1).executeTakeFirst();
  if (!any) return null;
  if (maxChars <= 0) return '';
  return (await readLogTail(ctx, taskInstanceId, maxChars)).chunks.map((c) => c.text).join('');
}

/** One stored chunk of an attempt's log, with its place: (runNum, seq) orders every chunk of a task instance. */
export interface LogChunk {
  runNum: number;
  seq: number;
  text: string;
}

// Reads: task_logs rows of one task instance after the (runNum, seq) cursor, in order, at most `limit`
// (the live stream's next page). Guard: none; the primary key's order is the log's order.
export async function readLogAfter(ctx: Ctx, taskInstanceId: string, after: { runNum: number; seq: number }, limit: number): Promise<LogChunk[]> {
  const rows = await ctx.db
    .selectFrom('task_logs')
    .select(['run_num', 'seq', 'text'])
    .where('task_instance_id', '=', taskInstanceId)
    .where((eb) => eb.or([eb('run_num', '>', after.runNum), eb.and([eb('run_num', '=', after.runNum), eb('seq', '>', after.seq)])]))
    .orderBy('run_num')
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ runNum: Number(r.run_num), seq: Number(r.seq), text: r.text }));
}

// Reads: the newest task_logs rows of one task instance whose text adds up to `maxChars` (newest-first in
// batches, as getLogTail), returned oldest-first; `truncated` when older chunks (or the start of the oldest
// one returned) were left out. Guard: none.
export async function readLogTail(ctx: Ctx, taskInstanceId: string, maxChars: number): Promise<{ chunks: LogChunk[]; truncated: boolean }> {
  const out: LogChunk[] = [];
  let have = 0;
  let truncated = false;
  let cursor: { run: number; seq: number } | null = null;
  for (;;) {
    let q = ctx.db
      .selectFrom('task_logs')
      .select(['run_num', 'seq', 'text'])
      .where('task_instance_id', '=', taskInstanceId)
      .orderBy('run_num', 'desc')
      .orderBy('seq', 'desc')
      .limit(TAIL_BATCH);
    if (cursor) {
      const c = cursor;
      q = q.where((eb) => eb.or([eb('run_num', '<', c.run), eb.and([eb('run_num', '=', c.run), eb('seq', '<', c.seq)])]));
    }
    const rows = await q.execute();
    for (const r of rows) {
      if (have >= maxChars) {
        truncated = true;
        break;
      }
      let text = r.text;
      if (have + text.length > maxChars) {
        text = text.slice(text.length - (maxChars - have));
        const first = text.charCodeAt(0);
        if (first >= 0xdc00 && first <= 0xdfff) text = text.slice(1);
        truncated = true;
      }
      out.push({ runNum: Number(r.run_num), seq: Number(r.seq), text });
      have += text.length;
    }
    if (truncated || rows.length < TAIL_BATCH) break;
    const last = rows[rows.length - 1];
    cursor = { run: Number(last.run_num), seq: Number(last.seq) };
  }
  return { chunks: out.reverse(), truncated };
}
