// A run's alerts (Get Flow Instance's `alerts`, extension; alertMode 1-3): each alert's event and status,
// and one row per channel with its recipients, status, tries and last error. Nothing without alerts.
import type { DecodedAlert } from './api';

const ALERT_COLOURS: Record<string, string> = { PENDING: '#e08a1e', RETRYING: '#e08a1e', SENT: '#2e9e44', FAILED: '#d62d2d', SKIPPED: '#a0a6b5' };
const Badge = ({ s }: { s: string }) => <><span className="sq" style={{ background: ALERT_COLOURS[s] ?? '#999' }} />{s}</>;

export const hasOpenAlerts = (alerts: DecodedAlert[] | undefined): boolean => (alerts ?? []).some((a) => a.status === 'PENDING');

export function AlertsPanel({ alerts }: { alerts: DecodedAlert[] | undefined }) {
  if (!alerts?.length) return null;
  return (
    <div className="panel" data-testid="run-alerts"><h3>Alerts</h3>
      {alerts.map((a) => (
        <div key={a.alertId} className="alert" data-testid={`alert-${a.alertId}`} data-event={a.event} data-status={a.status}>
          <p><strong>{a.event}</strong>{a.taskInstId ? ` of ${a.taskInstId}${a.runNum != null ? ` (attempt ${a.runNum})` : ''}` : ''} · <Badge s={a.status} />
            {' '}· {a.tries} {a.tries === 1 ? 'try' : 'tries'} · {a.createdAt}{a.nextTryAt ? ` · next try ${a.nextTryAt}` : ''}
            {a.reason ? <> · <span className="hint">{a.reason}</span></> : null}</p>
          {a.deliveries.length === 0 ? <p className="hint">not tried yet</p> : (
            <table><thead><tr><th>channel</th><th>to</th><th>status</th><th>tries</th><th>sent</th><th>last error</th></tr></thead>
              <tbody>{a.deliveries.map((d) => (
                <tr key={d.channel} data-testid={`alert-delivery-${d.channel}`} data-status={d.status}>
                  <td>{d.channel}</td><td>{d.to.length ? d.to.join(', ') : '–'}</td><td><Badge s={d.status} /></td><td>{d.tries}</td>
                  <td>{d.sentAt ?? '–'}</td><td className={d.status === 'SKIPPED' ? 'hint' : d.error ? 'error' : ''}>{d.error ?? '–'}</td>
                </tr>))}</tbody></table>
          )}
        </div>
      ))}
    </div>
  );
}
