// Logs at rest (issue 12, item 5): would compressing each task_logs row halve the log's bytes on disk
// without making an append or a read of the log more than 10 % slower? Measured on a scratch SQLite file
// with the store's settings (WAL, synchronous NORMAL) and task_logs' own shape (text rows keyed by
// attempt and seq, one row per append, each append its own commit as Store.appendLog does), for the
// chunk sizes the engine writes: the banner (~250 B), a short task's tail, and a chatty task's flushes
// (every 200 ms or 64 KiB). Compressed variants: deflate (levels 1 and 6) and brotli (quality 4), as a
// BLOB (SQLite only) and as base64 text (what a text column, as on PostgreSQL, could hold without a
// migration). `npx tsx bench/run.ts logs`.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { median, round } from './machine.js';

type Codec = { name: string; enc: (s: string) => Buffer | string; dec: (b: Buffer | string) => string };

const CODECS: Codec[] = [
  { name: 'plain', enc: (s) => s, dec: (b) => b as string },
  { name: 'deflate-1', enc: (s) => zlib.deflateRawSync(s, { level: 1 }), dec: (b) => zlib.inflateRawSync(b as Buffer).toString() },
  { name: 'deflate-6', enc: (s) => zlib.deflateRawSync(s, { level: 6 }), dec: (b) => zlib.inflateRawSync(b as Buffer).toString() },
  {
    name: 'brotli-4',
    enc: (s) => zlib.brotliCompressSync(s, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: s.length } }),
    dec: (b) => zlib.brotliDecompressSync(b as Buffer).toString(),
  },
  { name: 'deflate-6 base64', enc: (s) => zlib.deflateRawSync(s, { level: 6 }).toString('base64'), dec: (b) => zlib.inflateRawSync(Buffer.from(b as string, 'base64')).toString() },
];

const RULE = '='.repeat(60);
const banner = (k: number) =>
  `${RULE}\nrun num:\t1\ninstance:\t${1000 + (k % 500)}-20261201${String(k % 24).padStart(2, '0')}0000\ncmdline:\trun-step --part ${k % 20} --date 20261201\nsubmitter:\tadmin\ncurrent time:\tTue Dec 01 ${String(k % 24).padStart(2, '0')}:00:02 UTC 2026\n${RULE}\n`;
const shortTail = (k: number) => `reading input for ${1000 + k}-202612010000\nprocessed ${1000 + k * 37} records in ${(k % 9) + 1}.${k % 10}s\nwrote output/part-${k % 16}.csv\n`;
/** A chatty job's output: timestamped progress lines with varying numbers, `bytes` long. */
function chatty(k: number, bytes: number): string {
  let out = '';
  for (let line = 0; out.length < bytes; line++) {
    const n = (k * 7919 + line * 104_729) % 1_000_000;
    out += `2026-12-01T03:${String(line % 60).padStart(2, '0')}:${String((line * 7) % 60).padStart(2, '0')}.${String(n % 1000).padStart(3, '0')} INFO  [worker-${line % 8}] batch ${k}.${line}: upserted ${n % 5000} rows into sales_fact (partition p${n % 31}), ${(n % 977) / 10} ms\n`;
  }
  return out.slice(0, bytes);
}

const KINDS: Array<{ name: string; make: (k: number) => string; rows: number }> = [
  { name: 'banner (~250 B)', make: banner, rows: 4000 },
  { name: 'short tail (~100 B)', make: shortTail, rows: 4000 },
  { name: 'chatty flush 4 KiB', make: (k) => chatty(k, 4096), rows: 2000 },
  { name: 'chatty flush 64 KiB', make: (k) => chatty(k, 65_536), rows: 300 },
];

export interface LogCodecFigure {
  kind: string;
  codec: string;
  /** Bytes of text appended, and task_logs' bytes on disk (table + primary key), over the text. */
  textBytes: number;
  diskBytesPerTextByte: number;
  /** Against plain text of the same kind: disk bytes, append time, read time. */
  diskRatio: number;
  appendUs: number;
  appendRatio: number;
  /** Reading one attempt's 16 chunks in order and decoding them (what getLog does), per read. */
  readUs: number;
  readRatio: number;
}

function runCodec(dir: string, kind: (typeof KINDS)[number], codec: Codec): Omit<LogCodecFigure, 'diskRatio' | 'appendRatio' | 'readRatio'> {
  const file = path.join(dir, `${codec.name.replace(/\W/g, '_')}-${kind.rows}-${Math.random().toString(36).slice(2)}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table task_logs (task_instance_id text not null, run_num integer not null, seq integer not null, text text not null, primary key (task_instance_id, run_num, seq))');
  const insert = db.prepare('insert into task_logs (task_instance_id, run_num, seq, text) values (?, 1, ?, ?)');
  const chunks = Array.from({ length: kind.rows }, (_, k) => kind.make(k));
  const times: number[] = [];
  let textBytes = 0;
  chunks.forEach((text, k) => {
    // 16 chunks per attempt; attempts interleaved as the appends of concurrent tasks are.
    const t0 = performance.now();
    insert.run(`${1000 + (k % Math.ceil(kind.rows / 16))}-20261201030000`, Math.floor(k / Math.ceil(kind.rows / 16)), codec.enc(text));
    times.push(performance.now() - t0);
    textBytes += Buffer.byteLength(text);
  });
  db.pragma('wal_checkpoint(TRUNCATE)');
  const disk = (db.prepare("select sum(pgsize) as b from dbstat where name in ('task_logs', 'sqlite_autoindex_task_logs_1')").get() as { b: number }).b;
  const read = db.prepare('select text from task_logs where task_instance_id = ? and run_num = 1 order by seq');
  const readTimes: number[] = [];
  for (let k = 0; k < Math.min(400, Math.ceil(kind.rows / 16)); k++) {
    const t0 = performance.now();
    const rows = read.all(`${1000 + k}-20261201030000`) as Array<{ text: Buffer | string }>;
    let n = 0;
    for (const r of rows) n += codec.dec(r.text).length;
    readTimes.push(performance.now() - t0);
    if (n === 0 && rows.length) throw new Error('decoded nothing');
  }
  db.close();
  return { kind: kind.name, codec: codec.name, textBytes, diskBytesPerTextByte: round(disk / textBytes, 3), appendUs: round(median(times) * 1000, 1), readUs: round(median(readTimes) * 1000, 1) };
}

export async function benchLogCompression(): Promise<{ figures: LogCodecFigure[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'batchflow-bench-logs-'));
  const figures: LogCodecFigure[] = [];
  try {
    for (const kind of KINDS) {
      const plain = runCodec(dir, kind, CODECS[0]);
      for (const codec of CODECS) {
        const f = codec === CODECS[0] ? plain : runCodec(dir, kind, codec);
        figures.push({
          ...f,
          diskRatio: round(f.diskBytesPerTextByte / plain.diskBytesPerTextByte, 2),
          appendRatio: round(f.appendUs / plain.appendUs, 2),
          readRatio: round(f.readUs / plain.readUs, 2),
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures };
}
