// GET /metrics (Prometheus text format, public: scrape it on a private network or firewall it) and the
// HTTP request metrics: one hook per answered request, labelled with the operation (the registry's name;
// else the route's pattern; else "unmatched", so unknown paths share one value) and the code (the
// envelope's code, else the HTTP status for what is not an envelope: docs, health, metrics).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createMetrics, type MetricsOptions } from '../metrics/metrics.js';
import { keepEnvelopeCode } from './accessLog.js';

export const METRICS_PATH = '/metrics';

function operationOf(req: FastifyRequest): string {
  return req.routeOptions.config?.op?.name ?? req.routeOptions.url ?? 'unmatched';
}

/** Installs the hooks (before any route is registered, so that they cover every route) and the route. */
export function mountMetrics(app: FastifyInstance, opts: MetricsOptions): void {
  const metrics = createMetrics(opts);
  app.addHook('onClose', async () => metrics.close());
  keepEnvelopeCode(app);
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeHttp(operationOf(req), String(reply.envelopeCode ?? reply.statusCode), reply.elapsedTime / 1000);
    done();
  });
  app.get(METRICS_PATH, { schema: { hide: true } }, async (_req, reply) => reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(await metrics.scrape()));
}
