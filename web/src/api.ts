// The console's one door to the API: the SDK (src/client) behind a small interface, so swapping the
// transport is a change to this file only. Credentials live in sessionStorage (this tab's session) only.
import { createClient, BatchflowApiError, type BatchflowClient, type DecodedTask, type LogStreamEvent, type OperationName } from '../../src/client/index.js';

export { BatchflowApiError };
export type { DecodedTask, LogStreamEvent };
/** One alert of Get Flow Instance's `alerts` (extension), typed by the server's own struct. */
export type { DecodedAlertWire as DecodedAlert } from '../../src/api/openapi/structs.js';

/** What to show of a failed call: the API's `msg` when it answered one. */
export const errorText = (e: unknown): string => (e instanceof BatchflowApiError ? e.msg : e instanceof Error ? e.message : String(e));

export interface Session { accessKey: string; secretKey: string; userId: string; orgId: string }

const KEY = 'batchflow.console.session';

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
}
export function saveSession(s: Session): void { sessionStorage.setItem(KEY, JSON.stringify(s)); }
export function clearSession(): void { sessionStorage.removeItem(KEY); }

export interface Api {
  /** An operation by its SDK name (checked against the SDK's list); the pages read the answers loosely. */
  call<T = any>(operation: OperationName, input?: Record<string, unknown>): Promise<T>;
  streamLog(taskInstId: string, opts: { after?: string; tailChars?: number; signal?: AbortSignal }): AsyncIterable<LogStreamEvent>;
}

export function makeApi(s: Session): Api {
  const client: BatchflowClient = createClient({
    baseUrl: location.origin,
    ...(s.accessKey && s.secretKey ? { accessKey: s.accessKey, secretKey: s.secretKey } : {}),
    userId: s.userId,
    orgId: s.orgId,
  });
  return {
    call: (op, input) => (client.call as any)(op, input ?? {}),
    streamLog: (id, opts) => client.streamLog(id, opts),
  };
}
