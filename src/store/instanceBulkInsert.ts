// PostgreSQL's creation of a batch of flow instances (flowInstances.ts's group commit) in ONE statement:
// every instance row, every task instance row, the seqs and the guards (the flow exists in the org, it is
// at the version the create was built from, its edit lock allows the trigger, the one-minute primary key)
// as CTEs over arrays. A round trip costs both
// processes CPU (the api process and the backend each ~0.1-0.2 ms a statement under load), and the
// statement-per-row path took 6-7 of them per create plus BEGIN, nextval and COMMIT per batch; a single
// statement also needs no BEGIN/COMMIT (it is atomic alone). SQLite keeps the statement-per-row path:
// in-process, its statements cost microseconds.
import { CompiledQuery } from 'kysely';
import type { FlowInstance } from '../domain/types.js';
import type { FlowSnapshot, FlowVersionRef } from '../domain/versions.js';
import type { NewFlowInstance } from './store.js';
import { compiledTexts, num, type Ctx, type QueryRunner } from './db.js';
import { createRefusal } from './flowGuards.js';
import { versionsByIds } from './versions.js';

// u: the creates in arrival order, each with its seq (nextval per row, in `ord` order: seqs order instances).
// f: their flows rows, FOR KEY SHARE (a concurrent Delete is waited for, and its row is then gone).
// ins: the instance rows whose flow is there and whose lock allows them (lockHeldByOther in SQL); a row
//   whose id exists (committed, or an earlier create of this statement) is not inserted: ON CONFLICT DO
//   NOTHING, never check-then-write. RETURNING seq names which creates were written.
// t: the task instance rows of the written instances only.
// The final select gives, per create, what decides its answer: written, or why not (flow gone, lock).
const U_COLUMNS = 'id, flow_id, org_id, kind, start_task_id, trigger_time, due_at, owner, overrides, version_id, created_at, lock_user_id, flow_version, ord';
// No `*` in the text: postgres.ts prepares only texts without one.
const TEXT = `with u as materialized (
  select ${U_COLUMNS}, nextval('flow_instance_seq') as seq from (
    select ${U_COLUMNS} from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::bigint[])
      with ordinality as x(${U_COLUMNS})
    order by ord
  ) x
),
f as (
  select id, org_id, lock_user_id, lock_user_name, lock_expires_at, version from flows where id in (select flow_id from u) for key share
),
ins as (
  insert into flow_instances (id, flow_id, org_id, seq, kind, start_task_id, trigger_time, due_at, status, owner, overrides, version_id, created_at, started_at, ended_at, updated_at, reason)
  select u.id, u.flow_id, u.org_id, u.seq, u.kind, u.start_task_id, u.trigger_time, u.due_at, 'WAIT', u.owner, u.overrides, u.version_id, u.created_at, null, null, u.created_at, null
  from u join f on f.id = u.flow_id and f.org_id = u.org_id
  where (u.flow_version is null or f.version = u.flow_version)
    and (u.lock_user_id is null or f.lock_user_id is null or coalesce(f.lock_expires_at, 0) <= u.created_at or f.lock_user_id = u.lock_user_id)
  order by u.ord
  on conflict (id) do nothing
  returning seq
),
t as (
  insert into task_instances (id, flow_instance_id, flow_id, ord, task_id, node_id, task_name, status, run_num, started_at, ended_at, next_run_at, exit_code, is_timeout, updated_at, waiting_on, due_at)
  select k.id, u.id, k.flow_id, k.ord, k.task_id, k.node_id, k.task_name, k.status, 0, null, case when k.status = 'SKIP' then u.created_at end, null, null, 0, u.created_at, k.waiting_on, null
  from unnest($14::bigint[], $15::text[], $16::bigint[], $17::int[], $18::bigint[], $19::text[], $20::text[], $21::text[], $22::int[])
    as k(create_ord, id, flow_id, ord, task_id, node_id, task_name, status, waiting_on)
  join u on u.ord = k.create_ord
  join ins on ins.seq = u.seq
)
select u.ord, u.seq, ins.seq is not null as written, f.id is not null as found, f.lock_user_id, f.lock_user_name, f.lock_expires_at, f.version
from u left join f on f.id = u.flow_id and f.org_id = u.org_id left join ins on ins.seq = u.seq
order by u.ord`;
compiledTexts.add(TEXT);

interface Row {
  ord: string | number;
  seq: string | number;
  written: boolean;
  found: boolean;
  lock_user_id: string | null;
  lock_user_name: string | null;
  lock_expires_at: string | number | null;
  version: string | number | null;
}

/** Whether this path can take the creates: every one names its version (the service's creates do). */
export function canInsertAtOnce(inputs: NewFlowInstance[]): boolean {
  return inputs.every((p) => p.instance.versionId !== undefined);
}

/**
 * Inserts the creates in one statement on `runner` (outside a transaction: the statement is atomic; or
 * inside one). As insertInstances: per create its instance, null where its id existed, or the error its
 * flow refused it with (flowGuards.createRefusal: StaleError, StaleFlowError or EditLockedError).
 */
export async function insertInstancesAtOnce(ctx: Ctx, runner: QueryRunner, inputs: NewFlowInstance[]): Promise<Array<FlowInstance | Error | null>> {
  const versions = await versionsByIds(ctx, runner, [...new Set(inputs.map((p) => p.instance.versionId!))]);
  const cols: unknown[][] = Array.from({ length: 22 }, () => []);
  inputs.forEach((p, k) => {
    const i = p.instance;
    const values = [i.id, i.flowId, i.orgId, i.kind, i.startTaskId, i.triggerTime, i.dueAt, i.owner, JSON.stringify(i.overrides), i.versionId, i.createdAt, p.lockUserId ?? null, p.flowVersion ?? null];
    values.forEach((v, c) => cols[c].push(v));
    p.tasks.forEach((t, ord) => {
      [k + 1, t.id, t.flowId, ord, t.taskId, t.nodeId, t.taskName, t.status, t.waitingOn].forEach((v, c) => cols[13 + c].push(v));
    });
  });
  const rows = (await runner.executeQuery<Row>(CompiledQuery.raw(TEXT, cols))).rows;
  return rows.map((r, k): FlowInstance | Error | null => {
    const input = inputs[k];
    const i = input.instance;
    // Not written: refused by its flow's row, or (no refusal) its id existed.
    if (!r.written) return createRefusal(ctx, input, r.found ? { ...r, lock_expires_at: r.lock_expires_at === null ? null : num(r.lock_expires_at), version: num(r.version!) } : undefined);
    const { snapshot, ...version } = versions.get(i.versionId!)! as { snapshot: FlowSnapshot } & FlowVersionRef;
    const { versionId: _v, ...created } = i;
    return { ...created, snapshot, seq: num(r.seq), version, status: 'WAIT', startedAt: null, endedAt: null, reason: null };
  });
}
