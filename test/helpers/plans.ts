// EXPLAINs recorded statements and names those that read a whole growing table: on SQLite a SCAN of one
// (or of a whole index of one) that `allowed` does not excuse, on PostgreSQL (enable_seqscan off) a Seq
// Scan. Shared by the plan tests of the API's reads and of the engine's statements.
import Database from 'better-sqlite3';
import pg from 'pg';
import { TEST_DATABASE_URL } from './postgres.js';

export type Recorded = Array<{ sql: string; parameters: readonly unknown[] }>;

/**
 * Records the statements matching `statement` given to a store's onQuery, from start() on: the store's
 * own start (its migrations' one-off reads of old columns) is not what a plan test checks.
 */
export function recorder(statement: RegExp): { recorded: Recorded; onQuery: (sql: string, parameters: readonly unknown[]) => void; start(): void } {
  const recorded: Recorded = [];
  let on = false;
  return {
    recorded,
    onQuery: (sql, parameters) => void (on && statement.test(sql) && recorded.push({ sql, parameters })),
    start: () => void (on = true),
  };
}

/** Names of the partial indexes (CREATE INDEX ... WHERE): scanning one reads only the rows it keeps. */
export function partialIndexes(filename: string): Set<string> {
  const raw = new Database(filename, { readonly: true });
  try {
    const rows = raw.prepare(`select name from sqlite_master where type = 'index' and sql like '% where %'`).all() as Array<{ name: string }>;
    return new Set(rows.map((r) => r.name));
  } finally {
    raw.close();
  }
}

export function sqliteScans(filename: string, recorded: Recorded, growing: string[], allowed: (detail: string, index: string | undefined) => boolean): string[] {
  const raw = new Database(filename, { readonly: true });
  const out: string[] = [];
  try {
    for (const { sql, parameters } of recorded) {
      const rows = raw.prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as Array<{ detail: string }>;
      const subqueries = new Set(rows.map((r) => /^(?:CO-ROUTINE|MATERIALIZE) (\S+)/.exec(r.detail)?.[1]).filter(Boolean));
      for (const { detail } of rows) {
        const m = /^SCAN (\S+)(?: AS (\S+))?/.exec(detail);
        if (!m || subqueries.has(m[1]) || allowed(detail, /USING (?:COVERING )?INDEX (\S+)/.exec(detail)?.[1])) continue;
        if (growing.includes(m[1]) || growing.some((t) => sql.includes(`"${t}" as "${m[1]}"`))) out.push(`${detail}\n  in: ${sql}`);
      }
    }
  } finally {
    raw.close();
  }
  return out;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

export async function postgresSeqScans(schema: string, recorded: Recorded, growing: string[]): Promise<string[]> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  await c.connect();
  const out: string[] = [];
  try {
    await c.query('analyze');
    await c.query('set enable_seqscan = off');
    for (const { sql, parameters } of recorded) {
      const r = await c.query(`explain (format json) ${sql}`, parameters as unknown[]);
      const visit = (n: PlanNode): void => {
        // Seq Scans only: on tables of a few rows PostgreSQL prefers whole-index walks that it never
        // takes at size, so the stricter whole-index check is SQLite's (its plans ignore table sizes).
        if (n['Node Type'] === 'Seq Scan' && growing.includes(n['Relation Name'] ?? '')) out.push(`Seq Scan on ${n['Relation Name']}\n  in: ${sql}`);
        n.Plans?.forEach(visit);
      };
      visit((r.rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0].Plan);
    }
  } finally {
    await c.end();
  }
  return out;
}
