// Idempotency keys (contract §12): the first request with a key claims it (PENDING, under a lease), its
// answer is kept (DONE) for 24 h; copies read the claim and either wait, replay the answer, or are told
// the key stands for another request. The claim is an INSERT ... ON CONFLICT DO NOTHING, so of copies
// arriving at the same moment exactly one inserts, on either store; a claim whose holder died (its lease
// ran out) is taken over by the next copy.
import { locking, num, type Ctx } from './db.js';

export type KeyClaim =
  /** This request holds the key: run it, then complete (or release) the key. */
  | { state: 'claimed' }
  /** Another copy holds it and has not answered yet. */
  | { state: 'pending'; leaseUntil: number }
  /** Answered: the kept answer. */
  | { state: 'done'; answer: string }
  /** The key was used for another request (another body, operation or caller). */
  | { state: 'mismatch' };

export interface KeyRequest {
  scope: string;
  key: string;
  /** The hash of what the request asks (operation, query, body). */
  hash: string;
  now: number;
  /** How long the claim holds before another copy may take it over. */
  leaseMs: number;
  /** How long a claim or an answer is kept at most. */
  ttlMs: number;
}

// Writes: one idempotency_keys row (inserted, or a lapsed one taken over). Guard: the primary key (scope,
// key); the row is read FOR UPDATE on PostgreSQL (SQLite: the write transaction is the only writer).
export async function claimIdempotencyKey(ctx: Ctx, r: KeyRequest): Promise<KeyClaim> {
  return ctx.db.transaction().execute(async (trx) => {
    const fresh = { scope: r.scope, key: r.key, request_hash: r.hash, status: 'PENDING', answer: null, created_at: r.now, lease_until: r.now + r.leaseMs, expires_at: r.now + r.ttlMs };
    const ins = await trx.insertInto('idempotency_keys').values(fresh).onConflict((oc) => oc.columns(['scope', 'key']).doNothing()).executeTakeFirst();
    if (Number(ins.numInsertedOrUpdatedRows ?? 0) > 0) return { state: 'claimed' };
    const row = await locking(trx.selectFrom('idempotency_keys').selectAll().where('scope', '=', r.scope).where('key', '=', r.key), ctx.dialect.kind, 'update').executeTakeFirst();
    if (!row || num(row.expires_at) <= r.now) {
      // Expired (not purged yet): the key is free again.
      await trx.deleteFrom('idempotency_keys').where('scope', '=', r.scope).where('key', '=', r.key).execute();
      await trx.insertInto('idempotency_keys').values(fresh).execute();
      return { state: 'claimed' };
    }
    if (row.request_hash !== r.hash) return { state: 'mismatch' };
    if (row.status === 'DONE') return { state: 'done', answer: row.answer ?? '' };
    if (num(row.lease_until) > r.now) return { state: 'pending', leaseUntil: num(row.lease_until) };
    // The holder's lease ran out (it died, or its request never finished): this copy runs it.
    await trx.updateTable('idempotency_keys').set({ lease_until: r.now + r.leaseMs }).where('scope', '=', r.scope).where('key', '=', r.key).execute();
    return { state: 'claimed' };
  });
}

// Writes: the claimed row -> DONE with the answer, kept `ttlMs` from now. Guard: it is still PENDING with
// this request's hash; false (nothing written) otherwise.
export async function completeIdempotencyKey(ctx: Ctx, scope: string, key: string, hash: string, answer: string, now: number, ttlMs: number): Promise<boolean> {
  const r = await ctx.db
    .updateTable('idempotency_keys')
    .set({ status: 'DONE', answer, expires_at: now + ttlMs })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('request_hash', '=', hash)
    .where('status', '=', 'PENDING')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// Writes: deletes a PENDING claim (its request failed inside the service: a retry must run it again).
// Guard: still PENDING with this hash.
export async function releaseIdempotencyKey(ctx: Ctx, scope: string, key: string, hash: string): Promise<void> {
  await ctx.db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('request_hash', '=', hash).where('status', '=', 'PENDING').execute();
}

// Writes: deletes the rows that expired at or before `now` (the index idempotency_keys_expires_idx).
export async function purgeIdempotencyKeys(ctx: Ctx, now: number): Promise<number> {
  const r = await ctx.db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
