// 0003: flows.version, the version guard of Save Flow. Append-only: never edit after merge.
// Every write of a flows row's content (Save, Enable, Disable) increments it; Save writes only while the
// version is still the one it read. Taking or renewing the edit lock does not count as a change of the
// workflow and leaves it alone. Existing rows start at 1.
import type { Kysely } from 'kysely';

export const name = '0003_flow_version';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('flows')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}
