// Directories: one tree per org, rooted at the `Workflow` directory created with the org (identity.ts).
// Sibling-name uniqueness and one root per org are unique keys; this file only maps rows.
import type { Selectable } from 'kysely';
import { DuplicateKeyError } from '../domain/errors.js';
import type { Directory } from '../domain/types.js';
import { num, type Ctx, type DirectoriesTable } from './db.js';

const toDirectory = (r: Selectable<DirectoriesTable>): Directory => ({
  id: r.id,
  orgId: r.org_id,
  parentId: r.parent_id,
  name: r.name,
  createdAt: num(r.created_at),
});

// Writes: one directories row. Guard: unique (org_id, parent_id, name), one root per org, primary key.
export async function createDirectory(ctx: Ctx, dir: Directory): Promise<void> {
  try {
    await ctx.db
      .insertInto('directories')
      .values({ id: dir.id, org_id: dir.orgId, parent_id: dir.parentId, name: dir.name, created_at: dir.createdAt })
      .execute();
  } catch (err) {
    if (ctx.dialect.isUniqueViolation(err)) {
      throw new DuplicateKeyError(`directory ${dir.parentId ?? '(root)'} already has a child named ${dir.name} (or id ${dir.id} exists)`);
    }
    throw err;
  }
}

// Reads: one directories row of the org. Guard: org_id (other orgs' directories are invisible).
export async function getDirectory(ctx: Ctx, orgId: string, id: string): Promise<Directory | null> {
  const r = await ctx.db.selectFrom('directories').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  return r ? toDirectory(r) : null;
}

// Reads: the org's root directories row (parent_id null). Guard: org_id.
export async function getRootDirectory(ctx: Ctx, orgId: string): Promise<Directory | null> {
  const r = await ctx.db.selectFrom('directories').selectAll().where('org_id', '=', orgId).where('parent_id', 'is', null).executeTakeFirst();
  return r ? toDirectory(r) : null;
}

// Reads: every directories row of the org, by creation time. Guard: org_id.
export async function listDirectories(ctx: Ctx, orgId: string): Promise<Directory[]> {
  return (await ctx.db.selectFrom('directories').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute()).map(toDirectory);
}
