// Where the trigger path's time goes as a SQLite store grows: Store.createFlowInstance as the server
// calls it under load (one create per flow, all in one event-loop turn: group commits of 256), on a store
// file kept by the growth benchmark (BENCH_GROWTH_KEEP=1), with the page cache, mmap and indexes varied.
// Reports the time per create and what the process read and wrote through system calls per create
// (/proc/self/io: pages SQLite fetched from the OS, WAL and checkpoint traffic).
//   npx tsx bench/growthProfile.ts FILE [--cache KiB] [--mmap BYTES] [--drop idx1,idx2] [--exec SQL] [--rounds N]
// --drop and --exec change the file: give them a copy.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { buildFlowInstance } from '../src/domain/instances.js';
import type { FlowWithTasks } from '../src/domain/types.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { median, round } from './machine.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = args[0];
if (!file || file.startsWith('--')) throw new Error('usage: growthProfile.ts FILE [--cache KiB] [--mmap BYTES] [--drop idx,...] [--exec SQL] [--rounds N]');
const drop = opt('drop')?.split(',').filter(Boolean) ?? [];
// --exec "SQL; SQL": statements run on the file first (e.g. re-creating the indexes 0009 replaced, to
// measure their share on a copy of the same store).
const exec = opt('exec');
for (const idx of drop) if (!/^\w+$/.test(idx)) throw new Error(`--drop: ${idx} is not an index name`);
if (exec || drop.length) {
  const raw = new Database(file);
  if (exec) raw.exec(exec);
  for (const idx of drop) raw.exec(`drop index if exists ${idx}`);
  raw.close();
}
const io = () => {
  const t = Object.fromEntries(readFileSync('/proc/self/io', 'utf8').trim().split('\n').map((l) => l.split(': ')).map(([k, v]) => [k, Number(v)]));
  return { rchar: t.rchar, wchar: t.wchar, syscr: t.syscr, syscw: t.syscw };
};

const store = await createSqliteStore({ filename: file, cacheSizeKiB: opt('cache') ? Number(opt('cache')) : undefined, mmapSizeBytes: opt('mmap') ? Number(opt('mmap')) : undefined });
const flows = (await Promise.all((await store.listFlows('o-default')).map((f) => store.getFlow('o-default', f.id)))) as FlowWithTasks[];
const owner = (await store.getUser('u-admin'))!.name;
const rounds = Number(opt('rounds') ?? 12);
// Minutes 90 days ahead, one per round and flow: past every trigger the benchmark made.
const minute0 = Math.ceil((Date.now() + 90 * 86_400_000) / 60_000) * 60_000 + Math.floor(Math.random() * 10_000) * 60_000 * rounds;
const perCreateUs: number[] = [];
const io0 = io();
let measured = 0;
for (let r = 0; r < rounds; r++) {
  const now = Date.now();
  const inputs = flows.map((fw) => ({
    ...buildFlowInstance({ fw, triggerTime: minute0 + r * 60_000, now, timezone: 'UTC', owner, kind: 'trigger', overrides: [], startTaskId: null, runSet: null }),
    lockUserId: 'u-admin',
  }));
  const t0 = performance.now();
  await Promise.all(inputs.map((i) => store.createFlowInstance(i)));
  // The first two rounds warm the cache and the statements: not counted.
  if (r >= 2) {
    perCreateUs.push(((performance.now() - t0) * 1000) / inputs.length);
    measured += inputs.length;
  }
  if (r === 1) Object.assign(io0, io());
}
const io1 = io();
await store.close();
const per = (k: keyof typeof io0) => round((io1[k] - io0[k]) / measured, 1);
console.log(
  JSON.stringify({
    file,
    cacheKiB: opt('cache') ?? 'default',
    mmap: opt('mmap') ?? 0,
    dropped: drop,
    exec: exec ?? null,
    creates: measured,
    usPerCreateMedian: round(median(perCreateUs), 1),
    usPerCreateRounds: perCreateUs.map((x) => round(x, 0)),
    readBytesPerCreate: per('rchar'),
    readCallsPerCreate: per('syscr'),
    writtenBytesPerCreate: per('wchar'),
    writeCallsPerCreate: per('syscw'),
  }),
);
