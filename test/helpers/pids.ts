// Pids that test processes write to files: a fresh file name per call, and reading one once it is there.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A function handing out fresh pid file paths in `dir`. */
export function pidFiles(dir: string): () => string {
  let n = 0;
  return () => path.join(dir, `pid-${++n}`);
}

/** The pid a process wrote to `file`, once it is there (2 s at most). */
export async function readPid(file: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    let s = '';
    try {
      s = readFileSync(file, 'utf8').trim();
    } catch {
      // not written yet
    }
    if (/^\d+$/.test(s)) return Number(s);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no pid in ${file}`);
}
