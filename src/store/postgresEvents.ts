// Store events across processes on PostgreSQL: each committed write's event is sent with pg_notify on
// the store's channel, and one LISTEN connection per process hands the events of *other* processes to the
// local listeners (a process's own events are delivered in-process at once, and dropped when they come
// back). The events of one event-loop turn go in as few notifications as their size allows (a trigger
// burst's group commit publishes them together). NOTIFY is only a wake-up: a lost one costs at most the
// engine's rescan interval, never a decision.
// A lost LISTEN connection reconnects with backoff and then tells `onReconnect` so the caller rescans.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { StoreEvent } from './store.js';
import { poolConfig } from './postgresPool.js';

export interface PostgresEvents {
  start(): Promise<void>;
  notify(pool: pg.Pool, e: StoreEvent): void;
  subscribe(listener: (e: StoreEvent) => void): () => void;
  close(): Promise<void>;
}

/**
 * The channel of a store: per schema, since NOTIFY channels are per database (the schema as the
 * connection resolves it, whether from the schema option or a search_path in the URL).
 */
export const channelOf = (schema: string): string => `batchflow_events_${schema}`.slice(0, 63);

interface Wire {
  o: string; // origin process
  /** The events of one turn (one event alone: `e`, as sent before events were grouped). */
  es?: StoreEvent[];
  e?: StoreEvent;
}

/** Bytes of one notification's payload at most (PostgreSQL refuses 8,000 and more). */
export const MAX_PAYLOAD_BYTES = 7_900;

/** The payloads for `events`, in order, each at most MAX_PAYLOAD_BYTES unless one event alone is larger. */
export function payloadsOf(origin: string, events: StoreEvent[]): string[] {
  const head = `{"o":${JSON.stringify(origin)},"es":[`;
  const out: string[] = [];
  let parts: string[] = [];
  let bytes = head.length + 2;
  for (const e of events) {
    const text = JSON.stringify(e);
    const size = Buffer.byteLength(text) + 1;
    if (parts.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      out.push(`${head}${parts.join(',')}]}`);
      parts = [];
      bytes = head.length + 2;
    }
    parts.push(text);
    bytes += size;
  }
  if (parts.length > 0) out.push(`${head}${parts.join(',')}]}`);
  return out;
}

export function postgresEvents(opts: { connectionString: string; schema?: string; onReconnect?: () => void }): PostgresEvents {
  let channel = '';
  const origin = randomUUID();
  const listeners = new Set<(e: StoreEvent) => void>();
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 100;
  let timer: NodeJS.Timeout | null = null;
  let everConnected = false;
  let pending: StoreEvent[] = [];
  let sendTo: pg.Pool | null = null;
  const sending = new Set<Promise<unknown>>();

  const flush = () => {
    const events = pending;
    pending = [];
    // Not listening yet (start() failed): no channel, nobody to tell through this store.
    if (!sendTo || events.length === 0 || !channel) return;
    for (const payload of payloadsOf(origin, events)) {
      const p = sendTo.query('select pg_notify($1, $2)', [channel, payload]).catch(() => {});
      sending.add(p);
      void p.finally(() => sending.delete(p));
    }
  };

  const deliver = (payload: string | undefined) => {
    if (!payload) return;
    let wire: Wire;
    try {
      wire = JSON.parse(payload) as Wire;
    } catch {
      return;
    }
    if (wire.o === origin) return;
    for (const e of wire.es ?? (wire.e ? [wire.e] : [])) {
      for (const l of [...listeners]) {
        try {
          l(e);
        } catch (err) {
          process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'StoreEventListenerError');
        }
      }
    }
  };

  async function connect(): Promise<void> {
    const c = new pg.Client(poolConfig({ connectionString: opts.connectionString, schema: opts.schema }));
    c.on('notification', (n) => deliver(n.payload));
    c.on('error', () => reconnectSoon(c));
    c.on('end', () => reconnectSoon(c));
    await c.connect();
    const schema = (await c.query<{ s: string | null }>('select current_schema() as s')).rows[0]?.s ?? 'public';
    channel = channelOf(schema);
    await c.query(`listen "${channel.replace(/"/g, '""')}"`);
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    retryMs = 100;
    if (everConnected) opts.onReconnect?.();
    everConnected = true;
  }

  function reconnectSoon(c: pg.Client): void {
    if (client !== c && client !== null) return;
    client = null;
    c.removeAllListeners('end');
    c.end().catch(() => {});
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      connect().catch(() => {
        retryMs = Math.min(retryMs * 2, 5_000);
        reconnectSoon(c);
      });
    }, retryMs);
    timer.unref();
  }

  return {
    async start() {
      await connect();
    },
    notify(pool, e) {
      // After the commit and not awaited: the writer's answer does not wait on the wake-up of others. Sent
      // at the end of the turn, with the other events of the turn.
      sendTo = pool;
      pending.push(e);
      if (pending.length === 1) setImmediate(flush);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      flush();
      await Promise.all([...sending]);
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => {});
      }
    },
  };
}
