// The health endpoints, outside the API prefixes and public (contract §9: no signature): GET /healthz says
// the process serves (200 until it stops, also while shutting down), GET /readyz whether it should get
// traffic: the store answers a trivial query in time, the engine runs (in a process that has one), and the
// process is not draining. 503 names the check that failed; the answer is plain JSON, not the envelope.
// It also says whether tasks' cpu and memory limits are enforced (`limits`), which readiness does not hang on.
import type { FastifyInstance } from 'fastify';
import type { LimitsStatus } from '../engine/cgroups.js';
import { withTimeout, type EngineView } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';

export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export interface HealthOptions {
  store: Store;
  engine?: (Pick<EngineView, 'state'> & { readonly limitsStatus?: LimitsStatus | null }) | null;
  isShuttingDown?: () => boolean;
  /** How long the store may take to answer (default 1 s). */
  storeTimeoutMs?: number;
}

export interface Readiness {
  status: 'ready' | 'unready';
  checks: { store: 'ok' | 'failing' | 'timeout'; engine?: string; draining: boolean };
  /**
   * Whether tasks' cpu and memory limits are enforced (control groups, contract §11): `{enforced: true,
   * cgroup: "v1" | "v2"}` or `{enforced: false, reason}`. Only in a process with an engine, once started; it
   * does not make the process unready.
   */
  limits?: LimitsStatus;
}

export async function readiness(opts: HealthOptions): Promise<Readiness> {
  const store = await withTimeout(opts.store.ping(), opts.storeTimeoutMs ?? 1_000, 'the store').then(
    () => 'ok' as const,
    (e: unknown) => ((e as { code?: unknown }).code === 'TIMEOUT' ? ('timeout' as const) : ('failing' as const)),
  );
  const draining = opts.isShuttingDown?.() ?? false;
  const engine = opts.engine?.state;
  const ok = store === 'ok' && !draining && (engine === undefined || engine === 'running');
  const limits = opts.engine?.limitsStatus ?? undefined;
  return { status: ok ? 'ready' : 'unready', checks: { store, ...(engine === undefined ? {} : { engine }), draining }, ...(limits ? { limits } : {}) };
}

export function mountHealth(app: FastifyInstance, opts: HealthOptions): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const r = await readiness(opts);
    return reply.code(r.status === 'ready' ? 200 : 503).header('cache-control', 'no-store').send(r);
  });
}
