// The Idempotency-Key header (contract §12) on the operations that declare `idempotent`: trigger,
// updateAndTrigger, triggerFromTask, import, backfill and rerun. The first request with a key runs once
// (the store's claim decides which, even for copies arriving together, in any process); copies wait for
// its answer and get it as it was sent (requestId included, header `idempotent-replayed: true`); the same
// key with another request is 62102 naming the key. Answers are kept 24 h. A request that failed inside
// the service (62109) gives its key back, so that a retry runs it. At least once across a crash: a process
// that dies after the write and before recording the answer leaves a claim that lapses after LEASE_MS, and
// the next copy runs the request again (a trigger's then meets the one-minute rule).
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { invalid } from '../domain/errors.js';
import type { Caller, Deps } from '../service/context.js';
import { show } from '../service/input.js';
import { failure, success } from './envelope.js';
import { toApiError } from './errors.js';
import type { AnyOperation, VersionSpec } from './operation.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** How long an answer (and a claim) is kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** How long a claim holds before a copy may run the request itself (its holder died or hangs). */
export const IDEMPOTENCY_LEASE_MS = 60_000;
const MAX_KEY_LENGTH = 255;
const POLL_MS = 25;

/** Waiters of this process on keys another request of this process holds (other processes poll). */
const waiters = new Map<string, Set<() => void>>();
function wake(id: string): void {
  const set = waiters.get(id);
  waiters.delete(id);
  for (const f of set ?? []) f();
}
function waitFor(id: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let set = waiters.get(id);
    if (!set) waiters.set(id, (set = new Set()));
    const done = () => {
      clearTimeout(timer);
      set!.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}

/** The header's key, or null without one; a key that is not 1 to 255 visible ASCII characters is refused. */
export function idempotencyKeyOf(req: FastifyRequest): string | null {
  const raw = req.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return null;
  const msg = `Invalid parameter: the Idempotency-Key header must be given once, 1 to ${MAX_KEY_LENGTH} visible ASCII characters, got ${show(raw)}`;
  if (typeof raw !== 'string') throw invalid('Idempotency-Key', msg);
  const key = raw.trim();
  if (key === '' || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) throw invalid('Idempotency-Key', msg);
  return key;
}

export interface Answer {
  envelope: Record<string, unknown>;
  http: number;
  replayed: boolean;
}

/**
 * Runs `op` for the request at most once per (scope, key): the scope is the signing app (authentication
 * on) or the user; the request is the operation, version, identity and body.
 */
export async function runIdempotent(
  deps: Deps,
  req: FastifyRequest,
  key: string,
  op: AnyOperation,
  spec: VersionSpec,
  caller: Caller,
  run: () => Promise<unknown>,
): Promise<Answer> {
  const scope = caller.app ? `app:${caller.app}` : `user:${caller.user.id}`;
  const hash = requestHash(op, spec, caller, req.body);
  const id = `${scope}\u0000${key}`;
  for (;;) {
    const now = deps.clock.now();
    const claim = await deps.store.claimIdempotencyKey({ scope, key, hash, now, leaseMs: IDEMPOTENCY_LEASE_MS, ttlMs: IDEMPOTENCY_TTL_MS });
    switch (claim.state) {
      case 'mismatch':
        throw invalid('Idempotency-Key', `Invalid parameter: Idempotency-Key ${show(key)} was already used for another request (another operation, caller or body) in the last 24 hours; send a new key`);
      case 'done': {
        const kept = JSON.parse(claim.answer) as { envelope: Record<string, unknown>; http: number };
        return { ...kept, replayed: true };
      }
      case 'pending':
        // Its holder answers soon: this process's holder wakes us, another process's is polled for.
        await waitFor(id, Math.max(1, Math.min(POLL_MS * 4, claim.leaseUntil - now)));
        continue;
      case 'claimed':
        return execute(deps, req, { scope, key, hash, id }, spec, run);
    }
  }
}

async function execute(deps: Deps, req: FastifyRequest, k: { scope: string; key: string; hash: string; id: string }, spec: VersionSpec, run: () => Promise<unknown>): Promise<Answer> {
  let answer: { envelope: Record<string, unknown>; http: number };
  try {
    const data = await run();
    answer = { envelope: success(spec.envelope, data === undefined ? '' : data, req.id), http: 200 };
  } catch (err) {
    const e = toApiError(err);
    if (e.key === 'internal' || e.http !== 200) {
      // Not an answer of the operation: the key is free for a retry.
      await deps.store.releaseIdempotencyKey(k.scope, k.key, k.hash).catch(() => {});
      wake(k.id);
      throw err;
    }
    answer = { envelope: failure(spec, e, req.id), http: 200 };
  }
  try {
    await deps.store.completeIdempotencyKey(k.scope, k.key, k.hash, JSON.stringify(answer), deps.clock.now(), IDEMPOTENCY_TTL_MS);
  } catch (err) {
    // The operation's work is done and durable; its answer could not be kept. This request still gets it;
    // a copy waits for the claim to lapse and then runs again (see the header).
    req.log.warn({ err, key: k.key }, 'idempotency key: the answer could not be recorded');
  }
  wake(k.id);
  return { ...answer, replayed: false };
}

/** What a repeat must match: operation, version, identity and the body (canonical JSON: key order does not matter). */
function requestHash(op: AnyOperation, spec: VersionSpec, caller: Caller, body: unknown): string {
  return createHash('sha256').update(canonical({ op: op.name, version: spec.name, user: caller.user.id, org: caller.user.orgId, body: body ?? null })).digest('hex');
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
