// `batchflow trigger`, `runs list|show`, `logs [--follow]` and `cancel`: runs through the SDK.
import type { Command } from 'commander';
import { FLOW_INSTANCE_WIRE } from '../../api/wire.js';
import type { FlowInstanceStatus } from '../../domain/status.js';
import type { DecodedTask, FlowInstanceView } from '../../client/index.js';
import { clientOf, connectionOptions, EXIT, flowIdOf, formatMs, output, parseAt, parseParam, UsageError, type Connection } from './connect.js';
import { waitFor } from './progress.js';

const STATUS_FILTER: Record<string, FlowInstanceStatus[]> = {
  wait: ['WAIT'],
  running: ['RUNNING'],
  success: ['SUCCESS'],
  fail: ['FAIL', 'INTERNAL_ERROR'],
  cancel: ['CANCEL'],
};

/** Tasks in DAG order, each indented by its depth (the longest path from a root). */
export function taskTree(tasks: DecodedTask[]): string[] {
  const byNode = new Map(tasks.map((t) => [t.nodeId, t]));
  const depth = new Map<string, number>();
  const depthOf = (t: DecodedTask, seen = new Set<string>()): number => {
    const known = depth.get(t.nodeId);
    if (known !== undefined) return known;
    if (seen.has(t.nodeId)) return 0;
    seen.add(t.nodeId);
    const ups = t.upstream.map((n) => byNode.get(n)).filter((u): u is DecodedTask => u !== undefined);
    const d = ups.length === 0 ? 0 : 1 + Math.max(...ups.map((u) => depthOf(u, seen)));
    depth.set(t.nodeId, d);
    return d;
  };
  const ordered = [...tasks].sort((a, b) => depthOf(a) - depthOf(b) || tasks.indexOf(a) - tasks.indexOf(b));
  return ordered.map((t) => {
    const after = t.upstream.length > 0 ? `  (after ${t.upstream.map((n) => byNode.get(n)?.taskName ?? n).join(', ')})` : '';
    return `${'  '.repeat(depthOf(t) + 1)}${t.taskName.padEnd(16)} ${t.status.padEnd(8)} attempts ${t.attempts.length}  ${formatMs(t.durationMs)}  ${t.taskInstId || '-'}${keysText(t)}${after}`;
  });
}

/** taskMode 2: `  keys 4/5 SUCCESS, 1 FAIL` (contract §11). */
export function keysText(t: DecodedTask): string {
  if (!t.keys) return '';
  const others = Object.entries(t.keys.byStatus).filter(([s, n]) => s !== 'SUCCESS' && n > 0).map(([s, n]) => `${n} ${s}`);
  return `  keys ${t.keys.byStatus.SUCCESS}/${t.keys.total} SUCCESS${others.length > 0 ? `, ${others.join(', ')}` : ''}`;
}

export function showRun(i: FlowInstanceView): string {
  // The stamped date fields are documented as a group (structs.ts), not by name.
  const at = i as FlowInstanceView & Record<string, unknown>;
  const head = `run ${i.instanceId} of workflow ${i.flowId} ${i.flowName}: ${i.statusDesc}  (trigger ${at.triggerTime}, start ${at.startTime ?? '-'}, end ${at.endTime ?? '-'})`;
  return [head, ...taskTree(i.tasks ?? []), ...referenceLines(i), ...alertLines(i)].join('\n');
}

/** Its alerts (contract §12): each one's event and status, and per channel who was told and how it went. */
export function alertLines(i: FlowInstanceView): string[] {
  const alerts = i.alerts ?? [];
  if (alerts.length === 0) return [];
  return [
    '  alerts:',
    ...alerts.flatMap((a) => [
      `    ${a.event.padEnd(14)} ${a.status.padEnd(8)} ${a.createdAt}${a.taskInstId ? `  ${a.taskInstId}` : ''}${a.status === 'PENDING' && a.nextTryAt ? `  next try ${a.nextTryAt}` : ''}`,
      ...a.deliveries.map((d) => `      ${d.channel.padEnd(8)} ${d.status.padEnd(9)} ${d.to.length > 0 ? d.to.join(', ') : '-'}  tries ${d.tries}${d.error ? `  (${d.error})` : ''}`),
    ]),
  ];
}

/** Its references to other workflows (contract §10): the window, the bound instance and the wait. */
export function referenceLines(i: FlowInstanceView): string[] {
  const refs = i.references ?? [];
  if (refs.length === 0) return [];
  const names = new Map<string, string>((JSON.parse(i.graph).flows ?? []).map((f: { nodeId: string; flowName: string; isVirtual: boolean }) => [f.nodeId, f.isVirtual ? `task ${f.flowName}` : f.flowName]));
  return [
    '  references:',
    ...refs.map((r) => {
      const wait = r.status === null ? 'not started' : r.status === 'WAITING' ? `WAITING until ${r.deadline ?? '-'}` : r.status;
      const bound = r.flowInstId ? `${r.flowInstId} ${r.boundStatus}` : 'no instance yet';
      return `    ${(names.get(r.nodeId) ?? r.nodeId).padEnd(20)} ${r.cycleGap.padEnd(4)} ${r.windowStart} .. ${r.windowEnd}  ${bound}  ${wait}${r.reason ? `: ${r.reason}` : ''}`;
    }),
  ];
}

export const exitOfRun = (status: string) => (status === 'SUCCESS' ? EXIT.ok : EXIT.runFailed);

export function registerRunCommands(program: Command): void {
  connectionOptions(program.command('trigger <flow>').description('run a workflow (now, or at --at), with one-off parameters or from one task'))
    .option('--at <time>', 'trigger time: epoch ms or a date and time (default now)')
    .option('--param <key=value>', 'a one-off parameter (repeatable; the stored workflow is unchanged)', parseParamOption, [])
    .option('--from-task <name>', 'run this task and everything downstream of it only')
    .option('--wait', 'follow the run until it ends; exit 0 on SUCCESS, 1 on FAIL or CANCEL')
    .action(async (flow: string, o: Connection & { at?: string; param: Array<{ key: string; value: string }>; fromTask?: string; wait?: boolean }) => {
      const bf = clientOf(o);
      const flowId = flowIdOf(flow);
      const triggerTime = o.at ? parseAt(o.at) : Date.now();
      if (o.fromTask && o.param.length > 0) throw new UsageError('--from-task and --param cannot be combined (Trigger Flow From Task takes no parameters)');
      let created: { flowInstanceId: string };
      if (o.fromTask) {
        const f = await bf.call('getFlow', { flowId });
        const graph = JSON.parse(String((f as { graph?: unknown }).graph ?? '{}')) as { tasks?: Array<{ taskName: string; taskId: string }> };
        const task = graph.tasks?.find((t) => t.taskName === o.fromTask);
        if (!task) throw new UsageError(`workflow ${flowId} has no task named "${o.fromTask}" (it has ${(graph.tasks ?? []).map((t) => t.taskName).join(', ')})`);
        created = await bf.call('triggerFlowFromTask', { flowId, taskId: Number(task.taskId), triggerTime });
      } else if (o.param.length > 0) created = await bf.call('updateAndTriggerFlow', { flowId, triggerTime, parameters: o.param });
      else created = await bf.call('triggerFlow', { flowId, triggerTime });
      const id = created.flowInstanceId;
      if (!o.wait) return output(o, created, () => `triggered run ${id}`);
      if (!o.json) process.stdout.write(`triggered run ${id}\n`);
      const ended = await waitFor(bf, id, { tty: process.stdout.isTTY === true && !o.json, quiet: o.json === true, write: (s) => process.stdout.write(s) });
      if (o.json) output(o, ended, () => '');
      else process.stdout.write(`${showRun(ended)}\n`);
      process.exitCode = exitOfRun(String(ended.statusDesc));
    });

  const runs = program.command('runs').description('runs (flow instances): list, show');
  connectionOptions(runs.command('list').description('recent runs, newest first'))
    .option('--flow <flowId>', 'runs of this workflow only')
    .option('--status <status>', `only runs in this state: ${Object.keys(STATUS_FILTER).join(', ')}`)
    .option('--limit <n>', 'how many (default 20, at most 1000)', '20')
    .action(async (o: Connection & { flow?: string; status?: string; limit: string }) => {
      if (o.status && !STATUS_FILTER[o.status]) throw new UsageError(`--status must be one of ${Object.keys(STATUS_FILTER).join(', ')}, got "${o.status}"`);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be an integer from 1 to 1000, got "${o.limit}"`);
      const statuses = o.status ? STATUS_FILTER[o.status].map((s) => FLOW_INSTANCE_WIRE[s]).join(',') : '';
      const data = await clientOf(o).call('searchFlowInstances', {
        type: 0,
        expression: o.flow ? `${flowIdOf(o.flow)}-` : '',
        owner: '',
        status: statuses,
        fromTriggerTime: 0,
        toTriggerTime: Date.now() + 400 * 86_400_000,
        pagination: { pageNo: 1, pageSize: limit, sorters: [{ field: 'triggerTime', order: 'DESC' }] },
      } as never);
      output(o, data, (d: { flowInsts: Array<Record<string, unknown>>; count: number }) =>
        d.flowInsts.length === 0
          ? 'no runs'
          : [`RUN\tSTATUS\tTRIGGER\tWORKFLOW`, ...d.flowInsts.map((i) => `${i.instanceId}\t${i.statusDesc}\t${i.triggerTime}\t${i.flowName}`), `(${d.flowInsts.length} of ${d.count})`].join('\n'),
      );
    });
  connectionOptions(runs.command('show <run>').description('one run: its tasks in DAG order with statuses, attempts and durations')).action(async (run: string, o: Connection) => {
    const data = await clientOf(o).getFlowInstance(run);
    output(o, data, showRun);
  });

  connectionOptions(program.command('logs <taskInstance>').description("a task instance's log (every attempt)"))
    .option('--follow', 'keep printing the log as the task writes it, until it ends')
    .action(async (taskInstance: string, o: Connection & { follow?: boolean }) => {
      const bf = clientOf(o);
      if (!o.follow) {
        const log = await bf.getTaskLog(taskInstance);
        return output(o, { log }, (d: { log: string }) => d.log);
      }
      let status = '';
      for await (const e of bf.streamLog(taskInstance, { tailChars: 1 << 24 })) {
        if (o.json) process.stdout.write(`${JSON.stringify(e)}\n`);
        else if (e.event === 'log') process.stdout.write(e.data.text);
        if (e.event === 'status' || e.event === 'end') status = e.data.status;
      }
      if (!o.json) process.stderr.write(`batchflow: ${taskInstance} ended ${status}\n`);
      process.exitCode = status === 'SUCCESS' || status === 'SKIP' ? EXIT.ok : EXIT.runFailed;
    });

  connectionOptions(program.command('cancel <run>').description('cancel a waiting or running run')).action(async (run: string, o: Connection) => {
    await clientOf(o).cancel(run);
    output(o, { flowInstId: run, cancelled: true }, () => `cancelled run ${run}`);
  });
}

function parseParamOption(v: string, all: Array<{ key: string; value: string }>) {
  return parseParam(v, all);
}
