// `batchflow flows import|list|get|export` and `enable|disable FLOW`: workflows through the SDK.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clientOf, connectionOptions, flowIdOf, output, UsageError, type Connection } from './connect.js';

/** The Import Flow body of a file: an import body (flowName, dirId, flowJson) or an export (flowJson alone). */
function importBody(file: string, dirId: string, name?: string): Record<string, unknown> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`cannot read ${file} as JSON: ${(e as Error).message}`);
  }
  if (json.flowJson && typeof json.flowJson === 'object') {
    const keep = typeof json.dirId === 'string' && json.dirId !== '' && json.dirId !== 'ROOT_DIR_ID';
    return { ...json, dirId: keep && !dirId ? json.dirId : dirId, ...(name ? { flowName: name } : {}) };
  }
  const flowName = name ?? (typeof json.name === 'string' ? json.name : '');
  if (!flowName) throw new UsageError(`${file} names no workflow: give --name`);
  return { flowName, desc: typeof json.desc === 'string' ? json.desc : '', dirId, flowJson: json };
}

export function registerFlowCommands(program: Command): void {
  const flows = program.command('flows').description('workflows: import, list, get, export');
  connectionOptions(flows.command('import <file>').description('import a workflow from a JSON file (an Import Flow body or an exported flow; - for stdin)'))
    .option('--dir <dirId>', 'directory to import into (default: the root Workflow directory)')
    .option('--name <name>', 'the workflow name (default: the file\'s)')
    .action(async (file: string, o: Connection & { dir?: string; name?: string }) => {
      const bf = clientOf(o);
      const body = importBody(file, o.dir ?? '', o.name);
      if (!body.dirId) body.dirId = ((await bf.call('listWorkFlowDirs')) as Array<{ key: string }>)[0]?.key;
      const data = await bf.call('importFlow', body as never);
      output(o, data, (d: { flowId: number }) => `imported workflow ${d.flowId}`);
    });
  connectionOptions(flows.command('list').description('the workflows of the organization'))
    .option('--search <text>', 'only names containing this text')
    .action(async (o: Connection & { search?: string }) => {
      const bf = clientOf(o);
      const rows = await bf.call('getMyFlow', o.search ? { expression: o.search } : {});
      output(o, rows, (d: Array<{ flowId: string; flowName: string; cycle: string; editable: boolean }>) =>
        d.length === 0 ? 'no workflows' : ['ID\tCYCLE\tOWNER\tNAME', ...d.map((f) => `${f.flowId}\t${f.cycle}\t${f.editable ? 'you' : '-'}\t${f.flowName}`)].join('\n'),
      );
    });
  connectionOptions(flows.command('get <flow>').description('one workflow: its settings, tasks and parameters')).action(async (flow: string, o: Connection) => {
    const data = await clientOf(o).call('getFlow', { flowId: flowIdOf(flow) });
    output(o, data, (f: Record<string, unknown>) => {
      const graph = JSON.parse(String(f.graph ?? '{}')) as { tasks?: Array<{ taskName: string; taskId: string }>; relations?: Array<{ source: string; target: string }> };
      const lines = [`workflow ${f.flowId} ${f.flowName}`, `  cycle ${f.cycle}  cron ${f.freq || '-'}  ${f.status === 1 ? 'enabled' : 'disabled'}  owners ${f.owners}`];
      lines.push(`  tasks: ${(graph.tasks ?? []).map((t) => t.taskName).join(', ') || '-'}`);
      const params = typeof f.parameters === 'string' ? (JSON.parse(f.parameters) as Array<{ key: string; value: string }>) : [];
      if (params.length > 0) lines.push(`  parameters: ${params.map((p) => `${p.key}=${p.value}`).join(' ')}`);
      return lines.join('\n');
    });
  });
  connectionOptions(flows.command('export <flow>').description('the workflow as JSON, ready for flows import')).action(async (flow: string, o: Connection) => {
    const data = await clientOf(o).call('exportFlow', { flowId: flowIdOf(flow) });
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  });
  for (const [verb, op] of [
    ['enable', 'enableFlow'],
    ['disable', 'disableFlow'],
  ] as const) {
    connectionOptions(program.command(`${verb} <flow>`).description(`${verb} a workflow's schedule`)).action(async (flow: string, o: Connection) => {
      const id = flowIdOf(flow);
      await clientOf(o).call(op, { flowId: id });
      output(o, { flowId: id, [verb === 'enable' ? 'enabled' : 'disabled']: true }, () => `workflow ${id} ${verb}d`);
    });
  }
}
