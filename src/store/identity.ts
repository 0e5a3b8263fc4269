// Organizations and users: creation (an org with its root directory), lookups, the user lock flag and contact (email, phone: where alerts reach them).
// Row mapping for both lives here; uniqueness is left to the primary and unique keys.
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { DuplicateKeyError } from '../domain/errors.js';
import type { NewUser, Org, User } from '../domain/types.js';
import { compiledOnce, num, type Ctx, type OrgsTable, type UsersTable } from './db.js';
import { USER_COLUMNS } from './columns.js';

const toOrg = (r: Selectable<OrgsTable>): Org => ({ id: r.id, name: r.name, createdAt: num(r.created_at) });
const toUser = (r: Selectable<UsersTable>): User => ({
  id: r.id,
  name: r.name,
  orgId: r.org_id,
  locked: r.locked === 1,
  createdAt: num(r.created_at),
  email: r.email,
  phone: r.phone,
});

/** The root directory's name in every org (contract §3). */
export const ROOT_DIRECTORY_NAME = 'Workflow';
export const newDirectoryId = (): string => randomUUID().replace(/-/g, '');

// Writes: one orgs row and its root directories row, in one transaction.
// Guard: orgs primary key (DuplicateKeyError) and the one-root-per-org unique index.
export async function createOrg(ctx: Ctx, org: Org): Promise<void> {
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('orgs').values({ id: org.id, name: org.name, created_at: org.createdAt }).execute();
      await trx
        .insertInto('directories')
        .values({ id: newDirectoryId(), org_id: org.id, parent_id: null, name: ROOT_DIRECTORY_NAME, created_at: org.createdAt })
        .execute();
    });
  } catch (err) {
    if (ctx.dialect.isUniqueViolation(err)) throw new DuplicateKeyError(`organization ${org.id} exists`);
    throw err;
  }
}

// Reads: one orgs row by id. Guard: none.
export async function getOrg(ctx: Ctx, id: string): Promise<Org | null> {
  const r = await ctx.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toOrg(r) : null;
}

// Reads: every orgs row, by id. Guard: none.
export async function listOrgs(ctx: Ctx): Promise<Org[]> {
  return (await ctx.db.selectFrom('orgs').selectAll().orderBy('id').execute()).map(toOrg);
}

// Writes: one users row. Guard: users primary key and unique name (DuplicateKeyError).
export async function createUser(ctx: Ctx, user: NewUser): Promise<void> {
  try {
    await ctx.db
      .insertInto('users')
      .values({ id: user.id, name: user.name, org_id: user.orgId, locked: user.locked ? 1 : 0, created_at: user.createdAt, email: user.email ?? '', phone: user.phone ?? '' })
      .execute();
  } catch (err) {
    if (ctx.dialect.isUniqueViolation(err)) throw new DuplicateKeyError(`user ${user.id} or user name ${user.name} exists`);
    throw err;
  }
}

// Compiled once: every API call resolves its caller.
const selectUser = compiledOnce((db, v) => db.selectFrom('users').select(USER_COLUMNS).where('id', '=', v('id')));

// Reads: one users row by id. Guard: none.
export async function getUser(ctx: Ctx, id: string): Promise<User | null> {
  const r = (await selectUser(ctx, ctx.db, '', { id })).rows[0];
  return r ? toUser(r) : null;
}

// Reads: one users row by its unique name. Guard: none.
export async function getUserByName(ctx: Ctx, name: string): Promise<User | null> {
  const r = await ctx.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  return r ? toUser(r) : null;
}

// Writes: users.locked of one row. Guard: none; returns false when no row matched.
export async function setUserLocked(ctx: Ctx, id: string, locked: boolean): Promise<boolean> {
  const r = await ctx.db.updateTable('users').set({ locked: locked ? 1 : 0 }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// Writes: users.email and/or users.phone of one row (a field not given keeps its value). Guard: none;
// returns false when no row matched.
export async function setUserContact(ctx: Ctx, id: string, contact: { email?: string; phone?: string }): Promise<boolean> {
  const set: { email?: string; phone?: string } = {};
  if (contact.email !== undefined) set.email = contact.email;
  if (contact.phone !== undefined) set.phone = contact.phone;
  if (Object.keys(set).length === 0) return (await getUser(ctx, id)) !== null;
  const r = await ctx.db.updateTable('users').set(set).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
