// Runs (a grid of instances x tasks coloured by status, filters, "running now") and one run (its DAG
// coloured live, attempts with durations, the log viewer, cancel, rerun, its alerts).
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, navigate, useApi } from './main';
import { Dag } from './dag';
import { LogViewer } from './log';
import { colourOf, fmtMs, TERMINAL } from './status';
import { searchInstances } from './flows';
import type { DecodedTask } from './api';
import { RerunButtons } from './rerun';
import { AlertsPanel, hasOpenAlerts } from './alerts';

// Wire codes of flow-instance statuses (src/api/wire.ts FLOW_INSTANCE_WIRE).
const CODES: Record<string, string> = { '': 'any', '5': 'WAIT', '2': 'RUNNING', '1': 'SUCCESS', '-1': 'FAIL', '8': 'CANCEL', '4': 'INTERNAL_ERROR' };

/** The decoded tasks, or the graph's parsed as a fallback (older servers). */
export function tasksOf(inst: any): DecodedTask[] {
  if (Array.isArray(inst.tasks)) return inst.tasks;
  const g = JSON.parse(inst.graph);
  return g.tasks.map((t: any) => ({ ...t, taskId: Number(t.taskId), runNum: 0, attempts: [], durationMs: null,
    upstream: g.relations.filter((r: any) => r.target === t.nodeId).map((r: any) => r.source) }));
}

export function RunsPage() {
  const api = useApi();
  const initial = new URLSearchParams(location.search).get('flow') ?? '';
  const [expr, setExpr] = useState(initial);
  const [status, setStatus] = useState('');
  const [hours, setHours] = useState(24 * 7);
  const [runningNow, setRunningNow] = useState(false);
  const st = runningNow ? '2' : status;
  const q = useQuery({
    queryKey: ['runs', expr, st, hours],
    queryFn: () => searchInstances(api, expr, 30, { status: st, fromTriggerTime: Date.now() - hours * 3_600_000 }),
    refetchInterval: 3000,
  });
  const insts = q.data?.flowInsts ?? [];
  const names: string[] = [];
  const rows = insts.map((i) => { const ts = tasksOf(i); for (const t of ts) if (!names.includes(t.taskName)) names.push(t.taskName); return { i, byName: new Map(ts.map((t) => [t.taskName, t])) }; });
  return (
    <div data-testid="page-runs">
      <h2>Runs</h2>
      <div className="panel">
        <label>Flow/instance <input data-testid="runs-expr" value={expr} onChange={(e) => setExpr(e.target.value)} /></label>{' '}
        <label>Status <select data-testid="runs-status" value={status} onChange={(e) => setStatus(e.target.value)} disabled={runningNow}>
          {Object.entries(CODES).map(([c, n]) => <option key={c} value={c}>{n}</option>)}</select></label>{' '}
        <label>Triggered within <select value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          <option value={1}>1 h</option><option value={24}>24 h</option><option value={168}>7 d</option><option value={720}>30 d</option></select></label>{' '}
        <label><input data-testid="runs-running" type="checkbox" checked={runningNow} onChange={(e) => setRunningNow(e.target.checked)} /> running now</label>
        <span data-testid="runs-count"> · {q.data ? `${q.data.count} runs` : ''}</span>
      </div>
      <table className="grid panel" data-testid="runs-grid">
        <thead><tr><th>instance</th><th>status</th><th>trigger</th>{names.map((n) => <th key={n}>{n}</th>)}</tr></thead>
        <tbody>{rows.map(({ i, byName }) => (
          <tr key={i.instanceId} data-testid={`run-row-${i.instanceId}`}>
            <td><Link to={`/runs/${i.instanceId}`}>{i.instanceId}</Link> <small>{i.flowName}</small></td>
            <td><span className="sq" style={{ background: colourOf(i.statusDesc) }} />{i.statusDesc}</td>
            <td>{i.triggerTime}</td>
            {names.map((n) => { const t = byName.get(n); return <td className="cell" key={n}><span className="cellbox" title={`${n}: ${t?.status ?? '–'}`} style={{ background: t ? colourOf(t.status) : 'transparent' }} /></td>; })}
          </tr>))}</tbody>
      </table>
    </div>
  );
}

export function RunPage({ instId }: { instId: string }) {
  const api = useApi();
  const qc = useQueryClient();
  const [logOf, setLogOf] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ['inst', instId],
    queryFn: () => api.call<any>('getFlowInstance', { flowInstId: instId }),
    // Every second until it ends; then every 3 s while one of its alerts is still being sent.
    refetchInterval: (query) => {
      const d = query.state.data;
      if (!d || !TERMINAL.has(d.statusDesc)) return 1000;
      return hasOpenAlerts(d.alerts) ? 3000 : false;
    },
  });
  const cancel = useMutation({ mutationFn: () => api.call('cancelFlowInstance', { flowInstId: instId }), onSettled: () => qc.invalidateQueries({ queryKey: ['inst', instId] }) });
  if (q.error) return <p className="error">{String(q.error)}</p>;
  if (!q.data) return <p>Loading…</p>;
  const inst = q.data;
  const tasks = tasksOf(inst);
  // References (contract §10): the bound instance of the other workflow and whether this run still waits on it.
  const refs: any[] = JSON.parse(inst.graph).flows ?? [];
  const waits = new Map<string, any>((inst.references ?? []).map((r: any) => [r.nodeId, r]));
  const nodes = [
    ...tasks.map((t) => ({ id: t.nodeId, label: t.taskName, status: t.status, onClick: () => t.taskInstId && setLogOf(t.taskInstId) })),
    ...refs.map((f) => ({
      id: f.nodeId,
      label: `⇢ ${f.flowName}`,
      reference: true,
      status: waits.get(f.nodeId)?.status === 'WAITING' ? 'WAITING' : f.status,
      title: f.flowInstId ? `bound to ${f.flowInstId} (${f.status})` : 'no instance in its window yet',
      onClick: () => f.flowInstId && navigate(`/runs/${f.flowInstId}`),
    })),
  ];
  const edges = tasks.flatMap((t) => t.upstream.map((u) => ({ source: u, target: t.nodeId })));
  return (
    <div data-testid="page-run">
      <h2>Run {instId} <small>of <Link to={`/flows/${inst.flowId}`}>{inst.flowName}</Link></small>{' '}
        <span data-testid="run-status" data-status={inst.statusDesc} style={{ color: colourOf(inst.statusDesc) }}>{inst.statusDesc}</span>{' '}
        {!TERMINAL.has(inst.statusDesc) && <button data-testid="run-cancel" onClick={() => cancel.mutate()} disabled={cancel.isPending}>Cancel</button>}{' '}
        <RerunButtons instId={instId} status={inst.statusDesc} owner={inst.hasEditPri === true} /></h2>
      <p>trigger {inst.triggerTime} · start {inst.startTime ?? '–'} · end {inst.endTime ?? '–'} · parameters <code>{inst.parameters}</code></p>
      <Dag testId="run-dag" nodes={nodes} edges={edges} />
      <div className="panel"><h3>Tasks</h3>
        <table data-testid="run-tasks"><thead><tr><th>task</th><th>status</th><th>run</th><th>duration</th><th>attempts</th><th>keys</th><th>log</th></tr></thead>
          <tbody>{tasks.map((t) => (
            <tr key={t.nodeId} data-testid={`run-task-${t.taskName}`} data-status={t.status}>
              <td>{t.taskName}</td><td><span className="sq" style={{ background: colourOf(t.status) }} />{t.status}</td><td>{t.runNum}</td><td>{fmtMs(t.durationMs)}</td>
              <td>{t.attempts.map((a) => <span key={a.runNum}>#{a.runNum} {a.outcome} {fmtMs(a.durationMs)}{a.exitCode != null ? ` (exit ${a.exitCode})` : ''}; </span>)}</td>
              <td data-testid={`run-keys-${t.taskName}`}>{t.keys ? `${t.keys.byStatus.SUCCESS}/${t.keys.total} ok${Object.entries(t.keys.byStatus).filter(([k, n]) => k !== 'SUCCESS' && n > 0).map(([k, n]) => `, ${n} ${k}`).join('')}` : '–'}</td>
              <td>{t.taskInstId && <button data-testid={`open-log-${t.taskName}`} onClick={() => setLogOf(t.taskInstId)}>Log</button>}</td>
            </tr>))}</tbody></table>
      </div>
      {refs.length > 0 && <div className="panel"><h3>References</h3>
        <table data-testid="run-references"><thead><tr><th>reference</th><th>window</th><th>bound instance</th><th>status</th><th>wait</th></tr></thead>
          <tbody>{refs.map((f) => { const w = waits.get(f.nodeId); return (
            <tr key={f.nodeId} data-testid={`run-ref-${f.nodeId}`} data-status={w?.status ?? ''}>
              <td>{f.flowName}{f.isVirtual ? ' (task)' : ''}</td><td>{w ? `${w.cycleGap}: ${w.windowStart} – ${w.windowEnd}` : '–'}</td>
              <td>{f.flowInstId ? <Link to={`/runs/${f.flowInstId}`}>{f.flowInstId}</Link> : '–'}</td>
              <td><span className="sq" style={{ background: colourOf(f.status) }} />{f.status}</td>
              <td>{w?.status ?? '–'}{w?.status === 'WAITING' && w.deadline ? ` until ${w.deadline}` : ''}{w?.reason ? `: ${w.reason}` : ''}</td>
            </tr>); })}</tbody></table>
      </div>}
      <AlertsPanel alerts={inst.alerts} />
      {logOf && <LogViewer key={logOf} taskInstId={logOf} />}
    </div>
  );
}
