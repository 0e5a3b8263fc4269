// `batchflow rerun` and `batchflow backfill` (contract §12): run an ended run again (what failed, or all
// of it), and fill a range of a workflow's cron fires; with --wait, follow the run (or every run made) to
// its end. --key sends an Idempotency-Key, so that a retried command never makes a second run.
import type { Command } from 'commander';
import type { BatchflowClient, FlowInstanceView } from '../../client/index.js';
import { clientOf, connectionOptions, EXIT, flowIdOf, output, parseAt, parseParam, UsageError, type Connection } from './connect.js';
import { TERMINAL, waitFor } from './progress.js';
import { exitOfRun, showRun } from './runsCommands.js';

/** A --from/--to time: epoch ms or a date and time, the option named in the error. */
function timeOption(v: string, name: string): number {
  try {
    return parseAt(v);
  } catch {
    throw new UsageError(`${name} must be epoch milliseconds or a date and time (2026-12-03T10:15, "2026-12-03 10:15"), got "${v}"`);
  }
}

/**
 * Follows runs that start one after another (a backfill's, in trigger-time order): one line per run as it
 * ends, and on a terminal a line redrawn with the counts so far. Returns the final views.
 */
export async function waitForAll(bf: BatchflowClient, ids: string[], opts: { tty: boolean; quiet: boolean; write: (s: string) => void }): Promise<FlowInstanceView[]> {
  const done: FlowInstanceView[] = [];
  const counts = new Map<string, number>();
  const summary = () => `${done.length}/${ids.length} ended${[...counts].map(([s, n]) => `, ${n} ${s}`).join('')}`;
  for (const id of ids) {
    for (;;) {
      const inst = await bf.getFlowInstance(id);
      const status = String(inst.statusDesc);
      if (TERMINAL.has(status)) {
        done.push(inst);
        counts.set(status, (counts.get(status) ?? 0) + 1);
        if (!opts.quiet) opts.write(`${opts.tty ? '\r\x1b[2K' : ''}${id} ${status}   (${summary()})\n`);
        break;
      }
      if (!opts.quiet && opts.tty) opts.write(`\r\x1b[2K${id} ${status}   (${summary()})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return done;
}

export function registerOperatorCommands(program: Command): void {
  connectionOptions(program.command('rerun <run>').description('run an ended run again under the same id: the tasks that did not succeed (default), or --all of them'))
    .option('--all', 'rerun every task of the run (also a run that succeeded)')
    .option('--wait', 'follow the run until it ends; exit 0 on SUCCESS, 1 otherwise')
    .option('--key <idempotencyKey>', 'an Idempotency-Key: repeating the command with it reruns once')
    .action(async (run: string, o: Connection & { all?: boolean; wait?: boolean; key?: string }) => {
      const bf = clientOf(o);
      const r = await bf.rerun(run, o.all ? 'all' : 'failed', o.key ? { idempotencyKey: o.key } : {});
      const text = `rerun of ${r.flowInstanceId} (${r.mode}): ${r.resetTaskInstIds.length} task instance${r.resetTaskInstIds.length === 1 ? '' : 's'} to run again${r.resetTaskInstIds.length > 0 ? ` (${r.resetTaskInstIds.join(', ')})` : ''}`;
      if (!o.wait) return output(o, r, () => text);
      if (!o.json) process.stdout.write(`${text}\n`);
      const ended = await waitFor(bf, r.flowInstanceId, { tty: process.stdout.isTTY === true && !o.json, quiet: o.json === true, write: (s) => process.stdout.write(s) });
      if (o.json) output(o, ended, () => '');
      else process.stdout.write(`${showRun(ended)}\n`);
      process.exitCode = exitOfRun(String(ended.statusDesc));
    });

  connectionOptions(program.command('backfill <flow>').description("one run per fire of the workflow's cron (or --cron) from --from to --to, at most 1000; minutes that have a run are skipped"))
    .requiredOption('--from <time>', 'first trigger time: epoch ms or a date and time (local)')
    .requiredOption('--to <time>', 'last trigger time, inclusive')
    .option('--cron <cron>', '7-field Quartz cron whose fires to make (required for a manual workflow)')
    .option('--param <key=value>', 'a one-off parameter for these runs (repeatable)', (v: string, all: Array<{ key: string; value: string }>) => parseParam(v, all), [])
    .option('--wait', 'follow every run made until the last one ends; exit 0 when all succeeded, 1 otherwise')
    .option('--key <idempotencyKey>', 'an Idempotency-Key: repeating the command with it backfills once')
    .action(async (flow: string, o: Connection & { from: string; to: string; cron?: string; param: Array<{ key: string; value: string }>; wait?: boolean; key?: string }) => {
      const bf = clientOf(o);
      const input = {
        flowId: flowIdOf(flow),
        fromTime: timeOption(o.from, '--from'),
        toTime: timeOption(o.to, '--to'),
        ...(o.cron ? { cron: o.cron } : {}),
        ...(o.param.length > 0 ? { parameters: o.param } : {}),
      };
      const r = await bf.backfill(input, o.key ? { idempotencyKey: o.key } : {});
      const text = [
        `backfill of workflow ${input.flowId}: ${r.flowInstanceIds.length} run${r.flowInstanceIds.length === 1 ? '' : 's'} created, ${r.skipped.length} skipped (a run exists for that minute)`,
        ...r.flowInstanceIds.map((id) => `  + ${id}`),
        ...r.skipped.map((id) => `  = ${id} (exists)`),
      ].join('\n');
      if (!o.wait) return output(o, r, () => text);
      if (!o.json) process.stdout.write(`${text}\n`);
      const ended = await waitForAll(bf, r.flowInstanceIds, { tty: process.stdout.isTTY === true && !o.json, quiet: o.json === true, write: (s) => process.stdout.write(s) });
      if (o.json) output(o, { ...r, runs: ended.map((i) => ({ flowInstId: i.instanceId, status: i.statusDesc })) }, () => '');
      process.exitCode = ended.every((i) => i.statusDesc === 'SUCCESS') ? EXIT.ok : EXIT.runFailed;
    });
}
