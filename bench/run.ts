// `npm run bench`: runs every benchmark and writes bench/results/latest.json and bench/RESULTS.md. `npx tsx
// bench/run.ts NAME...` runs only those (chain, fanout, bullmq, triggers, pgflows, pgtriggers, growth, logs, keyed); the figures of the others are
// kept from latest.json (each benchmark carries its own date). `--quick` (or BENCH_QUICK=1) runs small sizes
// (20 and 100 tasks, 2 runs, 2 s of load) to check that everything works: it writes bench/results/quick.json
// and prints the Markdown instead of touching latest.json and RESULTS.md. BENCH_RUNS=N overrides the number
// of runs per size, BENCH_SIZES=a,b the sizes. Each benchmark module is imported only when it runs, so the
// chain's process (whose size sets the cost of every fork from it) does not carry the load generator; BullMQ
// and the HTTP servers run in processes of their own.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { machine } from './machine.js';
import { renderMarkdown } from './report.js';

const NAMES = ['chain', 'fanout', 'bullmq', 'triggers', 'pgflows', 'pgtriggers', 'growth', 'logs', 'keyed'] as const;
type Name = (typeof NAMES)[number];
const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const only = args.filter((a) => !a.startsWith('--'));
for (const a of only) if (!NAMES.includes(a as Name)) throw new Error(`unknown benchmark ${a}: one of ${NAMES.join(', ')}`);
const runs = (name: Name) => !only.length || only.includes(name);

/** The two sizes of every shape (BENCH_SIZES=a,b overrides); 200 is also the legacy chain of 200. */
const SIZES = process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : quick ? [20, 100] : [200, 2000];
if (SIZES.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`BENCH_SIZES: sizes of 2 tasks or more, got ${process.env.BENCH_SIZES}`);
const runsFor = (n: number) => Number(process.env.BENCH_RUNS) || (quick ? 2 : n >= 1000 ? 3 : 5);
const trigger = quick ? { flows: 100, durationSec: 2, warmSec: 1 } : { flows: 1000, durationSec: 10, warmSec: 2 };

const here = import.meta.dirname;
const resultsDir = path.join(here, 'results');
const file = path.join(resultsDir, quick ? 'quick.json' : 'latest.json');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const previous: Record<string, any> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
for (const key of ['chain', 'triggers', 'triggers64']) if (previous[key] && !previous[key].date) previous[key].date = previous.date;
// Before the fan-out and the 2,000 sizes the 200-task chain was stored as `chain`.
if (previous.chain && !previous.chain200 && previous.chain.tasks === 200) previous.chain200 = previous.chain;
delete previous.chain;
const results: Record<string, unknown> = { ...previous, date: new Date().toISOString(), machine: machine(), quick };

/**
 * The figures of the run this one replaces, to print beside the new ones: the previous result's numbers
 * (not its arrays, not its own `previous`) and its date.
 */
function previousOf(key: string): Record<string, number | string> | undefined {
  const p = previous[key];
  if (!p || typeof p !== 'object') return undefined;
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number' || k === 'date') out[k] = v as number | string;
  return out;
}

function store(key: string, r: object): void {
  const prev = previousOf(key);
  results[key] = { date: new Date().toISOString(), ...r, ...(prev ? { previous: prev } : {}) };
  const { previous: _p, ...shown } = results[key] as Record<string, unknown>;
  console.log(key, JSON.stringify(shown));
}

if (runs('chain')) {
  const { benchChain } = await import('./chain.js');
  for (const n of SIZES) store(`chain${n}`, await benchChain(n, runsFor(n), { ownProcessFloor: n === SIZES[0] }));
}
if (runs('fanout')) {
  const { benchFanout } = await import('./fanout.js');
  for (const n of SIZES) store(`fanout${n}`, await benchFanout(n, runsFor(n), 8));
}
if (runs('bullmq')) {
  const { benchBullmq } = await import('./bullmq.js');
  for (const n of SIZES) store(`bullmqChain${n}`, await benchBullmq({ shape: 'chain', n, runs: runsFor(n), concurrency: 8 }));
  for (const n of SIZES) store(`bullmqFanout${n}`, await benchBullmq({ shape: 'fanout', n, runs: runsFor(n), concurrency: 8 }));
}
if (runs('triggers')) {
  const { benchTriggers } = await import('./triggers.js');
  // 48 connections is the configuration the targets are judged on (bench/README.md says why); 64, the
  // original setting, is run and reported too. Each is followed by the HTTP floor under the same load.
  store('triggers', await benchTriggers({ ...trigger, connections: 48 }));
  store('triggers64', await benchTriggers({ ...trigger, connections: 64 }));
}
if (runs('pgflows')) {
  // PostgreSQL (BENCH_DATABASE_URL): the chain and the fan-out at the first size, per deployment.
  const { benchPgFlows } = await import('./pgFlows.js');
  const n = SIZES[0];
  for (const [key, r] of Object.entries(await benchPgFlows({ n, runs: runsFor(n) }))) store(key, r);
}
if (runs('pgtriggers')) {
  const { benchPgTriggers } = await import('./pgTriggers.js');
  const { withRetry } = await import('./pgCluster.js');
  for (const apis of [1, 2]) store(`pgTriggers-api${apis}`, await withRetry(`PostgreSQL triggers, ${apis} api`, () => benchPgTriggers({ ...trigger, connections: 48, apis })));
}
if (runs('growth')) {
  // (g) the store as it grows: BENCH_GROWTH_STORES=sqlite,postgres, BENCH_GROWTH_SIZES=0,250000,1000000.
  const { benchGrowth, parseVariants } = await import('./growth.js');
  const stores = (process.env.BENCH_GROWTH_STORES ?? 'sqlite,postgres').split(',');
  const sizes = process.env.BENCH_GROWTH_SIZES ? process.env.BENCH_GROWTH_SIZES.split(',').map(Number) : quick ? [0, 2000, 5000] : [0, 250_000, 1_000_000];
  if (sizes.some((n, i) => !Number.isInteger(n) || n < 0 || (i > 0 && n <= sizes[i - 1]))) throw new Error(`BENCH_GROWTH_SIZES: ascending instance counts, got ${process.env.BENCH_GROWTH_SIZES}`);
  for (const s of stores) {
    if (s !== 'sqlite' && s !== 'postgres') throw new Error(`BENCH_GROWTH_STORES: sqlite and/or postgres, got ${s}`);
    // BENCH_GROWTH_SEED=fast seeds mostly through createFlowInstance + cancelInstance (bench/growthSeed.ts).
    const seedMode = process.env.BENCH_GROWTH_SEED ?? 'realistic';
    if (seedMode !== 'realistic' && seedMode !== 'fast') throw new Error(`BENCH_GROWTH_SEED: realistic or fast, got ${seedMode}`);
    const r = await benchGrowth({ store: s, sizes, flows: quick ? 100 : 1000, connections: 48, durationSec: quick ? 2 : 10, warmSec: quick ? 1 : 3, searchRuns: quick ? 3 : 7, marginal: quick ? 700 : 7000, seedMode, variants: parseVariants(process.env.BENCH_GROWTH_VARIANTS), variantReps: Number(process.env.BENCH_GROWTH_VARIANT_REPS) || 2 });
    // Each mode's figures under their own key and file: the fast mode is the default for the large sizes,
    // the realistic one its reference at the sizes it can reach.
    const key = `growth-${s}${seedMode === 'fast' ? '' : '-realistic'}`;
    store(key, r);
    // Each store's figures at once in a file of their own (a run of both stores takes an hour or more).
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, `${key}${quick ? '-quick' : ''}.json`), JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...r }, null, 2) + '\n');
    const { growthSummary } = await import('./reportGrowth.js');
    console.log(growthSummary(r));
  }
}
if (runs('logs')) {
  // Logs at rest: plain text against compressed rows (size on disk, append and read times).
  const { benchLogCompression } = await import('./logCompression.js');
  store('logCompression', await benchLogCompression());
}
if (runs('keyed')) {
  // taskMode 2: one task over 10,000 keys of `true`, maxParallel 8, against 10,000 spawns through the executor 8 at a time.
  const { benchKeyed } = await import('./keyed.js');
  const keys = Number(process.env.BENCH_KEYS) || (quick ? 1000 : 10_000);
  store('keyed', await benchKeyed(keys, Number(process.env.BENCH_RUNS) || (quick ? 1 : 3), 8, 8));
}
mkdirSync(resultsDir, { recursive: true });
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
const markdown = renderMarkdown(results);
if (quick) {
  console.log(`\n${markdown}\nwrote ${path.relative(process.cwd(), file)} (quick run: RESULTS.md and latest.json untouched)`);
} else {
  writeFileSync(path.join(here, 'RESULTS.md'), markdown);
  console.log('wrote bench/results/latest.json and bench/RESULTS.md');
}
