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
  /** Returns the `data` of the envelope; undefined means a void operation (`data: ""`). */
  handler(ctx: OpContext<Static<Q>, Static<B>>): Promise<unknown>;
}

// The registry holds operations of many schema types; handlers are typed where they are declared.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any>;

export function defineOp<Q extends TSchema, B extends TSchema>(op: Operation<Q, B>): AnyOperation {
  return op as AnyOperation;
}
