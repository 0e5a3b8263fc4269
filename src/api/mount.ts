// Mounts the operation registry under one API version's prefix: one fastify route per operation,
// selected by the `action` query parameter (a find-my-way constraint), the same route again at its alias
// path `/<resource>/<action>` (what /openapi.json documents), a fallback per (method, path)
// answering unknown actions, input key normalisation, and the ONE hook that decides who the caller is.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import { requireActiveUser } from '../service/access.js';
import type { Caller, Deps } from '../service/context.js';
import { resolveCaller } from '../service/identity.js';
import { camelKeys, show } from '../service/input.js';
import { failure, success } from './envelope.js';
import type { Authenticator } from './auth.js';
import { apiError } from './errors.js';
import { idempotencyKeyOf, runIdempotent } from './idempotency.js';
import type { AnyOperation, OpContext, VersionSpec } from './operation.js';
import { sendEventStream, streamSignal, type StreamEvent } from './sse.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    op?: AnyOperation;
    version?: VersionSpec;
    /** The route is the operation's alias path (`/<resource>/<action>`, no `action` query parameter). */
    alias?: boolean;
  }
}

/** find-my-way strategy: routes carry `constraints: { action }`; requests derive it from the query. */
export const actionConstraint = {
  name: 'action',
  mustMatchWhenDerived: false,
  storage() {
    const handlers = new Map<string, unknown>();
    return {
      get: (v: string) => (handlers.get(v) ?? null) as never,
      set: (v: string, h: unknown) => void handlers.set(v, h),
    };
  },
  deriveConstraint(req: IncomingMessage): string {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    // A repeated action names no one operation (it was routed on its first value): the fallback refuses it.
    const all = q < 0 ? [] : new URLSearchParams(url.slice(q + 1)).getAll('action');
    return (all.length === 1 ? all[0] : null) as string;
  },
  validate(v: unknown) {
    if (typeof v !== 'string') throw new Error('action constraint must be a string');
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normalize(o: Record<string, unknown>, aliases: Record<string, string> | undefined): Record<string, unknown> {
  const out = camelKeys(o);
  for (const [from, to] of Object.entries(aliases ?? {})) {
    if (from in out && !(to in out)) out[to] = out[from];
    delete out[from];
  }
  return out;
}

const NO_CALLER: Caller = new Proxy({} as Caller, {
  get() {
    throw new Error('a public operation has no caller');
  },
});

/**
 * The trust decision, the only one: with authentication on (contract §9), the request must be signed by
 * a live app (401 otherwise) within its rate (429); then userId + orgId in the query must name a user of
 * that org (62101), the app must belong to that org (62103), and a locked user may only read (62105).
 * With authentication off (`--no-auth`, loopback only) the query's identity is trusted as the original
 * service trusts its gateway.
 */
async function decideTrust(deps: Deps, auth: Authenticator | null, req: FastifyRequest): Promise<void> {
  const op = req.routeOptions.config.op;
  if (!op || op.access === 'public') return;
  const app = auth ? await auth.authenticate(req) : null;
  const q = req.query as Record<string, unknown>;
  const caller: Caller = { user: await resolveCaller(deps.store, q.userId, q.orgId), app: app?.accessKey ?? null };
  if (app && app.orgId !== caller.user.orgId) {
    throw new DomainError('noPrivilege', `app ${app.accessKey} acts for its own organization only, not for ${caller.user.orgId}`);
  }
  if (op.access === 'write') requireActiveUser(caller);
  req.caller = caller;
}

/** An event-stream operation: its checks throw before the first byte (an envelope), then its events stream. */
async function streamOperation(app: FastifyInstance, op: AnyOperation, ctx: OpContext<unknown, unknown>, reply: FastifyReply, requestId: string): Promise<void> {
  const { signal, done } = streamSignal(app, reply);
  try {
    const events = (await op.handler({ ...ctx, signal })) as AsyncIterable<StreamEvent>;
    await sendEventStream(reply, events, signal, requestId);
  } finally {
    done();
  }
}

export async function mountVersion(app: FastifyInstance, spec: VersionSpec, deps: Deps, ops: AnyOperation[], auth: Authenticator | null = null): Promise<void> {
  const mine = ops.filter((op) => !op.versions || op.versions.includes(spec.name));
  await app.register(
    async (scope) => {
      // One hook, not two: every request pays each hook's dispatch.
      scope.addHook('preValidation', async (req) => {
        if (isPlainObject(req.query)) req.query = normalize(req.query, spec.inputAliases);
        if (isPlainObject(req.body)) req.body = normalize(req.body, spec.inputAliases);
        await decideTrust(deps, auth, req);
        if (req.routeOptions.config.alias) refuseOtherAction(req);
      });
      scope.setNotFoundHandler(async (req, reply) => sendNoSuchPath(spec, req, reply));
      for (const op of mine) {
        // One set of route options per operation, mounted twice: the EnOS form (`/<resource>?action=`)
        // and its alias path (`/<resource>/<action>`, what /openapi.json documents). Same handler, schemas,
        // hooks (identity, signature over the raw query), envelope and errors.
        const options = {
          method: op.method,
          schema: { ...(op.schema.querystring ? { querystring: op.schema.querystring } : {}), ...(op.schema.body ? { body: op.schema.body } : {}) },
          config: { op, version: spec },
          handler: async (req: FastifyRequest, reply: FastifyReply) => {
            if (op.stream) return streamOperation(scope, op, { deps, caller: req.caller ?? NO_CALLER, query: req.query, body: req.body, version: spec }, reply, req.id);
            const run = () => op.handler({ deps, caller: req.caller ?? NO_CALLER, query: req.query, body: req.body, version: spec });
            const key = op.idempotent && req.caller ? idempotencyKeyOf(req) : null;
            if (key !== null && req.caller) {
              const a = await runIdempotent(deps, req, key, op, spec, req.caller, run);
              if (a.replayed) void reply.header('idempotent-replayed', 'true');
              return reply.code(a.http).send(a.envelope);
            }
            const data = await run();
            return reply.send(success(spec.envelope, data === undefined ? '' : data, req.id));
          },
        };
        scope.route({ ...options, url: `/${op.resource}`, constraints: { action: op.action } });
        scope.route({ ...options, url: aliasPath(op), config: { ...options.config, alias: true } });
      }
      for (const key of new Set(mine.map((op) => `${op.method} ${op.resource}`))) {
        const [method, resource] = key.split(' ');
        scope.route({
          method: method as 'GET' | 'POST',
          url: `/${resource}`,
          config: { version: spec },
          handler: async (req, reply) => {
            const action = (req.query as Record<string, unknown>).action;
            const detail = Array.isArray(action)
              ? `Invalid parameter: action must be given once, got ${show(action)} (for ${method} /${resource})`
              : typeof action === 'string' && action !== '' ? `Unknown action "${action}" for ${method} /${resource}` : `Missing parameter: action (for ${method} /${resource})`;
            return reply.send(failure(spec, apiError('unknownAction', detail), req.id));
          },
        });
      }
    },
    { prefix: spec.prefix },
  );
}

/** The alias path of an operation under its version's prefix: `/<resource>/<action>` (e.g. `/flows/trigger`). */
export const aliasPath = (op: Pick<AnyOperation, 'resource' | 'action'>): string => `/${op.resource}/${op.action}`;

/** On an alias path the path names the action: an `action` query parameter may only repeat it. */
function refuseOtherAction(req: FastifyRequest): void {
  const op = req.routeOptions.config.op;
  const action = isPlainObject(req.query) ? req.query.action : undefined;
  if (!op || action === undefined || action === op.action) return;
  throw new DomainError('invalid', `Invalid parameter: action ${show(action)} contradicts the path ${req.url.split('?')[0]} (action ${op.action}); leave it out`);
}

export function sendNoSuchPath(spec: VersionSpec, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const err = apiError('noSuchPath', `${req.method} ${req.url.split('?')[0]}`);
  return reply.code(err.http).send(failure(spec, err, req.id));
}
