// The PostgreSQL part of bench/RESULTS.md (bench/report.ts places it): the issue's PostgreSQL targets, each
// with how far a miss is from it; the chain and fan-out per deployment (SQLite `--role all` beside them as
// the reference, the store's cost and the cost of crossing processes told apart); trigger throughput
// through 1 and 2 api processes against their HTTP floors. Definitions: bench/README.md.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type R = Record<string, any>;

const fmt = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const ms = (x: number | undefined, digits = 1) => `${fmt(x, digits)} ms`;
const int = (x: number | undefined) => (x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'date unknown');
const signed = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`);

export const PG_CONFIG_NAMES = ['sqlite', 'all', 'w1', 'w2', 'w4'] as const;

/** How a configuration is deployed, for the tables. */
function label(x: R): string {
  if (x.store === 'sqlite') return 'SQLite, one `--role all` process (reference)';
  if (x.workers === 0) return 'PostgreSQL, one `--role all` process';
  return `PostgreSQL, api + ${x.workers} worker${x.workers > 1 ? 's' : ''} x ${x.slotsPerWorker} slots`;
}

/** 'met', or 'missed by <how much>'. */
const judged = (ok: boolean | undefined, by: string) => (ok === undefined ? 'n/a' : ok ? 'met' : `missed by ${by}`);

/** The run's date, the machine's 1-minute load at its start and end, PostgreSQL's round trip. */
const when = (x: R) => `${day(x.date)}; load ${x.loadAvg ? x.loadAvg.map((l: number) => fmt(l, 1)).join(' -> ') : 'n/a'}${x.store === 'sqlite' ? '' : `; round trip ${ms(x.pgRoundTripMs, 3)}`}`;

const present = (r: R, prefix: string) => PG_CONFIG_NAMES.map((n) => r[`${prefix}-${n}`]).filter(Boolean);

/** Rows for the Targets table. */
export function pgTargetRows(r: R): string[] {
  const rows: string[] = [];
  for (const c of present(r, 'pgChain').filter((x) => x.store === 'postgres')) {
    rows.push(
      `| PostgreSQL chain of ${c.tasks}: ${label(c)} (${c.runs} runs, ${day(c.date)}) | gap exit -> successor's spawn returned, median (p99 ${ms(c.gapP99Ms, 2)}) | ${ms(c.gapMedianMs, 2)} | <= 3 ms | ${judged(c.gapMedianMs <= 3, `${fmt(c.gapMedianMs - 3)} ms (${fmt(c.gapMedianMs / 3, 1)} x)`)} |`,
    );
  }
  for (const f of present(r, 'pgFanout').filter((x) => x.store === 'postgres')) {
    const over = f.medianTotalMs - 1.5 * f.floorTotalMs;
    rows.push(
      `| PostgreSQL fan-out ${f.width} + 1: ${label(f)} (${f.runs} runs, ${day(f.date)}) | first spawn asked -> the join's exit, median, vs ${f.width} spawns 8 at a time + 1 from a bare \`node\` (${ms(f.floorTotalMs)}) | ${ms(f.medianTotalMs)} = ${fmt(f.ratioToFloor)} x floor | <= 1.5 x | ${judged(f.ratioToFloor <= 1.5, `${fmt(f.ratioToFloor - 1.5)} x (${ms(over, 0)})`)} |`,
    );
  }
  for (const t of [r['pgTriggers-api1'], r['pgTriggers-api2']].filter(Boolean)) {
    const short = 3000 - t.triggersPerSec;
    rows.push(
      `| PostgreSQL Trigger Flow through ${t.apis} api process${t.apis > 1 ? 'es' : ''}, ${t.flows} flows, ${t.connections} connections, ${t.durationSec} s (${day(t.date)}) | throughput (HTTP floor ${int(t.floor.requestsPerSec)} req/s: ${fmt(t.ratioToFloor)} x) | ${int(t.triggersPerSec)} triggers/s | >= 3,000/s | ${judged(t.triggersPerSec >= 3000, `${int(short)}/s (${fmt((short / 3000) * 100, 0)} % short)`)} |`,
      `| | latency p99 (p50 ${t.latencyP50Ms} ms); non-zero codes ${t.nonZeroCodes} of ${int(t.requests)} | ${t.latencyP99Ms} ms | <= 30 ms | ${judged(t.latencyP99Ms <= 30, `${t.latencyP99Ms - 30} ms`)} |`,
    );
  }
  return rows;
}

/** The PostgreSQL sections. */
export function pgSections(r: R): string[] {
  const lines: string[] = [];
  const chains = present(r, 'pgChain');
  const fans = present(r, 'pgFanout');
  if (chains.length || fans.length) {
    lines.push(
      '## PostgreSQL: the chain and the fan-out by deployment',
      '',
      "Every process `batchflow serve` in its own `node --import tsx` (SQLite's reference too, so it differs from the in-process `chain`/`fanout` above only in its process), a fresh database per deployment, 8 slots in all: a worker process gets 8 / N (the floor's parallelism and the issue's \"concurrency 8\"). Stamps are the engines' own events from every process, on the shared monotonic clock (bench/engineProbe.ts). Floors as above, measured before each run.",
      '',
      '| deployment | chain: gap median / p99 | engine decision median / p99 | spawn request to spawned | chain total / floor | overhead per task | successors on another worker | fan-out total / floor | overhead per task | join decided after last exit | workers used / most in flight |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const name of PG_CONFIG_NAMES) {
      const c = r[`pgChain-${name}`];
      const f = r[`pgFanout-${name}`];
      if (!c && !f) continue;
      const chainCells = c
        ? `${ms(c.gapMedianMs, 2)} / ${ms(c.gapP99Ms, 1)} | ${ms(c.engineGapMedianMs, 2)} / ${ms(c.engineGapP99Ms, 1)} | ${ms(c.spawnCallMedianMs, 2)} | ${ms(c.medianTotalMs, 0)} / ${ms(c.floorTotalMs, 0)} = ${fmt(c.ratioToFloor)} x | ${signed(c.overheadPerTaskMs)} ms | ${c.handoffs} of ${c.tasks - 1}`
        : '- | - | - | - | - | -';
      const fanCells = f
        ? `${ms(f.medianTotalMs, 0)} / ${ms(f.floorTotalMs, 0)} = ${fmt(f.ratioToFloor)} x | ${signed(f.overheadPerTaskMs)} ms | ${ms(f.joinDecisionMedianMs, 1)} | ${f.workersUsed} / ${f.maxInFlight}`
        : '- | - | - | -';
      lines.push(`| ${label(c ?? f)} (${when(c ?? f)}) | ${chainCells} | ${fanCells} |`);
    }
    lines.push('');
    // The store against crossing processes: differences of medians between deployments of the same run.
    const [sq, all, w1] = ['sqlite', 'all', 'w1'].map((n) => r[`pgChain-${n}`]);
    const [fsq, fall, fw1] = ['sqlite', 'all', 'w1'].map((n) => r[`pgFanout-${n}`]);
    if (all && (sq || w1)) {
      lines.push(
        '| what it costs (differences of medians) | chain: engine decision per task | chain: overhead per task | fan-out: overhead per task |',
        '| --- | --- | --- | --- |',
      );
      if (sq) lines.push(`| the store: PostgreSQL \`all\` - SQLite \`all\` | ${signed(all.engineGapMedianMs - sq.engineGapMedianMs)} ms | ${signed(all.overheadPerTaskMs - sq.overheadPerTaskMs)} ms | ${fall && fsq ? `${signed(fall.overheadPerTaskMs - fsq.overheadPerTaskMs)} ms` : '-'} |`);
      if (w1) lines.push(`| crossing processes: api + 1 worker - \`all\` (PostgreSQL) | ${signed(w1.engineGapMedianMs - all.engineGapMedianMs)} ms | ${signed(w1.overheadPerTaskMs - all.overheadPerTaskMs)} ms | ${fall && fw1 ? `${signed(fw1.overheadPerTaskMs - fall.overheadPerTaskMs)} ms` : '-'} |`);
      lines.push('');
    }
    const sql = all?.sqlPerTask;
    if (sql) {
      lines.push(`PostgreSQL \`all\`, chain: the engine's queries per task (BENCH_PG_SQL_PROFILE=1): ${Object.entries(sql).map(([k, v]: [string, any]) => `${k} ${v.n} x ${ms(v.ms / v.n, 3)}`).join('; ')}.`, '');
    }
  }
  const trig = [r['pgTriggers-api1'], r['pgTriggers-api2']].filter(Boolean);
  if (trig.length) {
    lines.push(
      '## PostgreSQL: Trigger Flow through api processes',
      '',
      'Each api process `batchflow serve --role api` on one fresh database (no worker: nothing is due), autocannon spreading its connections over them; the floor is as many trivial fastify servers under the same load, right after.',
      '',
      '| api processes | batchflow | p50 / p99 | CPU api processes / PostgreSQL / load gen. | CPU per trigger: api / PostgreSQL | floor | p50 / p99 | CPU servers / load gen. | ratio | previous |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of trig) {
      lines.push(
        `| ${t.apis} (${when(t)}) | ${int(t.triggersPerSec)}/s | ${t.latencyP50Ms} / ${t.latencyP99Ms} ms | ${t.serverCpuPercent} / ${t.postgresCpuPercent ?? 'n/a'} / ${t.loadGeneratorCpuPercent} % | ${ms(t.apiCpuMsPerTrigger, 2)} / ${ms(t.postgresCpuMsPerTrigger, 2)} | ${int(t.floor.requestsPerSec)}/s | ${t.floor.latencyP50Ms} / ${t.floor.latencyP99Ms} ms | ${t.floor.serverCpuPercent} / ${t.floor.loadGeneratorCpuPercent} % | ${fmt(t.ratioToFloor)} x | ${t.previous?.triggersPerSec !== undefined ? `${int(t.previous.triggersPerSec)}/s, p99 ${t.previous.latencyP99Ms} ms` : '-'} |`,
      );
    }
    lines.push('');
  }
  return lines;
}
