// Authentication state (contract §9): apps with their sealed secrets, issued tokens, and the nonces
// (signatures, token-request encryptions) already seen, each with its expiry, so that every process of
// a deployment agrees on what is valid and what is a replay. The master key's id lives in batchflow_meta.
import type { Selectable } from 'kysely';
import { DomainError, DuplicateKeyError } from '../domain/errors.js';
import type { AccessToken, App } from '../domain/types.js';
import { compiledOnce, locking, num, type AppTokensTable, type AppsTable, type Ctx, type Tx } from './db.js';

const toApp = (r: Selectable<AppsTable>): App => ({
  accessKey: r.access_key,
  orgId: r.org_id,
  name: r.name,
  secretSealed: r.secret_sealed,
  createdAt: num(r.created_at),
  revokedAt: r.revoked_at === null ? null : num(r.revoked_at),
});
const toToken = (r: Selectable<AppTokensTable>): AccessToken => ({
  tokenHash: r.token_hash,
  accessKey: r.access_key,
  tokenSealed: r.token_sealed,
  issuedAt: num(r.issued_at),
  expiresAt: num(r.expires_at),
});

// Reads and writes: batchflow_meta 'master_key_id'. Guard: its primary key (the first writer wins);
// returns the id recorded, which may be another process's.
export async function claimMasterKeyId(ctx: Ctx, keyId: string): Promise<string> {
  await ctx.db.insertInto('batchflow_meta').values({ key: 'master_key_id', value: keyId }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const r = await ctx.db.selectFrom('batchflow_meta').select('value').where('key', '=', 'master_key_id').executeTakeFirstOrThrow();
  return r.value;
}

// Writes: one apps row. Guard: primary key (DuplicateKeyError); the org must exist (DomainError notFound).
export async function createApp(ctx: Ctx, app: App): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const org = await locking(trx.selectFrom('orgs').select('id').where('id', '=', app.orgId), ctx.dialect.kind, 'keyShare').executeTakeFirst();
    if (!org) throw new DomainError('notFound', `organization ${app.orgId} not found`, 'org');
    try {
      await trx
        .insertInto('apps')
        .values({ access_key: app.accessKey, org_id: app.orgId, name: app.name, secret_sealed: app.secretSealed, created_at: app.createdAt, revoked_at: app.revokedAt })
        .execute();
    } catch (err) {
      if (ctx.dialect.isUniqueViolation(err)) throw new DuplicateKeyError(`app ${app.accessKey} exists`);
      throw err;
    }
  });
}

// Reads: one apps row. Guard: none.
export async function getApp(ctx: Ctx, accessKey: string): Promise<App | null> {
  const r = await ctx.db.selectFrom('apps').selectAll().where('access_key', '=', accessKey).executeTakeFirst();
  return r ? toApp(r) : null;
}

// Reads: apps rows (of one org, or all), oldest first. Guard: none.
export async function listApps(ctx: Ctx, orgId?: string): Promise<App[]> {
  let q = ctx.db.selectFrom('apps').selectAll();
  if (orgId !== undefined) q = q.where('org_id', '=', orgId);
  return (await q.orderBy('created_at').orderBy('access_key').execute()).map(toApp);
}

// Writes: apps.revoked_at of one live app, and deletes its tokens, in one transaction. Guard: revoked_at
// is null (false when no live app matched: unknown or already revoked).
export async function revokeApp(ctx: Ctx, accessKey: string, at: number): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    const r = await trx.updateTable('apps').set({ revoked_at: at }).where('access_key', '=', accessKey).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    await trx.deleteFrom('app_tokens').where('access_key', '=', accessKey).execute();
    return true;
  });
}

/** Locks the app's row (PostgreSQL: FOR UPDATE; SQLite's write transaction holds the store); false unless it is live. */
async function lockLiveApp(ctx: Ctx, trx: Tx, accessKey: string): Promise<boolean> {
  const app = await locking(trx.selectFrom('apps').select('revoked_at').where('access_key', '=', accessKey), ctx.dialect.kind, 'update').executeTakeFirst();
  return app !== undefined && app.revoked_at === null;
}

/**
 * Reads: the app's newest token valid past `validPast`; writes: `make()`'s token when there is none. One
 * transaction under the app row's lock, so concurrent callers of one app get one token. Guard: the app
 * is live (null when unknown or revoked).
 */
export async function tokenFor(ctx: Ctx, accessKey: string, validPast: number, make: () => AccessToken): Promise<{ token: AccessToken; issued: boolean } | null> {
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await lockLiveApp(ctx, trx, accessKey))) return null;
    const live = await trx
      .selectFrom('app_tokens')
      .selectAll()
      .where('access_key', '=', accessKey)
      .where('expires_at', '>', validPast)
      .orderBy('expires_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (live) return { token: toToken(live), issued: false };
    const t = make();
    await trx.insertInto('app_tokens').values({ token_hash: t.tokenHash, access_key: t.accessKey, token_sealed: t.tokenSealed, issued_at: t.issuedAt, expires_at: t.expiresAt }).execute();
    return { token: t, issued: true };
  });
}

/**
 * Refresh: replaces the app's token `oldHash` by `next` in one transaction under the app row's lock.
 * Guard: the app is live and `oldHash` is one of its tokens (false otherwise, nothing written).
 */
export async function replaceToken(ctx: Ctx, oldHash: string, next: AccessToken): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await lockLiveApp(ctx, trx, next.accessKey))) return false;
    const r = await trx.deleteFrom('app_tokens').where('token_hash', '=', oldHash).where('access_key', '=', next.accessKey).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    await trx
      .insertInto('app_tokens')
      .values({ token_hash: next.tokenHash, access_key: next.accessKey, token_sealed: next.tokenSealed, issued_at: next.issuedAt, expires_at: next.expiresAt })
      .execute();
    return true;
  });
}

// Compiled once: every signed API call looks its token up.
const selectTokenWithApp = compiledOnce((db, v) =>
  db
    .selectFrom('app_tokens as t')
    .innerJoin('apps as a', 'a.access_key', 't.access_key')
    .select(['t.token_hash', 't.access_key', 't.token_sealed', 't.issued_at', 't.expires_at', 'a.org_id', 'a.name', 'a.secret_sealed', 'a.created_at', 'a.revoked_at'])
    .where('t.token_hash', '=', v('hash')),
);

// Reads: one app_tokens row with its apps row. Guard: none (the caller checks expiry and revocation).
export async function findToken(ctx: Ctx, tokenHash: string): Promise<{ token: AccessToken; app: App } | null> {
  const r = (await selectTokenWithApp(ctx, ctx.db, '', { hash: tokenHash })).rows[0];
  if (!r) return null;
  return {
    token: toToken(r),
    app: toApp({ access_key: r.access_key, org_id: r.org_id, name: r.name, secret_sealed: r.secret_sealed, created_at: r.created_at, revoked_at: r.revoked_at }),
  };
}

const insertNonce = compiledOnce((db, v) =>
  db
    .insertInto('auth_nonces')
    .values({ nonce: v('nonce'), expires_at: v('expiresAt') })
    .onConflict((oc) => oc.column('nonce').doNothing()),
);

// Writes: one auth_nonces row. Guard: its primary key: false when the nonce was already there (a replay).
export async function rememberNonce(ctx: Ctx, nonce: string, expiresAt: number): Promise<boolean> {
  const r = await insertNonce(ctx, ctx.db, '', { nonce, expiresAt });
  return Number(r.numAffectedRows ?? 0) === 1;
}

// Writes: auth_nonces rows, one statement for many. Guard: the primary key: returns the nonces this call
// recorded (the others were there already: replays). Each nonce at most once per call (the caller's job).
export async function rememberNonces(ctx: Ctx, items: Array<{ nonce: string; expiresAt: number }>): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows = await ctx.db
    .insertInto('auth_nonces')
    .values(items.map((i) => ({ nonce: i.nonce, expires_at: i.expiresAt })))
    .onConflict((oc) => oc.column('nonce').doNothing())
    .returning('nonce')
    .execute();
  return new Set(rows.map((r) => r.nonce));
}

// Writes: deletes tokens and nonces expired before `now`. Guard: none (expired rows mean nothing).
export async function purgeAuth(ctx: Ctx, now: number): Promise<{ tokens: number; nonces: number }> {
  const t = await ctx.db.deleteFrom('app_tokens').where('expires_at', '<', now).executeTakeFirst();
  const n = await ctx.db.deleteFrom('auth_nonces').where('expires_at', '<', now).executeTakeFirst();
  return { tokens: Number(t.numDeletedRows), nonces: Number(n.numDeletedRows) };
}

/**
 * Master key rotation: every sealed app secret and token resealed by `reseal(sealed, boundTo)`, and the
 * recorded key id set to `newKeyId`, in one transaction (all or nothing). Returns the rows resealed.
 */
export async function resealSecrets(ctx: Ctx, reseal: (sealed: string, boundTo: string) => string, newKeyId: string): Promise<{ apps: number; tokens: number }> {
  return ctx.db.transaction().execute(async (trx) => {
    const apps = await trx.selectFrom('apps').select(['access_key', 'secret_sealed']).execute();
    for (const a of apps) await trx.updateTable('apps').set({ secret_sealed: reseal(a.secret_sealed, a.access_key) }).where('access_key', '=', a.access_key).execute();
    const tokens = await trx.selectFrom('app_tokens').select(['token_hash', 'token_sealed']).execute();
    for (const t of tokens) await trx.updateTable('app_tokens').set({ token_sealed: reseal(t.token_sealed, t.token_hash) }).where('token_hash', '=', t.token_hash).execute();
    await trx.insertInto('batchflow_meta').values({ key: 'master_key_id', value: newKeyId }).onConflict((oc) => oc.column('key').doUpdateSet({ value: newKeyId })).execute();
    return { apps: apps.length, tokens: tokens.length };
  });
}
