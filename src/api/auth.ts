// The HTTP side of authentication (contract §9): the body parsers that keep the raw bytes a signature
// covers, the token service's two routes with the gateway's envelope, and `authenticate`, which the one
// trust hook (src/api/mount.ts) calls for every non-public operation.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import type { App } from '../domain/types.js';
import { AuthError } from '../service/auth/errors.js';
import type { SecretBox } from '../service/auth/secretBox.js';
import { getAccessToken, refreshAccessToken } from '../service/auth/tokens.js';
import { createVerifier } from '../service/auth/verify.js';
import type { Deps } from '../service/context.js';
import { toApiError } from './errors.js';
import { RateLimitedError, RateLimiter } from './rateLimit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes as received (null without a body): what apim-signature covers. */
    rawBody: Buffer | null;
  }
}

const EMPTY = Buffer.alloc(0);

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** JSON and text bodies parsed as fastify does, with their raw bytes kept on the request. */
export function keepRawBodies(app: FastifyInstance): void {
  app.decorateRequest('rawBody', null);
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(req.headers['content-type'] ?? ''))?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      done(new DomainError('invalid', `Invalid request body: charset ${charset.slice(0, 40)} is not accepted; send UTF-8 JSON`, 'body'), undefined);
      return;
    }
    const text = (body as Buffer).toString('utf8');
    json(req, text, (err, value) => {
      // fastify refuses `__proto__` and `constructor.prototype` keys as "not valid JSON": say what it is.
      if (err && isValidJson(text)) done(new DomainError('invalid', 'Invalid request body: the keys "__proto__" and "constructor"."prototype" are not accepted', 'body'), undefined);
      else done(err, value);
    });
  });
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    done(null, (body as Buffer).toString('utf8'));
  });
}

export interface Authenticator {
  /** The app that signed the request; throws the API error to answer otherwise. */
  authenticate(req: FastifyRequest): Promise<App>;
}

export function authenticator(deps: Deps, box: SecretBox): Authenticator {
  const limiter = new RateLimiter(deps.config.rateLimitPerSec, deps.config.rateLimitBurst);
  const verifier = createVerifier(deps, box);
  return {
    async authenticate(req) {
      const url = req.raw.url ?? '';
      const q = url.indexOf('?');
      const app = await verifier.verify({ headers: req.headers, rawQuery: q < 0 ? '' : url.slice(q + 1), rawBody: req.rawBody ?? EMPTY });
      const taken = limiter.take(app.accessKey, Date.now());
      if (!taken.ok) throw new RateLimitedError(taken.retryAfterMs);
      return app;
    },
  };
}

const BUSINESS = 'apim-token-service';

/** POST /apim-token-service/v2.0/token/get and /token/refresh: the gateway's envelope `{status, msg, business, data}`. */
export async function mountTokenService(app: FastifyInstance, deps: Deps, box: SecretBox): Promise<void> {
  const limiter = new RateLimiter(deps.config.rateLimitPerSec, deps.config.rateLimitBurst);
  const answer = async (req: FastifyRequest, reply: FastifyReply, fn: () => Promise<unknown>) => {
    try {
      const appKey = (req.body as { appKey?: unknown } | null)?.appKey;
      const taken = limiter.take(`token:${typeof appKey === 'string' ? appKey : req.ip}`, Date.now());
      if (!taken.ok) throw new RateLimitedError(taken.retryAfterMs);
      const data = await fn();
      return reply.send({ status: 0, msg: 'SUCCESS', business: BUSINESS, requestId: req.id, data });
    } catch (err) {
      const e = toApiError(err);
      if (e.key === 'internal') req.log.error({ err }, 'internal error (token service)');
      if (err instanceof RateLimitedError) reply.header('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
      // Bad input here is an authentication failure too: 401, the gateway's 1004.
      const code = err instanceof AuthError || e.key === 'rateLimited' || e.key === 'internal' ? e.code : 1004;
      const http = e.key === 'internal' ? 200 : e.http === 200 || e.http === 400 ? 401 : e.http;
      return reply.code(http).send({ status: code, msg: e.msg, business: BUSINESS, requestId: req.id, data: null });
    }
  };
  await app.register(
    async (scope) => {
      scope.setErrorHandler(async (error, req, reply) => answer(req, reply, () => Promise.reject(error)));
      scope.post('/token/get', async (req, reply) => answer(req, reply, () => getAccessToken(deps, box, req.body)));
      scope.post('/token/refresh', async (req, reply) => answer(req, reply, () => refreshAccessToken(deps, box, req.body)));
    },
    { prefix: '/apim-token-service/v2.0' },
  );
}
