// 0007: what List Flow Instances, Search Flow and Get My Flow need to stay fast at a million instances
// (instanceSearch.ts explains the plans). Append-only: never edit after merge.
// - flow_instances_search_idx: the filters of a search (flow set, status, trigger time range, owner) in
//   one covering index, so the exact count never reads a table row.
// - instance_minutes: one row per (id suffix after the dash, trigger minute) ever created, kept by a
//   trigger on insert: an instance-id fragment is matched against these few rows, and the minutes found
//   lead to the instances through the trigger-time index (no index over a million ids).
// - flows_search_idx: the columns the flow-side filters and Search Flow read, so that they scan the org's
//   flows in an index (10,000 flows: a few hundred KB) instead of its wide rows.
import { sql, type Kysely } from 'kysely';

export const name = '0007_search';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, kind: 'sqlite' | 'postgres'): Promise<void> {
  const s = db.schema;
  await s.createIndex('flow_instances_search_idx').on('flow_instances').columns(['flow_id', 'status', 'trigger_time', 'owner']).execute();
  // The flow-side filters and Search Flow's sort keys: both read the org's flows in this index alone.
  await s.createIndex('flows_search_idx').on('flows').columns(['org_id', 'type', 'id', 'creator_name', 'name', 'created_at', 'updated_at', 'start_date']).execute();

  // `minute` is trigger_time div 60000; `stamp` is the id after its first dash (`yyyyMMddHHmm00` in the
  // zone the instance was made in): recording the pair, not deriving one from the other, keeps a
  // search exact across a change of the service's zone. Rows are never deleted with their instances:
  // a stale row only costs one index probe that finds nothing.
  await s
    .createTable('instance_minutes')
    .addColumn('stamp', 'text', (c) => c.notNull())
    .addColumn('minute', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('instance_minutes_pk', ['stamp', 'minute'])
    .execute();
  if (kind === 'sqlite') {
    await sql`create trigger flow_instances_minute after insert on flow_instances begin
      insert or ignore into instance_minutes (stamp, minute) values (substr(new.id, instr(new.id, '-') + 1), new.trigger_time / 60000);
    end`.execute(db);
  } else {
    // The existence check first: a plain read sees the committed row and skips the insert, so concurrent
    // triggers of one minute wait on each other only for that minute's first instance.
    await sql`create function batchflow_record_minute() returns trigger language plpgsql as $$
      declare
        st text := substr(new.id, strpos(new.id, '-') + 1);
        mi bigint := new.trigger_time / 60000;
      begin
        if not exists (select 1 from instance_minutes where stamp = st and minute = mi) then
          insert into instance_minutes (stamp, minute) values (st, mi) on conflict do nothing;
        end if;
        return null;
      end $$`.execute(db);
    await sql`create trigger flow_instances_minute after insert on flow_instances for each row execute function batchflow_record_minute()`.execute(db);
  }
  await sql`insert into instance_minutes (stamp, minute)
    select distinct substr(id, ${sql.raw(kind === 'sqlite' ? "instr(id, '-')" : "strpos(id, '-')")} + 1), trigger_time / 60000 from flow_instances`.execute(db);
}
