// Workflows (directory tree, search, last runs as squares) and one workflow (DAG, tasks, parameters,
// trigger panel, backfill, enable/disable).
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, navigate, useApi } from './main';
import { Dag } from './dag';
import { colourOf } from './status';
import { BackfillForm } from './backfill';

interface DirNode { title: string; key: string | number; isDirectory: boolean; children?: DirNode[] }

const DAY = 86_400_000;
export const searchInstances = (api: ReturnType<typeof useApi>, expression: string, pageSize: number, extra: Record<string, unknown> = {}) =>
  api.call<{ flowInsts: any[]; count: number }>('searchFlowInstances', {
    type: 0, owner: '', status: '', expression, fromTriggerTime: Date.now() - 30 * DAY, toTriggerTime: Date.now() + 30 * DAY,
    pagination: { pageNo: 1, pageSize, sorters: [{ field: 'triggerTime', order: 'DESC' }] }, ...extra,
  });

function LastRuns({ flowId, name }: { flowId: number; name: string }) {
  const api = useApi();
  // The expression matches names by "contains": the flow's own instances are kept by flowId.
  const q = useQuery({ queryKey: ['lastRuns', flowId], queryFn: () => searchInstances(api, name, 20), refetchInterval: 5000 });
  const runs = (q.data?.flowInsts ?? []).filter((i) => i.flowId === flowId).slice(0, 10).reverse();
  return (
    <span data-testid={`last-runs-${name}`}>
      {runs.map((r) => <Link key={r.instanceId} to={`/runs/${r.instanceId}`} title={`${r.instanceId} ${r.statusDesc}`} aria-label={`run ${r.instanceId} ${r.statusDesc}`}><span className="sq" style={{ background: colourOf(r.statusDesc) }} /></Link>)}
    </span>
  );
}

function Tree({ node }: { node: DirNode }) {
  if (!node.isDirectory) return <li><Link to={`/flows/${node.key}`} data-testid={`flow-link-${node.title}`}>{node.title}</Link> <LastRuns flowId={Number(node.key)} name={node.title} /></li>;
  return <li><strong>{node.title}/</strong><ul>{(node.children ?? []).map((c) => <Tree key={`${c.isDirectory}-${c.key}`} node={c} />)}</ul></li>;
}

export function WorkflowsPage() {
  const api = useApi();
  const [expr, setExpr] = useState('');
  const dirs = useQuery({ queryKey: ['dirs'], queryFn: () => api.call<DirNode[]>('listWorkFlowDirs') });
  const found = useQuery({ queryKey: ['myFlows', expr], queryFn: () => api.call<any[]>('getMyFlow', expr ? { expression: expr } : {}), enabled: expr !== '' });
  return (
    <div data-testid="page-workflows">
      <h2>Workflows</h2>
      <div className="panel">
        <label>Search <input data-testid="flow-search" value={expr} onChange={(e) => setExpr(e.target.value)} placeholder="name contains…" /></label>
        {expr && <ul>{(found.data ?? []).map((f) => <li key={f.flowId}><Link to={`/flows/${f.flowId}`}>{f.flowName}</Link> <LastRuns flowId={Number(f.flowId)} name={f.flowName} /></li>)}</ul>}
      </div>
      <div className="panel" data-testid="dir-tree">
        {dirs.error && <p className="error">{String(dirs.error)}</p>}
        <ul>{(dirs.data ?? []).map((d) => <Tree key={d.key} node={d} />)}</ul>
      </div>
    </div>
  );
}

export function WorkflowPage({ flowId }: { flowId: number }) {
  const api = useApi();
  const qc = useQueryClient();
  const flow = useQuery({ queryKey: ['flow', flowId], queryFn: () => api.call<any>('getFlow', { flowId }) });
  const exp = useQuery({ queryKey: ['export', flowId], queryFn: () => api.call<any>('exportFlow', { flowId }) });
  const [at, setAt] = useState('');
  const [params, setParams] = useState('');
  const [fromTask, setFromTask] = useState('');
  const [err, setErr] = useState('');
  const graph = flow.data ? JSON.parse(flow.data.graph) : null;
  const def = exp.data ? (typeof exp.data.flowJson === 'string' ? JSON.parse(exp.data.flowJson) : exp.data.flowJson ?? exp.data) : null;
  const parameters: Array<{ key: string; value: string }> = flow.data ? JSON.parse(flow.data.parameters || '[]') : [];
  const trigger = useMutation({
    mutationFn: async () => {
      const triggerTime = at ? new Date(at).getTime() : Date.now();
      const overrides = params.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => ({ key: l.slice(0, l.indexOf('=')), value: l.slice(l.indexOf('=') + 1) }));
      if (fromTask) return api.call<any>('triggerFlowFromTask', { flowId, taskId: Number(fromTask), triggerTime });
      if (overrides.length) return api.call<any>('updateAndTriggerFlow', { flowId, triggerTime, parameters: overrides });
      return api.call<any>('triggerFlow', { flowId, triggerTime });
    },
    onSuccess: (d) => navigate(`/runs/${d.flowInstanceId}`),
    onError: (e) => setErr(String(e)),
  });
  const toggle = useMutation({
    mutationFn: () => api.call(flow.data.active ? 'disableFlow' : 'enableFlow', { flowId }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['flow', flowId] }),
  });
  if (flow.error) return <p className="error">{String(flow.error)}</p>;
  if (!graph) return <p>Loading…</p>;
  const byName = new Map<string, any>((def?.tasks ?? []).map((t: any) => [t.name, t]));
  return (
    <div data-testid="page-workflow">
      <h2>{flow.data.flowName} <small>#{flowId} · {flow.data.active ? 'enabled' : 'disabled'}</small>
        {' '}<button data-testid="toggle-active" onClick={() => toggle.mutate()}>{flow.data.active ? 'Disable' : 'Enable'}</button>
        {' '}<Link to={`/runs?flow=${encodeURIComponent(flow.data.flowName)}`}>Runs</Link></h2>
      <Dag testId="flow-dag" edges={graph.relations}
        nodes={[...graph.tasks.map((t: any) => ({ id: t.nodeId, label: t.taskName })), ...(graph.flows ?? []).map((f: any) => ({ id: f.nodeId, label: `⇢ ${f.flowName}`, reference: true, title: f.isVirtual ? `task ${f.flowName} of workflow ${f.flowId}` : `workflow ${f.flowId}` }))]} />
      <div className="cols" style={{ marginTop: 12 }}>
        <div>
        <form className="panel" data-testid="trigger-panel" onSubmit={(e) => { e.preventDefault(); setErr(''); trigger.mutate(); }}>
          <h3>Trigger</h3>
          <label>At (empty: now)<br /><input data-testid="trigger-at" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} /></label>
          <label>Parameter overrides (key=value per line)<br /><textarea data-testid="trigger-params" rows={3} value={params} onChange={(e) => setParams(e.target.value)} /></label>
          <label>From task<br /><select data-testid="trigger-from" value={fromTask} onChange={(e) => setFromTask(e.target.value)}>
            <option value="">(all tasks)</option>
            {graph.tasks.map((t: any) => <option key={t.taskId} value={t.taskId}>{t.taskName}</option>)}
          </select></label>
          <p><button data-testid="trigger-submit" type="submit" disabled={trigger.isPending}>Trigger</button></p>
          {err && <p className="error" data-testid="trigger-error">{err}</p>}
        </form>
        <BackfillForm flowId={flowId} flow={flow.data} />
        </div>
        <div>
          <div className="panel"><h3>Tasks</h3>
            <table data-testid="task-defs"><thead><tr><th>name</th><th>type</th><th>cmd</th><th>retries</th><th>timeout</th></tr></thead>
              <tbody>{graph.tasks.map((t: any) => { const d = byName.get(t.taskName) ?? {}; return (
                <tr key={t.nodeId}><td>{t.taskName}</td><td>{d.type}</td><td><code>{d.cmd}</code></td><td>{d.retryLimit ?? ''}{d.retryInterval ? ` / ${d.retryInterval}s` : ''}</td><td>{d.timeout ? `${d.timeout}s` : ''}</td></tr>); })}</tbody></table>
          </div>
          <div className="panel"><h3>Parameters</h3>
            <table><tbody>{parameters.map((p) => <tr key={p.key}><td><code>{p.key}</code></td><td><code>{p.value}</code></td></tr>)}</tbody></table>
          </div>
        </div>
      </div>
    </div>
  );
}
