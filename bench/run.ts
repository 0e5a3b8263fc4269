// `npm run bench`: runs every benchmark and writes bench/results/latest.json and bench/RESULTS.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchChain } from './chain.js';
import { machine } from './machine.js';
import { benchTriggers } from './triggers.js';

const only = process.argv[2];
const here = import.meta.dirname;
const results: Record<string, unknown> = { date: new Date().toISOString(), machine: machine() };
if (!only || only === 'chain') {
  results.chain = await benchChain(200, 5);
  console.log('chain', results.chain);
}
if (!only || only === 'triggers') {
  results.triggers = await benchTriggers({ flows: 1000, connections: 64, durationSec: 10 });
  console.log('triggers', results.triggers);
}
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(path.join(here, 'RESULTS.md'), renderMarkdown(results));
console.log('wrote bench/results/latest.json and bench/RESULTS.md');

function renderMarkdown(r: Record<string, any>): string {
  const m = r.machine;
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
      `| chain of ${c.tasks} \`true\` tasks (${c.runs} runs) | gap end -> successor start, median | ${c.gapMedianMs} ms | <= 2 ms | ${c.gapMedianMs <= 2 ? 'met' : 'missed'} |`,
      `| | gap, p99 | ${c.gapP99Ms} ms | <= 10 ms | ${c.gapP99Ms <= 10 ? 'met' : 'missed'} |`,
      `| | chain total (best run) vs ${c.tasks} x spawn of \`/bin/sh -c true\` (${c.spawnFloorPerTaskMs} ms each, ${c.spawnFloorTotalMs} ms) | ${c.bestChainTotalMs} ms = ${c.ratioToFloor} x floor | <= 1.3 x | ${c.ratioToFloor <= 1.3 ? 'met' : 'missed'} |`,
    );
  }
  const t = r.triggers;
  if (t) {
    lines.push(
      `| Trigger Flow over HTTP, ${t.flows} flows, ${t.connections} connections, ${t.durationSec} s | throughput | ${t.triggersPerSec} triggers/s | >= 5,000/s | ${t.triggersPerSec >= 5000 ? 'met' : 'missed'} |`,
      `| | latency p99 (p50 ${t.latencyP50Ms} ms) | ${t.latencyP99Ms} ms | <= 20 ms | ${t.latencyP99Ms <= 20 ? 'met' : 'missed'} |`,
      `| | answers with a non-zero code | ${t.nonZeroCodes} of ${t.requests} | 0 | ${t.nonZeroCodes === 0 ? 'met' : 'missed'} |`,
    );
  }
  lines.push('', 'Raw figures: `bench/results/latest.json`. Notes on method and misses: `bench/README.md`.', '');
  return lines.join('\n');
}
