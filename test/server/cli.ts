// Runs the batchflow CLI as a child process to its exit, for start-up tests: its exit code and output.
// A run that outlives its deadline is killed and fails the test (a refused start must exit by itself).
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, deadlineMs = 30_000): Promise<CliRun> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', BATCHFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`batchflow ${args.join(' ')} did not exit within ${deadlineMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, deadlineMs);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The lines of an output, expecting each to end with a newline. */
export function lines(output: string): string[] {
  return output === '' ? [] : output.replace(/\n$/, '').split('\n');
}
