// Rerun of an ended run (Rerun Flow Instance, extension): "Rerun failed" for FAIL, CANCEL and
// INTERNAL_ERROR, "Rerun all" for any end; owners only, with an inline confirmation. The run page's query
// is invalidated afterwards, so it is seen going WAIT -> RUNNING -> ... again.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useApi } from './main';
import { errorText } from './api';
import { TERMINAL } from './status';

type Mode = 'failed' | 'all';
const FAILED_ENDS = new Set(['FAIL', 'CANCEL', 'INTERNAL_ERROR']);
const ASK: Record<Mode, string> = {
  failed: 'Rerun the tasks of this run that did not succeed? It goes back to WAIT and resumes at the failure.',
  all: 'Rerun every task of this run? It goes back to WAIT and runs again from the start.',
};

export function RerunButtons({ instId, status, owner }: { instId: string; status: string; owner: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const [asking, setAsking] = useState<Mode | null>(null);
  const [err, setErr] = useState('');
  const rerun = useMutation({
    mutationFn: (mode: Mode) => api.call<{ flowInstanceId: string; mode: Mode; resetTaskInstIds: string[] }>('rerunFlowInstance', { flowInstId: instId, mode }),
    onSuccess: () => setAsking(null),
    onError: (e) => setErr(errorText(e)),
    onSettled: () => qc.invalidateQueries({ queryKey: ['inst', instId] }),
  });
  if (!owner || !TERMINAL.has(status)) return null;
  const ask = (mode: Mode) => { setErr(''); setAsking(mode); };
  return (
    <span data-testid="rerun">
      {FAILED_ENDS.has(status) && <button data-testid="rerun-failed" onClick={() => ask('failed')} disabled={rerun.isPending}>Rerun failed</button>}{' '}
      <button data-testid="rerun-all" onClick={() => ask('all')} disabled={rerun.isPending}>Rerun all</button>
      {asking && (
        <span className="confirm" data-testid="rerun-ask" data-mode={asking}>
          {' '}{ASK[asking]}{' '}
          <button data-testid="rerun-confirm" onClick={() => rerun.mutate(asking)} disabled={rerun.isPending}>Yes, rerun</button>{' '}
          <button data-testid="rerun-dismiss" onClick={() => setAsking(null)} disabled={rerun.isPending}>No</button>
        </span>
      )}
      {err && <span className="error" data-testid="rerun-error"> {err}</span>}
    </span>
  );
}
