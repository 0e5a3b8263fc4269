// The access log: exactly one info line per request, as JSON through the request's logger (so it carries
// `requestId`): method, path, operation, the envelope's code, the HTTP status and the duration in ms.
// It never logs a body or the query string (ids, and later signatures, travel there); fastify's own
// request/response lines are off (`disableRequestLogging` in app.ts), so this line is the only one.
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyReply {
    /** The `code` (V2.1) or `status` (V2.0) of the envelope sent, null for anything else (docs, assets). */
    envelopeCode: number | null;
  }
}

/** The registry's operation name; else the route's resource and the action asked for; null without a route. */
function operationOf(req: FastifyRequest): string | null {
  const op = req.routeOptions.config?.op;
  if (op) return op.name;
  const url = req.routeOptions.url;
  if (!url) return null;
  const resource = url.slice(url.lastIndexOf('/') + 1);
  const action = (req.query as Record<string, unknown> | undefined)?.action;
  return typeof action === 'string' && action !== '' ? `${resource}/${action}` : resource;
}

/** Adds the two hooks to the root instance: before any route is registered, so they cover every route. */
/**
 * Keeps the envelope's code on the reply (`reply.envelopeCode`) for the onResponse hooks of the access log
 * and the HTTP metrics; installed once, whichever of them asks first.
 */
export function keepEnvelopeCode(app: FastifyInstance): void {
  if (app.hasReplyDecorator('envelopeCode')) return;
  app.decorateReply('envelopeCode', null);
  // Callback style: no promise per request on the hot path. The payload is still the envelope object here.
  app.addHook('preSerialization', (_req, reply, payload, done) => {
    const p = payload as { code?: unknown; status?: unknown } | null;
    const code = p !== null && typeof p === 'object' ? (typeof p.code === 'number' ? p.code : p.status) : undefined;
    reply.envelopeCode = typeof code === 'number' ? code : null;
    done(null, payload);
  });
}

export function installAccessLog(app: FastifyInstance): void {
  keepEnvelopeCode(app);
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(
      {
        method: req.method,
        path: req.url.split('?')[0],
        operation: operationOf(req),
        code: reply.envelopeCode,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      },
      'request',
    );
    done();
  });
}
