// The typed SDK (`batchflow/client`): one method per operation of the API, typed from the routes' own
// schemas (operations.ts), signed with an app's key and secret (WebCrypto: Node 20+ and browsers), errors
// as BatchflowApiError, and the live log stream as an async iterable. The console and the CLI use it.
//
//   const bf = createClient({ baseUrl: 'http://127.0.0.1:8080', accessKey, secretKey, userId: 'u-admin', orgId: 'o-default' });
//   const { flowInstanceId } = await bf.call('triggerFlow', { flowId: 1, triggerTime: Date.now() });
//   for await (const e of bf.streamLog('1-20261203101500')) if (e.event === 'log') process.stdout.write(e.data.text);
import { ROUTES, type InputOf, type OperationName, type OutputOf, type StreamLogQuery } from './operations.js';
import { readSse } from './sse.js';
import { WebSigner } from './webSigner.js';

export type { InputOf, OperationName, OutputOf, StreamLogQuery } from './operations.js';
export { ROUTES } from './operations.js';
export { WebSigner, requestSignatureWeb, tokenEncryptionWeb } from './webSigner.js';

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8080 (no path). */
  baseUrl: string;
  /** An app's access key and secret; both absent: unsigned calls (a server started with --no-auth). */
  accessKey?: string;
  secretKey?: string;
  userId: string;
  orgId: string;
  fetch?: typeof fetch;
}

/** A non-zero envelope code (or an answer that is no envelope). */
export class BatchflowApiError extends Error {
  constructor(
    readonly operation: string,
    readonly code: number,
    readonly msg: string,
    readonly httpStatus: number,
    readonly requestId: string | null,
  ) {
    super(`${operation}: ${code} ${msg}`);
    this.name = 'BatchflowApiError';
  }
}

/** Status names of task instances (the stream and the decoded `tasks` speak names, not numbers). */
export type TaskStatusName = 'INIT' | 'READY' | 'RUNNING' | 'RERUN' | 'SUCCESS' | 'FAIL' | 'CANCEL' | 'SKIP' | 'NONE' | (string & {});

export type LogStreamEvent =
  | { event: 'status'; data: { status: TaskStatusName; runNum: number } }
  | { event: 'log'; id: string; data: { text: string; runNum: number; truncated: boolean } }
  | { event: 'end'; data: { status: TaskStatusName; terminal: boolean } }
  | { event: 'error'; data: { msg: string } };

/** One element of Get Flow Instance's decoded `tasks` (extension). */
export interface DecodedTask {
  taskInstId: string;
  taskId: number;
  taskName: string;
  nodeId: string;
  status: TaskStatusName;
  runNum: number;
  startTime: string | null;
  startTimeMs: number | null;
  endTime: string | null;
  endTimeMs: number | null;
  durationMs: number | null;
  exitCode: number | null;
  upstream: string[];
  attempts: Array<{ runNum: number; outcome: string; startTimeMs: number; endTimeMs: number | null; durationMs: number | null; exitCode: number | null; signal: string | null }>;
  /** taskMode 2: its keys per status. */
  keys?: { runNum: number; total: number; byStatus: { PENDING: number; RUNNING: number; SUCCESS: number; FAIL: number; TIMEOUT: number; CANCEL: number; INTERRUPTED: number } };
}

export type FlowInstanceView = Omit<OutputOf<'getFlowInstance'>, 'tasks'> & { tasks?: DecodedTask[] };

const PREFIX = '/batch-processing-service/v2.1';

export class BatchflowClient {
  private readonly signer: WebSigner | null;
  private readonly fetchFn: typeof fetch;

  constructor(readonly options: ClientOptions) {
    this.fetchFn = options.fetch ?? ((...a) => globalThis.fetch(...a));
    const { accessKey, secretKey } = options;
    if ((accessKey ? 1 : 0) + (secretKey ? 1 : 0) === 1) throw new Error('createClient: give both accessKey and secretKey, or neither (unsigned)');
    this.signer = accessKey && secretKey ? new WebSigner(options.baseUrl, { accessKey, secretKey }, this.fetchFn) : null;
  }

  private target(route: { resource: string; action: string; public?: boolean }, query: Record<string, unknown> = {}): string {
    const params = new URLSearchParams({ action: route.action });
    if (!route.public) {
      params.set('userId', this.options.userId);
      params.set('orgId', this.options.orgId);
    }
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, String(v));
    return `${PREFIX}/${route.resource}?${params}`;
  }

  private async send(method: string, target: string, body: string | undefined, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = this.signer ? await this.signer.headers(target, body ?? '') : {};
      if (body !== undefined) headers['content-type'] = 'application/json;charset=UTF-8';
      Object.assign(headers, extra);
      const res = await this.fetchFn(new URL(target, this.options.baseUrl), { method, headers, body, signal });
      // An expired token (1203): a new one, once.
      if (res.status === 401 && this.signer && attempt === 0) {
        const text = await res.clone().text();
        if (/"(code|status)":1203\b/.test(text)) {
          this.signer.forgetToken();
          continue;
        }
      }
      return res;
    }
  }

  /** Calls one operation; resolves to the envelope's `data`, rejects with BatchflowApiError on a non-zero code. */
  async call<N extends OperationName>(name: N, ...args: InputOf<N> extends Record<string, never> ? [input?: InputOf<N>] : [input: InputOf<N>]): Promise<OutputOf<N>> {
    return this.callWith(name, (args[0] ?? {}) as InputOf<N>, {});
  }

  /**
   * `call` with options. `idempotencyKey` (trigger, updateAndTrigger, triggerFromTask, import, backfill,
   * rerun; contract §12): a retry with the same key and input gets the first answer instead of running again.
   */
  async callWith<N extends OperationName>(name: N, inputArg: InputOf<N>, opts: { idempotencyKey?: string }): Promise<OutputOf<N>> {
    const route = ROUTES[name];
    const input = (inputArg ?? {}) as Record<string, unknown>;
    const target = this.target(route, route.in === 'query' ? input : {});
    const body = route.in === 'body' ? JSON.stringify(input) : undefined;
    const res = await this.send(route.method, target, body, undefined, opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {});
    const text = await res.text();
    let env: { code?: number; msg?: string; data?: unknown; requestId?: string };
    try {
      env = JSON.parse(text) as typeof env;
    } catch {
      throw new BatchflowApiError(name, -1, `not an envelope (HTTP ${res.status}): ${text.slice(0, 200)}`, res.status, null);
    }
    if (env.code !== 0) throw new BatchflowApiError(name, env.code ?? -1, env.msg ?? '', res.status, env.requestId ?? null);
    return env.data as OutputOf<N>;
  }

  // The calls people make most, by name.
  getFlowInstance(flowInstId: string): Promise<FlowInstanceView> {
    return this.call('getFlowInstance', { flowInstId }) as Promise<FlowInstanceView>;
  }
  triggerFlow(flowId: number, triggerTime: number = Date.now()): Promise<OutputOf<'triggerFlow'>> {
    return this.call('triggerFlow', { flowId, triggerTime });
  }
  cancel(flowInstId: string): Promise<OutputOf<'cancelFlowInstance'>> {
    return this.call('cancelFlowInstance', { flowInstId });
  }
  /** One instance per cron fire in [fromTime, toTime] (contract §12); `cron` is required for a manual workflow. */
  backfill(
    input: { flowId: number; fromTime: number; toTime: number; cron?: string; parameters?: Array<{ key: string; value: string }> },
    opts: { idempotencyKey?: string } = {},
  ): Promise<OutputOf<'backfillFlow'>> {
    return this.callWith('backfillFlow', input, opts);
  }
  /** Runs an ended instance again: `failed` (what did not succeed) or `all` (contract §12). */
  rerun(flowInstId: string, mode: 'failed' | 'all' = 'failed', opts: { idempotencyKey?: string } = {}): Promise<OutputOf<'rerunFlowInstance'>> {
    return this.callWith('rerunFlowInstance', { flowInstId, mode }, opts);
  }
  async getTaskLog(taskInstId: string, maxLength?: number): Promise<string> {
    return (await this.call('getTaskInstanceLog', { taskInstId, ...(maxLength === undefined ? {} : { maxLength: String(maxLength) }) })).log;
  }

  /**
   * The live log of a task instance: its status, its log (the last `tailChars` characters, or what follows
   * `after`), each new chunk as it is written, and `end` once the task instance is terminal. A connection
   * that drops before `end` is reopened once from the last event id. Errors before the stream are thrown.
   */
  async *streamLog(taskInstId: string, opts: { after?: string; tailChars?: number; signal?: AbortSignal } = {}): AsyncGenerator<LogStreamEvent> {
    let after = opts.after;
    let retried = false;
    for (;;) {
      const query: StreamLogQuery = { taskInstId, ...(after ? { after } : {}), ...(opts.tailChars !== undefined && !after ? { tailChars: String(opts.tailChars) } : {}) };
      const target = this.target({ resource: 'taskInstances', action: 'streamLog' }, query);
      const res = await this.send('GET', target, undefined, opts.signal);
      if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
        const env = (await res.json().catch(() => ({}))) as { code?: number; msg?: string; requestId?: string };
        throw new BatchflowApiError('streamTaskInstanceLog', env.code ?? -1, env.msg ?? `HTTP ${res.status}`, res.status, env.requestId ?? null);
      }
      let ended = false;
      try {
        for await (const m of readSse(res.body!)) {
          const e = { event: m.event, ...(m.id === undefined ? {} : { id: m.id }), data: JSON.parse(m.data) } as LogStreamEvent;
          if (e.event === 'log') after = e.id;
          yield e;
          if (e.event === 'end') {
            ended = true;
            return;
          }
        }
      } catch (err) {
        if (opts.signal?.aborted) return;
        if (retried) throw err;
      }
      if (ended || opts.signal?.aborted) return;
      if (retried) throw new Error(`streamLog ${taskInstId}: the stream ended before its end event, twice`);
      retried = true;
    }
  }
}

export function createClient(options: ClientOptions): BatchflowClient {
  return new BatchflowClient(options);
}
