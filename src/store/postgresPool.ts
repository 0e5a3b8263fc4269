// Connection settings shared by the PostgreSQL adapter, its LISTEN connection and the store tools: the
// URL, the schema as search_path, int8 parsed as JS numbers.
import pg from 'pg';

/** A valid unquoted identifier only: the schema name goes into SQL text. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 (ids, epoch ms, counts) as JS numbers: every such value of the store is below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * The schema a URL selects with `?options=-c search_path=<schema>` (how a deployment keeps batchflow's
 * tables out of `public`), or undefined.
 */
export function schemaOfUrl(url: string): string | undefined {
  let options: string | null;
  try {
    options = new URL(url).searchParams.get('options');
  } catch {
    return undefined;
  }
  const m = options?.match(/search_path\s*=\s*([A-Za-z0-9_]+)/);
  return m ? m[1].toLowerCase() : undefined;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Connection settings for pg: the URL, the schema as search_path, int8 as numbers. */
export function poolConfig(opts: { connectionString: string; schema?: string; max?: number }): pg.PoolConfig {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) throw new Error(`schema name ${JSON.stringify(opts.schema)} is not a plain identifier`);
  return {
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    types,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    // A server restart closes idle connections: the pool drops them and opens new ones on demand.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  };
}

