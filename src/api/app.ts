// The HTTP app factory: fastify with the action-constraint router, the error handler (the only mapping
// from thrown errors to envelopes, and the one place logging internal errors), 503 while shutting down,
// the access log, and the API versions mounted from one operation registry. Never listens: src/server.ts
// does, tests use inject().
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { Deps } from '../service/context.js';
import { show } from '../service/input.js';
import type { SecretBox } from '../service/auth/secretBox.js';
import { installAccessLog } from './accessLog.js';
import { consolePlugin } from './console.js';
import type { EngineView } from '../metrics/metrics.js';
import { HEALTH_PATHS, mountHealth } from './health.js';
import { mountMetrics } from './metrics.js';
import { authenticator, keepRawBodies, mountTokenService } from './auth.js';
import { RateLimitedError } from './rateLimit.js';
import { failure } from './envelope.js';
import { apiError, toApiError, type ApiError } from './errors.js';
import { actionConstraint, mountVersion, sendNoSuchPath } from './mount.js';
import { openApiPlugin } from './openapi/plugin.js';
import { installStreamShutdown } from './sse.js';
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
  /** This process's engine, for /readyz and the engine metrics (none in a process of role api). */
  engine?: EngineView | null;
  /** GET /metrics and the HTTP request metrics (default on). */
  metrics?: boolean;
}

function isLoggerInstance(l: unknown): boolean {
  return typeof l === 'object' && l !== null && typeof (l as { child?: unknown }).child === 'function';
}

const versionOfTarget = (target: string): VersionSpec => API_VERSIONS.find((v) => target.startsWith(v.prefix)) ?? V2_1;

/** The envelope on a raw socket, then the connection closes. */
function endWithEnvelope(socket: Duplex, e: ApiError, version: VersionSpec, reason: string): void {
  const body = JSON.stringify(failure(version, e, randomUUID()));
  socket.end(`HTTP/1.1 ${e.http} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/**
 * A request Node's HTTP parser refused (malformed, headers or URL too large, a broken chunked body): the
 * envelope on the raw socket, of the version its request line names (V2.1 when none), then the connection
 * closes (the parser's state is unknown). A socket whose answer has begun, or that is gone, is destroyed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, headerLimit: number): void {
  const answering = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const e = apiError(tooLarge ? 'headersTooLarge' : 'malformedRequest', tooLarge ? `the limit is ${headerLimit} bytes for the request line and headers` : String(err.code ?? 'bad request'));
  const packet = (err as { rawPacket?: unknown }).rawPacket;
  const target = Buffer.isBuffer(packet) ? (/^[A-Z]+ (\S+)/.exec(packet.subarray(0, 256).toString('latin1'))?.[1] ?? '') : '';
  endWithEnvelope(socket, e, versionOfTarget(target), tooLarge ? 'Request Header Fields Too Large' : 'Bad Request');
}

/**
 * What Node's HTTP server answers itself before fastify sees a request, with the envelope instead (400
 * malformed, contract §1): an Expect other than 100-continue (Node: 417 without a body) and CONNECT (Node:
 * the socket destroyed unanswered). A missing Host header is the onRequest hook's (Node: 400 without a body).
 */
function answerServerRefusals(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const e = apiError('malformedRequest', `Expect ${show(req.headers.expect)} is not supported (only 100-continue)`);
    const body = JSON.stringify(failure(versionOfTarget(req.url ?? ''), e, randomUUID()));
    res.writeHead(e.http, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    endWithEnvelope(socket, apiError('malformedRequest', 'CONNECT is not supported'), versionOfTarget(req.url ?? ''), 'Bad Request');
  });
}

/**
 * What fastify's router refuses before any route or hook (a path that is not valid percent-encoding,
 * FST_ERR_BAD_URL): 400 with the envelope of the URL's version instead of fastify's own JSON.
 */
function answerFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const version = versionOfTarget(req.url);
  const path = req.url.split('?')[0];
  const shown = path.length > 100 ? `${path.slice(0, 97)}...` : path;
  const e = apiError('malformedRequest', err.code === 'FST_ERR_BAD_URL' ? `the path is not valid percent-encoding: ${shown}` : String(err.code));
  void reply.code(e.http).send(failure(version, e, req.id));
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
    // No HEAD twin of every GET route: `HEAD /flows?action=delete` would run the delete.
    exposeHeadRoutes: false,
    // Node's own 400 for a missing Host has no body: the onRequest hook answers it with the envelope.
    http: { maxHeaderSize: config.headerLimitBytes, requireHostHeader: false },
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
    frameworkErrors: answerFrameworkError,
  } as FastifyServerOptions) as unknown as FastifyInstance;
  answerServerRefusals(app.server);

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
    if (req.headers.host === undefined && req.raw.httpVersion === '1.1') {
      const err = apiError('malformedRequest', 'an HTTP/1.1 request needs a Host header');
      return reply.code(err.http).header('connection', 'close').send(failure(versionOf(req), err, req.id));
    }
    if (!opts.isShuttingDown?.()) return;
    // The health endpoints answer until the process stops: /healthz 200, /readyz 503 (draining).
    if (HEALTH_PATHS.has(req.url.split('?')[0])) return;
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
  // GET /healthz, /readyz and /metrics: public, outside the API prefixes (health.ts, metrics.ts).
  mountHealth(app, { store, engine: opts.engine, isShuttingDown: opts.isShuttingDown });
  if (opts.metrics !== false) mountMetrics(app, { store, clock, engine: opts.engine });

  installStreamShutdown(app);
  for (const v of versions) await mountVersion(app, v, deps, OPERATIONS, auth);
  await consolePlugin(app); // the web console at /console/ (public; src/api/console.ts)
  if (auth && opts.secrets) await mountTokenService(app, deps, opts.secrets);
  await app.register(openApiPlugin); // GET /openapi.json and Swagger UI at /docs
  return app;
}
