// Renders bench/RESULTS.md from the figures bench/run.ts gathered: one table, a verdict per target.
// Definitions, method and the explanation of every miss are in bench/README.md.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderMarkdown(r: Record<string, any>): string {
  const m = r.machine;
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  const lines = [
    '# Benchmark results',
    '',
    `Run ${r.date} with \`npm run bench\` on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}.`,
    '',
    '| benchmark | measure | result | target | verdict |',
    '| --- | --- | --- | --- | --- |',
  ];
  const c = r.chain;
  if (c) {
    lines.push(
      `| chain of ${c.tasks} \`true\` tasks (${c.runs} runs) | gap exit -> successor's spawn returned, median | ${c.gapMedianMs} ms | <= 2 ms | ${verdict(c.gapMedianMs <= 2)} |`,
      `| | same gap, p99 | ${c.gapP99Ms} ms | <= 10 ms | ${verdict(c.gapP99Ms <= 10)} |`,
      `| | second definition, engine latency: exit -> engine calls spawn, median (spawn() itself took ${c.spawnCallMedianMs} ms) | ${c.engineGapMedianMs} ms | (<= 2 ms) | ${verdict(c.engineGapMedianMs <= 2)} |`,
      `| | engine latency, p99 | ${c.engineGapP99Ms} ms | (<= 10 ms) | ${verdict(c.engineGapP99Ms <= 10)} |`,
      `| | chain total, median of runs (best run / best floor: ${c.bestRatioToFloor} x) vs ${c.tasks} x spawn of \`/bin/sh -c true\` (median floor ${c.spawnFloorPerTaskMs} ms each, ${c.spawnFloorTotalMs} ms) | ${c.medianChainTotalMs} ms = ${c.ratioToFloor} x floor (+${c.overheadPerTaskMs} ms per task) | <= 1.3 x | ${verdict(c.ratioToFloor <= 1.3)} |`,
    );
  }
  for (const t of [r.triggers, r.triggers64]) {
    if (!t) continue;
    lines.push(
      `| Trigger Flow over HTTP, ${t.flows} flows, ${t.connections} connections, ${t.durationSec} s (CPU: server ${t.serverCpuPercent} %, load generator ${t.loadGeneratorCpuPercent} %) | throughput | ${t.triggersPerSec} triggers/s | >= 5,000/s | ${verdict(t.triggersPerSec >= 5000)} |`,
      `| | latency p99 (p50 ${t.latencyP50Ms} ms) | ${t.latencyP99Ms} ms | <= 20 ms | ${verdict(t.latencyP99Ms <= 20)} |`,
      `| | answers with a non-zero code | ${t.nonZeroCodes} of ${t.requests} | 0 | ${verdict(t.nonZeroCodes === 0)} |`,
    );
  }
  lines.push('', 'Raw figures: `bench/results/latest.json`. Definitions, method and notes on every miss: [`bench/README.md`](README.md).', '');
  return lines.join('\n');
}
