// Writes an operation's event stream as server-sent events (text/event-stream): each event's name, id and
// JSON data, a keepalive comment every 15 s, and the end of the stream when the events end, the client
// goes away, or the server shuts down (fastify's close waits for open connections: streams are ended
// first, in a preClose hook). Errors before the first event were answered as envelopes by the route.
import type { FastifyInstance, FastifyReply } from 'fastify';

export interface StreamEvent {
  event: string;
  id?: string;
  data: unknown;
}

const KEEPALIVE_MS = 15_000;
// Keyed by the HTTP server, which every encapsulated scope of one app shares.
const open = new WeakMap<object, Set<AbortController>>();

/** Ends every open stream of `app` when it closes; installed once per app. */
export function installStreamShutdown(app: FastifyInstance): void {
  const streams = new Set<AbortController>();
  open.set(app.server, streams);
  app.addHook('preClose', async () => {
    for (const c of streams) c.abort();
  });
}

/** One abort signal per stream: the client left, or the app is closing. */
export function streamSignal(app: FastifyInstance, reply: FastifyReply): { signal: AbortSignal; done: () => void } {
  const c = new AbortController();
  const streams = open.get(app.server);
  streams?.add(c);
  const onClose = () => c.abort();
  reply.raw.once('close', onClose);
  return {
    signal: c.signal,
    done: () => {
      streams?.delete(c);
      reply.raw.off('close', onClose);
    },
  };
}

function frame(e: StreamEvent): string {
  // JSON never holds a raw newline, so one data line per event.
  return `event: ${e.event}\n${e.id === undefined ? '' : `id: ${e.id}\n`}data: ${JSON.stringify(e.data)}\n\n`;
}

/** Takes the reply over and writes `events` until they end or `signal` aborts. */
export async function sendEventStream(reply: FastifyReply, events: AsyncIterable<StreamEvent>, signal: AbortSignal, requestId: string): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': requestId,
  });
  res.write(': stream open\n\n');
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const iterator = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (signal.aborted || res.destroyed) break;
      const next = await iterator.next();
      if (next.done) break;
      if (!res.write(frame(next.value))) {
        // A slow reader: wait for its buffer to drain (or for it to leave) before reading more.
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.once('drain', go);
          res.once('close', go);
        });
      }
    }
  } catch (err) {
    reply.log.error({ err }, 'event stream failed');
    if (!res.destroyed) res.write(frame({ event: 'error', data: { msg: 'the stream failed; reconnect with the last event id as `after`' } }));
  } finally {
    clearInterval(keepalive);
    await iterator.return?.(undefined);
    res.end();
  }
}
