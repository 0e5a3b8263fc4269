// 0008: retention (src/store/purge.ts). Append-only: never edit after merge.
// The purge finds instances that ended before a cut-off through this partial index on (ended_at, id):
// only ended instances are in it, so a purge of a huge store with few matches reads a few index pages,
// and (ended_at, id) is the purge's keyset cursor (covering: the candidate query reads no table row).
// Space reclaim needs no schema: SQLite's auto_vacuum is a file setting (src/store/sqliteSpace.ts).
import { sql, type Kysely } from 'kysely';

export const name = '0008_retention';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('flow_instances_ended_idx')
    .on('flow_instances')
    .columns(['ended_at', 'id'])
    .where(sql<boolean>`ended_at is not null`)
    .execute();
}
