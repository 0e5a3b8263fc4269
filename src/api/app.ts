// The HTTP app factory: fastify with the action-constraint router, the error handler (the only mapping
// from thrown errors to envelopes, and the one place logging internal errors), 503 while shutting down,
// the access log, and the API versions mounted from one operation registry. Never listens: src/server.ts
// does, tests use inject().
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { Deps } from '../service/context.js';
import type { SecretBox } from '../service/auth/secretBox.js';
import { installAccessLog } from './accessLog.js';
import { authenticator, keepRawBodies, mountTokenService } from './auth.js';
import { RateLimitedError } from './rateLimit.js';
import { failure } from './envelope.js';
import { apiError, toApiError } from './errors.js';
import { actionConstraint, mountVersion, sendNoSuchPath } from './mount.js';
import { openApiPlugin } from './openapi/plugin.js';
import type { VersionSpec } from './operation.js';
import { OPERATIONS } from './operations/index.js';
import { API_VERSIONS, V2_1 } from './versions.js';

export { V2_1 };

export interface BuildAppOptions {
  store: Store;
  config: Config;
  clock: Clock;
  /** fastify's `logger` option (false by default), or a pino instance (src/server.ts: the service's, component "api"). */
  logger?: boolean | object;
  isShuttingDown?: () => boolean;
  /** The master key's box: required when config.auth is on (app secrets and tokens are sealed with it). */
  secrets?: SecretBox | null;
}

function isLoggerInstance(l: unknown): boolean {
  return typeof l === 'object' && l !== null && typeof (l as { child?: unknown }).child === 'function';
}

/**
 * A request Node's HTTP parser refused (malformed, headers or URL too large): the V2.1 envelope on the raw
 * socket, then the connection closes (the parser's state is unknown). A socket already written to or gone
 * is just destroyed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, headerLimit: number): void {
  const writable = socket.writable && !(socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (err.code === 'ECONNRESET' || !writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const e = apiError(tooLarge ? 'headersTooLarge' : 'malformedRequest', tooLarge ? `the limit is ${headerLimit} bytes for the request line and headers` : String(err.code ?? 'bad request'));
  const body = JSON.stringify(failure(V2_1, e, randomUUID()));
  const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(`HTTP/1.1 ${e.http} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const { store, config, clock } = opts;
  const deps: Deps = { store, config, clock };
  const versions = API_VERSIONS;
  const logging: FastifyServerOptions = isLoggerInstance(opts.logger)
    ? { loggerInstance: opts.logger as FastifyBaseLogger }
    : { logger: (opts.logger ?? false) as FastifyServerOptions['logger'] };
  const app = Fastify({
    ...logging,
    bodyLimit: config.bodyLimitBytes,
    http: { maxHeaderSize: config.headerLimitBytes },
    genReqId: () => randomUUID(),
    // Every line of a request carries its id under the envelope's name; accessLog.ts writes the one line
    // per request, so fastify's own "incoming request" / "request completed" pair is off.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    routerOptions: { constraints: { action: actionConstraint as never } },
    // Inputs are converted by the handlers (ids as numbers or numeric strings): no silent coercion
    // ("" -> 0) by the validator. verbose: errors carry the schema's description for the message.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, verbose: true } },
    // What Node's HTTP parser refuses never reaches a route: answered with the envelope all the same.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, config.headerLimitBytes),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  app.decorateRequest('caller', null);
  keepRawBodies(app);
  if (config.auth && !opts.secrets) throw new Error('authentication is on (config.auth) but no master key was given (BuildAppOptions.secrets)');
  const auth = config.auth && opts.secrets ? authenticator(deps, opts.secrets) : null;
  if (opts.logger) {
    // Below info nothing of the access line is written: its hooks are not installed at all.
    if ((app.log as unknown as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled?.('info') !== false) installAccessLog(app);
  }
  const versionOf = (req: FastifyRequest): VersionSpec =>
    req.routeOptions?.config?.version ?? versions.find((v) => req.url.startsWith(v.prefix)) ?? V2_1;

  app.addHook('onRequest', async (req, reply) => {
    if (!opts.isShuttingDown?.()) return;
    const err = apiError('shuttingDown');
    return reply.code(err.http).header('connection', 'close').send(failure(versionOf(req), err, req.id));
  });
  app.setErrorHandler(async (error, req, reply) => {
    const err = toApiError(error);
    // With its stack (`err`) and, through the request's logger, the requestId the client was given.
    if (err.key === 'internal') req.log.error({ err: error, method: req.method, path: req.url.split('?')[0] }, 'internal error (62109)');
    if (error instanceof RateLimitedError) void reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
    return reply.code(err.http).send(failure(versionOf(req), err, req.id));
  });
  app.setNotFoundHandler(async (req, reply) => sendNoSuchPath(versionOf(req), req, reply));

  for (const v of versions) await mountVersion(app, v, deps, OPERATIONS, auth);
  if (auth && opts.secrets) await mountTokenService(app, deps, opts.secrets);
  await app.register(openApiPlugin); // GET /openapi.json and Swagger UI at /docs
  return app;
}
