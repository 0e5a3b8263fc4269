// `--wait`: follows a flow instance until it ends. On a terminal, one line redrawn in place (a bar and the
// counts of done, running and failed tasks); otherwise a plain line whenever a count or the status changes.
import type { BatchflowClient, DecodedTask, FlowInstanceView } from '../../client/index.js';

/** Statuses a flow instance ends in. */
export const TERMINAL: ReadonlySet<string> = new Set(['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR']);
const DONE = new Set(['SUCCESS', 'SKIP']);
const FAILED = new Set(['FAIL', 'CANCEL']);

export interface Counts {
  total: number;
  done: number;
  running: number;
  failed: number;
}

export function countTasks(tasks: DecodedTask[]): Counts {
  return {
    total: tasks.length,
    done: tasks.filter((t) => DONE.has(t.status)).length,
    running: tasks.filter((t) => t.status === 'RUNNING').length,
    failed: tasks.filter((t) => FAILED.has(t.status)).length,
  };
}

export function bar(c: Counts, width = 24): string {
  const filled = c.total === 0 ? 0 : Math.round(((c.done + c.failed) / c.total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

const line = (id: string, status: string, c: Counts) => `${id} ${status}: ${c.done}/${c.total} done, ${c.running} running, ${c.failed} failed`;

/** Polls the instance (every 250 ms) until it ends; returns its final view. */
export async function waitFor(bf: BatchflowClient, id: string, opts: { tty: boolean; quiet: boolean; write: (s: string) => void }): Promise<FlowInstanceView> {
  let last = '';
  for (;;) {
    const inst = await bf.getFlowInstance(id);
    const c = countTasks(inst.tasks ?? []);
    const text = line(id, String(inst.statusDesc), c);
    const ended = TERMINAL.has(String(inst.statusDesc));
    if (!opts.quiet && text !== last) {
      if (opts.tty) opts.write(`\r\x1b[2K${bar(c)} ${text}${ended ? '\n' : ''}`);
      else opts.write(`${text}\n`);
      last = text;
    } else if (!opts.quiet && opts.tty && ended) opts.write('\n');
    if (ended) return inst;
    await new Promise((r) => setTimeout(r, 250));
  }
}
