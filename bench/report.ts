// Renders bench/RESULTS.md from the figures bench/run.ts gathered: one table, a verdict per target.
// Definitions, method and the explanation of every miss are in bench/README.md.

/** The day of an ISO date (the hour says nothing in a table of benchmarks). */
const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : 'date unknown');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderMarkdown(r: Record<string, any>): string {
  const m = r.machine;
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  const lines = [
    '# Benchmark results',
    '',
    `Written ${r.date} by \`bench/run.ts\` on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; each benchmark's run date is in its row.`,
    '',
    '| benchmark | measure | result | target | verdict |',
    '| --- | --- | --- | --- | --- |',
  ];
  const c = r.chain;
  if (c) {
    const via = c.spawner === 'direct' ? 'spawned by the service itself' : 'spawned by the spawner process';
    lines.push(
      `| chain of ${c.tasks} \`true\` tasks, ${via} (${c.runs} runs, ${day(c.date)}) | gap exit -> successor's spawn returned, median | ${c.gapMedianMs} ms | <= 2 ms | ${verdict(c.gapMedianMs <= 2)} |`,
      `| | same gap, p99 | ${c.gapP99Ms} ms | <= 10 ms | ${verdict(c.gapP99Ms <= 10)} |`,
      `| | second definition, engine latency: engine learns of the exit -> asks for the spawn, median (the rest of the gap: the exit's relay to the engine ${c.exitRelayMedianMs} ms, the request's way to spawn() returned ${c.spawnCallMedianMs} ms) | ${c.engineGapMedianMs} ms | (<= 2 ms) | ${verdict(c.engineGapMedianMs <= 2)} |`,
      `| | engine latency, p99 | ${c.engineGapP99Ms} ms | (<= 10 ms) | ${verdict(c.engineGapP99Ms <= 10)} |`,
      `| | chain total, median of runs, vs ${c.tasks} x spawn of \`/bin/sh -c true\` from a bare \`node\` (the target's floor: median ${c.bareFloorPerTaskMs} ms each, ${c.bareFloorTotalMs} ms; best run / best floor ${c.bestRatioToBareFloor} x) | ${c.medianChainTotalMs} ms = ${c.ratioToBareFloor} x floor (+${c.overheadPerTaskBareMs} ms per task) | <= 1.3 x | ${verdict(c.ratioToBareFloor <= 1.3)} |`,
      `| | same total vs ${c.tasks} x the same spawn from the benchmark's own (service-sized) process (median ${c.spawnFloorPerTaskMs} ms each, ${c.spawnFloorTotalMs} ms; best / best ${c.bestRatioToFloor} x) | ${c.ratioToFloor} x (${c.overheadPerTaskMs >= 0 ? '+' : ''}${c.overheadPerTaskMs} ms per task) | (for reference) | - |`,
    );
  }
  for (const t of [r.triggers, r.triggers64]) {
    if (!t) continue;
    lines.push(
      `| Trigger Flow over HTTP, ${t.flows} flows, ${t.connections} connections, ${t.durationSec} s, ${day(t.date)} (CPU: server ${t.serverCpuPercent} %, load generator ${t.loadGeneratorCpuPercent} %) | throughput | ${t.triggersPerSec} triggers/s | >= 5,000/s | ${verdict(t.triggersPerSec >= 5000)} |`,
      `| | latency p99 (p50 ${t.latencyP50Ms} ms) | ${t.latencyP99Ms} ms | <= 20 ms | ${verdict(t.latencyP99Ms <= 20)} |`,
      `| | answers with a non-zero code | ${t.nonZeroCodes} of ${t.requests} | 0 | ${verdict(t.nonZeroCodes === 0)} |`,
    );
  }
  lines.push('', 'Raw figures: `bench/results/latest.json`. Definitions, method and notes on every miss: [`bench/README.md`](README.md).', '');
  return lines.join('\n');
}
