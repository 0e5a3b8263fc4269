// Backfill of a workflow (Backfill Flow, extension): one instance per fire of a cron in [From, To]
// (datetime-local, the browser's local time, sent as epoch ms). The workflow's own cron for a periodic
// workflow unless another is given; required for a manual one. Owners only.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useApi } from './main';
import { errorText } from './api';

interface Answer { flowInstanceIds: string[]; skipped: string[] }

export function BackfillForm({ flowId, flow }: { flowId: number; flow: { type: number; freq: string; hasEditPri: boolean } }) {
  const api = useApi();
  const qc = useQueryClient();
  const periodic = flow.type === 1 && !!flow.freq;
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [cron, setCron] = useState('');
  const go = useMutation({
    mutationFn: () => api.call<Answer>('backfillFlow', {
      flowId, fromTime: new Date(from).getTime(), toTime: new Date(to).getTime(), ...(cron.trim() ? { cron: cron.trim() } : {}),
    }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['lastRuns', flowId] }),
  });
  const r = go.data;
  return (
    <form className="panel" data-testid="backfill-panel" onSubmit={(e) => { e.preventDefault(); go.mutate(); }}>
      <h3>Backfill</h3>
      <fieldset disabled={!flow.hasEditPri || go.isPending} style={{ border: 0, padding: 0, margin: 0 }}>
        <label>From<br /><input data-testid="backfill-from" type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} /></label><br />
        <label>To<br /><input data-testid="backfill-to" type="datetime-local" required value={to} onChange={(e) => setTo(e.target.value)} /></label><br />
        <label>Cron{periodic ? ' (empty: the workflow\'s)' : ''}<br />
          <input data-testid="backfill-cron" value={cron} onChange={(e) => setCron(e.target.value)} required={!periodic} style={{ width: '100%' }}
            placeholder={periodic ? flow.freq : 'required, e.g. 0 0 12 * * ? *'} /></label>
        <p><button data-testid="backfill-submit" type="submit">Backfill</button></p>
      </fieldset>
      {!flow.hasEditPri && <p className="hint">Only the workflow's owners may backfill it.</p>}
      <p className="hint">Times are this browser's local time; one run per fire, at most 1000.</p>
      {go.error && <p className="error" data-testid="backfill-error">{errorText(go.error)}</p>}
      {r && (
        <div data-testid="backfill-result">
          <p>{r.flowInstanceIds.length} run{r.flowInstanceIds.length === 1 ? '' : 's'} created, {r.skipped.length} skipped</p>
          <ul>{r.flowInstanceIds.map((id) => <li key={id}><Link to={`/runs/${id}`} data-testid={`backfill-run-${id}`}>{id}</Link></li>)}</ul>
          {r.skipped.length > 0 && <p className="hint">skipped (a run exists at that minute): {r.skipped.map((id, i) => <span key={id}>{i ? ', ' : ''}<Link to={`/runs/${id}`}>{id}</Link></span>)}</p>}
        </div>
      )}
    </form>
  );
}
