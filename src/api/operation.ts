// An API operation, declared once: (method, resource, action), its TypeBox schemas and a short handler
// calling src/service. mountVersion (mount.ts) turns the registry into routes for each API version.
import type { Static, TSchema } from '@sinclair/typebox';
import type { Caller, Deps } from '../service/context.js';
import type { EnvelopeKind } from './envelope.js';

export interface VersionSpec {
  /** e.g. "v2.1"; operations may be limited to some versions by this name. */
  name: string;
  prefix: string;
  envelope: EnvelopeKind;
  /** First page number of Pagination (1 in V2.1, 0 in V2.0). */
  pageBase: 0 | 1;
  /** Input keys this version spells differently, old -> canonical (V2.0: searchValue -> expression). */
  inputAliases?: Record<string, string>;
  /** V2.0's extra fields on flows and instance graphs (`alertTo`, `appId`, ref §10). */
  flowExtras?: boolean;
  /** Error texts this version words differently: a message starting with `from` starts with `to` instead. */
  errorTexts?: ReadonlyArray<readonly [from: string, to: string]>;
}

/** public: no identity (time); read: any member of the org; write: changes something (locked users: 62105). */
export type Access = 'public' | 'read' | 'write';

export interface OpContext<Q, B> {
  deps: Deps;
  /** The checked caller; reading it in a public operation throws. */
  caller: Caller;
  query: Q;
  body: B;
  version: VersionSpec;
  /** Event-stream operations: aborted when the client leaves or the server closes. */
  signal?: AbortSignal;
}

export interface Operation<Q extends TSchema = TSchema, B extends TSchema = TSchema> {
  name: string;
  method: 'GET' | 'POST';
  resource: string;
  action: string;
  access: Access;
  /** Versions that have it (all when absent). */
  versions?: string[];
  schema: { querystring?: Q; body?: B };
  /**
   * Honours an Idempotency-Key header (contract §12): the first request with a key runs once, its answer is
   * kept 24 h for repeats with the same body (src/api/idempotency.ts).
   */
  idempotent?: boolean;
  /** The handler returns an AsyncIterable of StreamEvent (src/api/sse.ts), sent as text/event-stream. */
  stream?: boolean;
  /** Returns the `data` of the envelope; undefined means a void operation (`data: ""`). */
  handler(ctx: OpContext<Static<Q>, Static<B>>): Promise<unknown>;
}

// The registry holds operations of many schema types; handlers are typed where they are declared.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any>;

/** The schemas an operation declares; kept in its type so the typed client (src/client) reads them. */
export interface OpSchemas {
  querystring?: TSchema;
  body?: TSchema;
}
type QueryOf<S> = S extends { querystring: infer Q extends TSchema } ? Q : TSchema;
type BodyOf<S> = S extends { body: infer B extends TSchema } ? B : TSchema;

/** An operation as declared: its literal name and schema types survive into the registry's type. */
export type TypedOperation<N extends string, S extends OpSchemas> = AnyOperation & { name: N; readonly declared?: { schema: S } };

export function defineOp<const N extends string, S extends OpSchemas>(
  op: Omit<Operation<QueryOf<S>, BodyOf<S>>, 'name' | 'schema'> & { name: N; schema: S },
): TypedOperation<N, S> {
  return op as AnyOperation as TypedOperation<N, S>;
}
