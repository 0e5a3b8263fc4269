// Retention's cost to the API, measured from outside on a large store: Trigger Flow over HTTP (as in the
// growth benchmark: 48 connections, future trigger times) against `batchflow serve` on a store kept by
// the growth benchmark (BENCH_GROWTH_KEEP=1), first without a purge (twice), then with the server's own
// retention job purging (BATCHFLOW_RETENTION_DAYS chosen so that about `target` instances ended before
// the cut-off) while the load runs, one drive after another until the purge is through (at most 30 drives). Reports p99 and
// throughput during the purge against without, the purge's rate, and the instances left. Destructive: it
// purges the store it is given. Writes bench/results/purge-impact-sqlite.json and the key purgeImpact-sqlite
// of latest.json (RESULTS.md's retention row).
//   npx tsx bench/purgeImpact.ts DATA_DIR [target instances, default 500000]
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { machine, median, round } from './machine.js';
import { renderMarkdown } from './report.js';
import { drive, startChild, stopChild } from './triggers.js';

const [dataDir, targetText = '500000'] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: purgeImpact.ts DATA_DIR [target]');
const target = Number(targetText);
const file = path.join(dataDir, 'batchflow.sqlite');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.now();
const port = 18080 + Math.floor(Math.random() * 1000);

const raw = new Database(file, { readonly: true });
const flowIds = (raw.prepare('select id from flows order by id').all() as Array<{ id: number }>).map((r) => r.id);
const ended = (raw.prepare('select ended_at from flow_instances where ended_at is not null order by ended_at limit 1 offset ?').get(target - 1) as { ended_at: number } | undefined)?.ended_at;
const before = raw.prepare('select count(*) n from flow_instances').get() as { n: number };
raw.close();
if (ended === undefined) throw new Error(`fewer than ${target} ended instances in ${file}`);
// Whole days: the cut-off is now - days, the first day boundary at or after the target's end time.
const days = Math.max(1, Math.floor((now - ended) / DAY));
const cutoff = now - days * DAY;
const log = (m: string) => console.log(`[purge-impact] ${new Date().toISOString().slice(11, 19)} ${m}`);
log(`${before.n.toLocaleString('en-US')} instances, ${flowIds.length} flows; BATCHFLOW_RETENTION_DAYS=${days} (cut-off ${new Date(cutoff).toISOString()})`);

let k = 0;
const minute0 = () => Math.ceil((now + 20 * DAY + k++ * 2 * HOUR) / 60_000) * 60_000;
const args = ['src/cli/main.ts', 'serve', '--port', String(port), '--data', dataDir];

const without = [];
for (let i = 0; i < 2; i++) {
  const c = await startChild(args);
  try {
    without.push(await drive([port], [c.pid!], flowIds, minute0(), 48, 3, 10));
  } finally {
    await stopChild(c);
  }
  log(`without a purge: ${without[i].perSec}/s p99 ${without[i].p99} ms`);
}

// The retention job logs one line when its purge is through, or when the server's stop ends it (info level).
const c = await startChild(args, { BATCHFLOW_RETENTION_DAYS: String(days), BATCHFLOW_LOG_LEVEL: 'info' });
const t0 = performance.now();
let done: Record<string, unknown> | null = null;
let doneMs = 0;
c.stdout!.on('data', (d: Buffer) => {
  for (const line of d.toString().split('\n')) {
    if (!line.includes('retention: purged')) continue;
    done = JSON.parse(line) as Record<string, unknown>;
    doneMs = performance.now() - t0;
  }
});
const during = [];
try {
  // Drives until the purge is through (the last one may end after it: it counts if it began before).
  while (!done && during.length < 30) {
    const d = await drive([port], [c.pid!], flowIds, minute0(), 48, 1, 10);
    during.push({ ...d, purgeRunningAtEnd: !done });
    log(`during the purge: ${d.perSec}/s p99 ${d.p99} ms${done ? ' (the purge ended during this drive)' : ''}`);
  }
} finally {
  await stopChild(c);
}
const after = new Database(file, { readonly: true });
const left = (after.prepare('select count(*) n from flow_instances').get() as { n: number }).n;
// What the purge had still to do when the drives stopped (the server's stop ends the purge after its batch).
const remainingBeforeCutoff = (after.prepare('select count(*) n from flow_instances where ended_at is not null and ended_at < ?').get(cutoff) as { n: number }).n;
after.close();

const p99Without = median(without.map((d) => d.p99));
const perSecWithout = median(without.map((d) => d.perSec));
const p99During = median(during.map((d) => d.p99));
const perSecDuring = median(during.map((d) => d.perSec));
// The job's own count (it logs also when the server's stop ends it); without its line, from the store:
// what was there plus what the drives created, less what is left.
const triggered = [...without, ...during].reduce((n, d) => n + d.requests, 0);
const purged = Number((done as { tables?: { flow_instances?: number } } | null)?.tables?.flow_instances ?? before.n + triggered - left);
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  instancesBefore: before.n,
  retentionDays: days,
  purged,
  left,
  remainingBeforeCutoff,
  finished: remainingBeforeCutoff === 0,
  purgeSec: round(doneMs / 1000, 1),
  purgePerSec: doneMs ? Math.round(purged / (doneMs / 1000)) : null,
  without: without.map((d) => ({ perSec: d.perSec, p50: d.p50, p99: d.p99, serverCpuPercent: d.serverCpuPercent })),
  during: during.map((d) => ({ perSec: d.perSec, p50: d.p50, p99: d.p99, serverCpuPercent: d.serverCpuPercent, purgeRunningAtEnd: d.purgeRunningAtEnd })),
  p99Ratio: round(p99During / p99Without, 2),
  throughputRatio: round(perSecDuring / perSecWithout, 2),
  retentionLog: done,
};
log(`purged ${purged.toLocaleString('en-US')} (${remainingBeforeCutoff.toLocaleString('en-US')} still before the cut-off) in ${result.purgeSec} s (${result.purgePerSec}/s); p99 ${p99During} ms against ${p99Without} ms (${result.p99Ratio} x), throughput ${result.throughputRatio} x`);
const out = path.join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'purge-impact-sqlite.json'), JSON.stringify(result, null, 2) + '\n');
// And into latest.json (key purgeImpact-sqlite) with RESULTS.md rendered again, as bench/run.ts does.
const latestFile = path.join(out, 'latest.json');
const latest = existsSync(latestFile) ? JSON.parse(readFileSync(latestFile, 'utf8')) : {};
latest['purgeImpact-sqlite'] = result;
writeFileSync(latestFile, JSON.stringify(latest, null, 2) + '\n');
writeFileSync(path.join(import.meta.dirname, 'RESULTS.md'), renderMarkdown(latest));
