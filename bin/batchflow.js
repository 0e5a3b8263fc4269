#!/usr/bin/env node
// The `batchflow` command. An installed package (npm pack / npm install) runs the compiled JavaScript in
// dist/, with no TypeScript compiler at run time. A repository checkout (src/ beside bin/) runs the
// sources through tsx, so that a change is live without a build and tests never run a stale dist/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.join(import.meta.dirname, '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
if (existsSync(source) && process.env.BATCHFLOW_COMPILED !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(path.join(root, 'dist', 'cli', 'main.js')).href);
}
