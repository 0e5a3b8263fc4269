// The BullMQ baseline: runs bench/bullmqWorker.ts in a process of its own, a BullMQ worker process as it
// would be deployed: plain `node` running JavaScript (the file is compiled to one ESM file by esbuild
// first, BullMQ and ioredis left as imports), holding BullMQ, ioredis and the processor only. Not under
// tsx (its loader thread adds ~25 MB to every fork's page tables), not in the benchmark's service-sized
// process. Needs Redis at 127.0.0.1:6379 (bench/README.md).
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { BullmqInput, BullmqResult } from './bullmqWorker.js';

export type { BullmqResult };

const root = path.resolve(import.meta.dirname, '..');
// Inside node_modules, so that the compiled file resolves `bullmq` and `ioredis` from the project's.
const compiled = path.join(root, 'node_modules', '.cache', 'batchflow-bench', 'bullmqWorker.mjs');
let built: Promise<unknown> | undefined;

export async function benchBullmq(input: BullmqInput): Promise<BullmqResult> {
  built ??= build({
    entryPoints: [path.join(root, 'bench', 'bullmqWorker.ts')],
    outfile: compiled,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  await built;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [compiled, JSON.stringify(input)], { cwd: root, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`BullMQ benchmark (${input.shape}, ${input.n}) failed: ${error.message}\n${stderr}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as BullmqResult);
      } catch {
        reject(new Error(`BullMQ benchmark: unexpected output ${JSON.stringify(stdout.slice(-500))}`));
      }
    });
  });
}
