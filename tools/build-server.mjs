// Compiles src/ to dist/ (TypeScript 7's tsc, tsconfig.build.json) and copies the files tsc does not
// emit (the spawner, a CommonJS script the engine forks). dist/web, the console's build, is left alone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
if (existsSync(dist)) for (const entry of readdirSync(dist)) if (entry !== 'web') rmSync(path.join(dist, entry), { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
copyFileSync(path.join(root, 'src', 'engine', 'spawner.cjs'), path.join(dist, 'engine', 'spawner.cjs'));
