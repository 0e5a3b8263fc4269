// 0006: flow versions (issue 12). Append-only: never edit after merge.
// An instance stops carrying a copy of its flow (flow_instances.snapshot, ~850 bytes for a one-task flow,
// tens of KB for a large one) and the parameters derived from it: it references a row of flow_versions,
// one per distinct content of a flow (src/domain/versions.ts: the definition without the edit lock and
// the save bookkeeping, identified by its SHA-256). Existing data: every distinct content found in an
// instance's snapshot or in the flow as it is now becomes a version, numbered per flow in the order of
// the save that made it (the snapshot's updatedAt); each instance then references its own.
import type { Kysely } from 'kysely';
import { snapshotOf, versionHash, type FlowSnapshot } from '../../domain/versions.js';
import { inNodeOrder, toFlow, toTask } from '../flows.js';

export const name = '0006_flow_versions';

/** Instances read per round of the two passes over flow_instances. */
const CHUNK = 1000;

interface Candidate {
  hash: string;
  content: string;
  at: number;
  by: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('flow_versions')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('flow_id', 'bigint', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('flow_versions_hash_uq', ['flow_id', 'hash'])
    .addUniqueConstraint('flow_versions_number_uq', ['flow_id', 'number'])
    .execute();
  await db.insertInto('batchflow_counters').values({ name: 'flow_version', value: 0 }).execute();
  await s.alterTable('flow_instances').addColumn('version_id', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  // The current content's version of each flow (Flow.versionId): triggers reference it without hashing.
  await s.alterTable('flows').addColumn('version_id', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

  const byFlow = new Map<number, Map<string, Candidate>>();
  const consider = (flowId: number, snap: FlowSnapshot, at: number, by: string) => {
    const snapshot = snapshotOf(snap);
    const hash = versionHash(snapshot);
    let m = byFlow.get(flowId);
    if (!m) byFlow.set(flowId, (m = new Map()));
    const seen = m.get(hash);
    if (!seen) m.set(hash, { hash, content: JSON.stringify(snapshot), at, by });
    else if (at < seen.at) Object.assign(seen, { at, by });
  };

  // The flows as they are now.
  const currentHash = new Map<number, string>();
  for (const row of await db.selectFrom('flows').selectAll().execute()) {
    const flow = toFlow({ ...row, version_id: 0 } as Parameters<typeof toFlow>[0]);
    const taskRows = await db.selectFrom('tasks').selectAll().where('flow_id', '=', row.id).execute();
    const tasks = taskRows.map((t) => toTask(t as Parameters<typeof toTask>[0]));
    const snap = { flow, tasks: inNodeOrder(flow.nodes, tasks) };
    consider(flow.id, snap, flow.updatedAt, flow.updateUser);
    currentHash.set(flow.id, versionHash(snapshotOf(snap)));
  }
  // Pass 1: the contents the instances ran.
  await eachChunk(db, (rows) => {
    for (const r of rows) {
      const snap = JSON.parse(r.snapshot as string) as { flow: { updatedAt?: number; updateUser?: string } } & FlowSnapshot;
      consider(Number(r.flow_id), snap, Number(snap.flow.updatedAt ?? r.created_at), snap.flow.updateUser ?? '');
    }
    return Promise.resolve();
  });

  const idOf = new Map<string, number>();
  let nextId = 0;
  for (const [flowId, m] of byFlow) {
    const ordered = [...m.values()].sort((a, b) => a.at - b.at || (a.hash < b.hash ? -1 : 1));
    for (const [k, c] of ordered.entries()) {
      nextId += 1;
      idOf.set(`${flowId}:${c.hash}`, nextId);
      await db
        .insertInto('flow_versions')
        .values({ id: nextId, flow_id: flowId, number: k + 1, hash: c.hash, content: c.content, created_at: c.at, created_by: c.by })
        .execute();
    }
  }
  await db.updateTable('batchflow_counters').set({ value: nextId }).where('name', '=', 'flow_version').execute();
  for (const [flowId, hash] of currentHash) await db.updateTable('flows').set({ version_id: idOf.get(`${flowId}:${hash}`)! }).where('id', '=', flowId).execute();

  // Pass 2: each instance references its version.
  await eachChunk(db, async (rows) => {
    const idsOf = new Map<number, string[]>();
    for (const r of rows) {
      const hash = versionHash(snapshotOf(JSON.parse(r.snapshot as string) as FlowSnapshot));
      const vid = idOf.get(`${Number(r.flow_id)}:${hash}`)!;
      let list = idsOf.get(vid);
      if (!list) idsOf.set(vid, (list = []));
      list.push(r.id as string);
    }
    for (const [vid, ids] of idsOf) await db.updateTable('flow_instances').set({ version_id: vid }).where('id', 'in', ids).execute();
  });

  await s.alterTable('flow_instances').dropColumn('snapshot').execute();
  await s.alterTable('flow_instances').dropColumn('parameters').execute();
}

/** Every flow_instances row (id, flow_id, created_at, snapshot), CHUNK at a time in seq order. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function eachChunk(db: Kysely<any>, fn: (rows: Array<Record<string, unknown>>) => Promise<void>): Promise<void> {
  let after = -1;
  for (;;) {
    const rows = await db
      .selectFrom('flow_instances')
      .select(['id', 'flow_id', 'seq', 'created_at', 'snapshot'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(CHUNK)
      .execute();
    if (rows.length === 0) return;
    await fn(rows);
    after = Number(rows[rows.length - 1].seq);
  }
}
