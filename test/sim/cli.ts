// `npm run sim -- --seeds N [--from K]` runs seeds K..K+N-1 (default 1..1000); `--seed K` replays one seed
// and prints its violations and digest. A failing seed prints its number; the same seed replays exactly.
import { runSeed } from './simulator.js';

const args = process.argv.slice(2);
const flag = (name: string): number | null => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : null;
};
const one = flag('seed');
const from = flag('from') ?? 1;
const count = flag('seeds') ?? 1000;
const seeds = one !== null ? [one] : Array.from({ length: count }, (_, i) => from + i);
let failed = 0;
const started = Date.now();
process.on('unhandledRejection', (e) => {
  console.error('unhandled rejection:', e);
  process.exitCode = 1;
});
for (const seed of seeds) {
  const r = await runSeed(seed).catch((e: unknown) => ({ seed, violations: [`the run threw: ${(e as Error).stack ?? e}`], digest: '', stats: {} }));
  if (r.violations.length > 0) {
    failed++;
    console.log(`seed ${seed}: FAILED (${r.violations.length} violations; replay with --seed ${seed})`);
    for (const v of r.violations.slice(0, 20)) console.log(`  - ${v}`);
  } else if (one !== null) {
    console.log(`seed ${seed}: ok, digest ${r.digest}, ${JSON.stringify(r.stats)}`);
  }
}
console.log(`${seeds.length - failed} of ${seeds.length} seeds passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (failed > 0) process.exitCode = 1;
