// Renders bench/RESULTS.md from the figures bench/run.ts gathered: the targets with a verdict each, the
// shapes side by side (floor, batchflow, BullMQ), where each chain task's time goes (beside the previous
// run's figures) and trigger throughput against its HTTP floor. Definitions, method and the explanation of
// every miss are in bench/README.md. The PostgreSQL targets and sections come from bench/reportPg.ts.
import { growthSections, growthTargetRows, logCompressionSection } from './reportGrowth.js';
import { pgSections, pgTargetRows } from './reportPg.js';

/** The day of an ISO date (the hour says nothing in a table of benchmarks). */
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'date unknown');
const fmt = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const ms = (x: number | undefined, digits = 1) => `${fmt(x, digits)} ms`;
const int = (x: number | undefined) => (x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const signed = (x: number | undefined, digits = 3) => (x === undefined ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : 'missed');

/** `value (prev. p)` when the previous run has the figure. */
function withPrev(cur: number | undefined, prev: number | undefined, unit = ' ms', digits = 3): string {
  const c = `${fmt(cur, digits)}${unit}`;
  return prev === undefined ? c : `${c} (prev. ${fmt(prev, digits)})`;
}

/** The sizes present for a key prefix: chain200, chain2000 -> [200, 2000]. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function sizes(r: Record<string, any>, prefix: string): number[] {
  const re = new RegExp(`^${prefix}(\\d+)$`);
  return Object.keys(r)
    .map((k) => re.exec(k)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Per-task overhead at the largest size / at the smallest (1.0 = flat); n/a when either is not positive
 * (a total at or below its floor: the overhead is lost in the noise, and the ratio would mean nothing).
 */
function flatness(small: number | undefined, large: number | undefined): number | undefined {
  if (small === undefined || large === undefined || small <= 0 || large <= 0) return undefined;
  return large / small;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderMarkdown(r: Record<string, any>): string {
  const m = r.machine;
  const lines = [
    '# Benchmark results',
    '',
    `Written ${r.date} by \`bench/run.ts\`${r.quick ? ' (**quick run: small sizes, not a measurement**)' : ''} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; each benchmark's run date is in its row.`,
    'Every ratio is against a floor measured in the same benchmark, interleaved with its runs (medians of runs over the median floor).',
    '',
  ];

  // ---- Targets ----
  const targets: string[] = ['## Targets', '', '| benchmark | measure | result | target | verdict |', '| --- | --- | --- | --- | --- |'];
  const chainSizes = sizes(r, 'chain');
  const fanSizes = sizes(r, 'fanout');
  for (const n of chainSizes) {
    const c = r[`chain${n}`];
    targets.push(
      `| batchflow chain of ${n} (${c.runs} runs, ${day(c.date)}) | first spawn asked -> last exit, median, vs ${n} sequential spawns from a bare \`node\` (${ms(c.bareFloorTotalMs)}) | ${ms(c.medianChainTotalMs)} = ${fmt(c.ratioToBareFloor)} x floor | <= 1.25 x | ${verdict(c.ratioToBareFloor <= 1.25)} |`,
      `| | gap exit -> successor's spawn returned, median / p99 | ${ms(c.gapMedianMs, 2)} / ${ms(c.gapP99Ms, 2)} | <= 2 ms / <= 10 ms | ${verdict(c.gapMedianMs <= 2)} / ${verdict(c.gapP99Ms <= 10)} |`,
    );
  }
  for (const n of fanSizes) {
    const f = r[`fanout${n}`];
    targets.push(
      `| batchflow fan-out ${n} + 1 join, ${f.workerConcurrency} workers (${f.runs} runs, ${day(f.date)}) | first spawn asked -> the join's exit, median, vs ${n} spawns 8 at a time + 1 from a bare \`node\` (${ms(f.floorTotalMs)}) | ${ms(f.medianTotalMs)} = ${fmt(f.ratioToFloor)} x floor | <= 1.15 x | ${verdict(f.ratioToFloor <= 1.15)} |`,
    );
  }
  const flat = (label: string, prefix: string, field: string, judged: boolean) => {
    const ns = sizes(r, prefix);
    if (ns.length < 2) return;
    const [a, b] = [r[`${prefix}${ns[0]}`], r[`${prefix}${ns[ns.length - 1]}`]];
    const f = flatness(a[field], b[field]);
    const v = judged ? verdict(f === undefined ? undefined : f <= 1.1) : '-';
    targets.push(
      `| ${label} flatness | overhead per task at ${ns[ns.length - 1]} / at ${ns[0]} (${ms(b[field], 3)} / ${ms(a[field], 3)}) | ${f === undefined ? 'n/a (an overhead <= 0: within the noise)' : `${fmt(f)} x`} | ${judged ? '<= 1.10 x' : '(for reference)'} | ${v} |`,
    );
  };
  flat('batchflow chain', 'chain', 'overheadPerTaskBareMs', true);
  flat('batchflow fan-out', 'fanout', 'overheadPerTaskMs', true);
  flat('BullMQ chain', 'bullmqChain', 'overheadPerTaskMs', false);
  flat('BullMQ fan-out', 'bullmqFanout', 'overheadPerTaskMs', false);
  // batchflow against BullMQ, same shape and size: the raw medians, and the medians each over its own floor.
  const vs = (label: string, bfKey: string, bqKey: string, bfTotal: string, bfRatio: string) => {
    const bf = r[bfKey];
    const bq = r[bqKey];
    if (!bf || !bq) return;
    const raw = bf[bfTotal] / bq.medianTotalMs;
    const norm = bf[bfRatio] / bq.ratioToFloor;
    targets.push(`| batchflow vs BullMQ, ${label} | batchflow median / BullMQ median (each over its own floor: ${fmt(bf[bfRatio])} x / ${fmt(bq.ratioToFloor)} x = ${fmt(norm)}) | ${fmt(raw)} x | < 1 (faster) | ${verdict(raw < 1 && norm < 1)} |`);
  };
  for (const n of chainSizes) vs(`chain of ${n}`, `chain${n}`, `bullmqChain${n}`, 'medianChainTotalMs', 'ratioToBareFloor');
  for (const n of fanSizes) vs(`fan-out ${n} + 1`, `fanout${n}`, `bullmqFanout${n}`, 'medianTotalMs', 'ratioToFloor');
  for (const t of [r.triggers, r.triggers64]) {
    if (!t) continue;
    targets.push(
      `| Trigger Flow over HTTP, ${t.flows} flows, ${t.connections} connections, ${t.durationSec} s (${day(t.date)}) | throughput | ${int(t.triggersPerSec)} triggers/s | >= 5,000/s | ${verdict(t.triggersPerSec >= 5000)} |`,
      `| | latency p99 (p50 ${t.latencyP50Ms} ms) | ${t.latencyP99Ms} ms | <= 20 ms | ${verdict(t.latencyP99Ms <= 20)} |`,
      `| | answers with a non-zero code | ${t.nonZeroCodes} of ${int(t.requests)} | 0 | ${verdict(t.nonZeroCodes === 0)} |`,
    );
    if (t.floor) {
      targets.push(
        `| | throughput / the HTTP floor's (trivial fastify, same load: ${int(t.floor.requestsPerSec)} req/s) | ${fmt(t.ratioToFloor)} x | >= 0.5 x (never below 0.23 x) | ${t.ratioToFloor >= 0.5 ? 'met' : t.ratioToFloor >= 0.23 ? 'missed (above the 0.23 x minimum)' : 'missed (below the minimum)'} |`,
      );
    }
  }
  if (r.keyed) {
    const k = r.keyed;
    targets.push(
      `| taskMode 2: one task over ${int(k.keys)} keys of \`true\`, maxParallel ${k.maxParallel}, ${k.workerConcurrency} workers (${k.runs} runs, ${day(k.date)}) | attempt launched -> its end learned, median, vs ${int(k.keys)} spawns through the executor ${k.maxParallel} at a time (${ms(k.floorTotalMs)}) | ${ms(k.medianTotalMs)} = ${fmt(k.ratioToFloor)} x floor (${signed(k.overheadPerKeyMs, 4)} ms a key; log ${int(k.logBytes)} bytes) | <= 1.2 x | ${verdict(k.ratioToFloor <= 1.2)} |`,
    );
  }
  targets.push(...pgTargetRows(r));
  targets.push(...growthTargetRows(r));
  lines.push(...targets, '');

  // ---- Shapes side by side ----
  const shapeRows: string[] = [];
  for (const n of chainSizes) {
    const c = r[`chain${n}`];
    const q = r[`bullmqChain${n}`];
    shapeRows.push(
      `| chain of ${n} | ${ms(c.bareFloorTotalMs)} (${ms(c.bareFloorPerTaskMs, 3)} each) | ${ms(c.medianChainTotalMs)} (best ${ms(c.bestChainTotalMs)}) | ${fmt(c.ratioToBareFloor)} x | ${signed(c.overheadPerTaskBareMs)} ms | ${ms(c.medianTriggerToEndMs)} (${fmt(c.triggerToEndRatioToBareFloor)} x) | ${q ? `${ms(q.floorTotalMs)}` : '-'} | ${q ? `${ms(q.medianTotalMs)} (best ${ms(q.bestTotalMs)})` : '-'} | ${q ? `${fmt(q.ratioToFloor)} x` : '-'} | ${q ? `${signed(q.overheadPerTaskMs)} ms` : '-'} | ${q ? `${fmt(c.medianChainTotalMs / q.medianTotalMs)} x` : '-'} |`,
    );
  }
  for (const n of fanSizes) {
    const f = r[`fanout${n}`];
    const q = r[`bullmqFanout${n}`];
    shapeRows.push(
      `| fan-out ${n} + 1 | ${ms(f.floorTotalMs)} (${ms(f.floorPerTaskMs, 3)} each) | ${ms(f.medianTotalMs)} (best ${ms(f.bestTotalMs)}) | ${fmt(f.ratioToFloor)} x | ${signed(f.overheadPerTaskMs)} ms | ${ms(f.medianTriggerToEndMs)} (${fmt(f.triggerToEndRatioToFloor)} x) | ${q ? `${ms(q.floorTotalMs)}` : '-'} | ${q ? `${ms(q.medianTotalMs)} (best ${ms(q.bestTotalMs)})` : '-'} | ${q ? `${fmt(q.ratioToFloor)} x` : '-'} | ${q ? `${signed(q.overheadPerTaskMs)} ms` : '-'} | ${q ? `${fmt(f.medianTotalMs / q.medianTotalMs)} x` : '-'} |`,
    );
  }
  if (shapeRows.length) {
    const bq = r[`bullmqChain${chainSizes[chainSizes.length - 1]}`] ?? r[`bullmqFanout${fanSizes[fanSizes.length - 1]}`];
    lines.push(
      '## Shapes: batchflow and BullMQ against the floor',
      '',
      `Every task \`/bin/sh -c true\`, 8 workers. batchflow: first spawn asked -> last task's exit learned, from the engine's events; trigger -> \`instanceEnded\` beside it. BullMQ${bq ? ` ${bq.bullmqVersion} on Redis ${bq.redisVersion}` : ''}: \`FlowProducer.add\` -> the last job's \`completed\`, one Worker (its own process). Floor: the same spawns from a bare \`node\` (sequential for the chain, 8 in flight + the join for the fan-out), measured before each run of each. Overhead per task: (median - floor) / tasks.`,
      '',
      '| shape | floor (batchflow runs) | batchflow median | / floor | overhead per task | trigger -> instanceEnded | floor (BullMQ runs) | BullMQ median | / floor | overhead per task | batchflow / BullMQ |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...shapeRows,
      '',
    );
    const notes: string[] = [];
    for (const k of Object.keys(r).filter((k) => /^bullmq(Chain|Fanout)\d+$/.test(k)).sort()) {
      const q = r[k];
      notes.push(`- ${k}: ${q.build}${q.nestedError ? ` (the nested flow failed: ${q.nestedError})` : ''}; add ${q.addMs?.map((x: number) => fmt(x, 0)).join(' / ')} ms; at most ${q.maxInFlight} in flight; worker ${q.workerRssMiB} MiB resident; ${q.runs} runs, ${day(q.date)}.`);
    }
    for (const n of fanSizes) notes.push(`- fanout${n} (batchflow): at most ${r[`fanout${n}`].maxInFlight} attempts in flight; the join's start decided ${ms(r[`fanout${n}`].joinDecisionMedianMs, 3)} after the last exit (median).`);
    if (notes.length) lines.push(...notes, '');
  }

  // ---- Where each chain task's time goes ----
  if (chainSizes.length) {
    lines.push(
      '## Where each task\'s time goes (chain, from the engine\'s stamps)',
      '',
      `Per task, over all runs; "prev." is the same figure from the run this one replaced (bench/results/${r.quick ? 'quick' : 'latest'}.json before it).`,
      '',
      `| part | from -> to | ${chainSizes.map((n) => `chain of ${n}: median | p99`).join(' | ')} |`,
      `| --- | --- | ${chainSizes.map(() => '--- | ---').join(' | ')} |`,
    );
    const parts: Array<[string, string, string, string]> = [
      ['exit relay', '`exitSeenHr` -> `exitedHr`', 'exitRelayMedianMs', 'exitRelayP99Ms'],
      ['engine decision', '`exitedHr` -> successor\'s `spawnHr`', 'engineGapMedianMs', 'engineGapP99Ms'],
      ['spawn request to spawned', '`spawnHr` -> `spawnedHr`', 'spawnCallMedianMs', 'spawnCallP99Ms'],
      ['process life', '`spawnedHr` -> `exitSeenHr`', 'runMedianMs', 'runP99Ms'],
      ['gap (sum of the first three)', '`exitSeenHr` -> successor\'s `spawnedHr`', 'gapMedianMs', 'gapP99Ms'],
      ['exit -> next spawn asked', '`exitSeenHr` -> successor\'s `spawnHr`', 'exitToNextSpawnMedianMs', 'exitToNextSpawnP99Ms'],
    ];
    for (const [name, span, med, p99] of parts) {
      const cells = chainSizes.map((n) => {
        const c = r[`chain${n}`];
        return `${withPrev(c[med], c.previous?.[med])} | ${withPrev(c[p99], c.previous?.[p99])}`;
      });
      lines.push(`| ${name} | ${span} | ${cells.join(' | ')} |`);
    }
    const bqCells = chainSizes.map((n) => {
      const q = r[`bullmqChain${n}`];
      return q?.exitToNextSpawnMedianMs === undefined ? '- | -' : `${ms(q.exitToNextSpawnMedianMs, 3)} | ${ms(q.exitToNextSpawnP99Ms, 3)}`;
    });
    lines.push(`| BullMQ, for comparison: exit -> next spawn asked | child's \`close\` -> next processor call | ${bqCells.join(' | ')} |`);
    const totals = chainSizes.map((n) => {
      const c = r[`chain${n}`];
      return `${withPrev(c.medianChainTotalMs, c.previous?.medianChainTotalMs, ' ms', 1)} | floor ${withPrev(c.bareFloorPerTaskMs, c.previous?.bareFloorPerTaskMs)} per task`;
    });
    lines.push(`| chain total (median) | first \`spawnHr\` -> last \`exitedHr\` | ${totals.join(' | ')} |`);
    const own = chainSizes.map((n) => r[`chain${n}`]).filter((c) => c.ratioToFloor !== undefined);
    lines.push('');
    for (const c of own) {
      lines.push(`Chain of ${c.tasks} against the same spawns from the benchmark's own (service-sized) process, for reference: ${ms(c.spawnFloorTotalMs)} (${ms(c.spawnFloorPerTaskMs, 3)} each); chain total ${fmt(c.ratioToFloor)} x (${signed(c.overheadPerTaskMs)} ms per task).`);
    }
    if (own.length) lines.push('');
  }

  // ---- Triggers against the HTTP floor ----
  const trig = [r.triggers, r.triggers64].filter((t) => t?.floor);
  if (trig.length) {
    lines.push(
      '## Trigger Flow against its HTTP floor',
      '',
      'Both servers in their own process (`node --import tsx`), driven by autocannon in the benchmark process with the same connections, pipelining 1, warm-up and duration, and the same request bodies; the floor right after batchflow.',
      '',
      '| connections | batchflow | p50 / p99 | CPU server / load gen. | floor (trivial fastify) | p50 / p99 | CPU server / load gen. | ratio | previous ratio |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of trig) {
      lines.push(
        `| ${t.connections} | ${int(t.triggersPerSec)}/s | ${t.latencyP50Ms} / ${t.latencyP99Ms} ms | ${t.serverCpuPercent} / ${t.loadGeneratorCpuPercent} % | ${int(t.floor.requestsPerSec)}/s | ${t.floor.latencyP50Ms} / ${t.floor.latencyP99Ms} ms | ${t.floor.serverCpuPercent} / ${t.floor.loadGeneratorCpuPercent} % | ${fmt(t.ratioToFloor)} x | ${t.previous?.ratioToFloor !== undefined ? `${fmt(t.previous.ratioToFloor)} x` : t.previous?.triggersPerSec !== undefined ? `(${int(t.previous.triggersPerSec)}/s, no floor then)` : '-'} |`,
      );
    }
    lines.push('');
  }

  lines.push(...pgSections(r));
  lines.push(...growthSections(r));
  lines.push(...logCompressionSection(r));

  lines.push(`Raw figures: \`bench/results/${r.quick ? 'quick' : 'latest'}.json\`. Definitions, method and notes on every miss: [\`bench/README.md\`](README.md).`, '');
  return lines.join('\n');
}
