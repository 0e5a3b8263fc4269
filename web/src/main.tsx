// The console's shell: login (credentials in sessionStorage only), a tiny client-side router under
// /console/, the navigation, the status legend, and the pages.
import { StrictMode, createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import '@xyflow/react/dist/style.css';
import './style.css';
import { clearSession, loadSession, makeApi, saveSession, type Api, type Session } from './api';
import { STATUS_COLOURS } from './status';
import { WorkflowsPage, WorkflowPage } from './flows';
import { RunsPage, RunPage } from './runs';

const BASE = '/console';
const ApiContext = createContext<Api | null>(null);
export const useApi = (): Api => useContext(ApiContext)!;

export function navigate(to: string): void {
  history.pushState(null, '', BASE + to);
  dispatchEvent(new PopStateEvent('popstate'));
}
export function Link({ to, children, ...rest }: { to: string; children: ReactNode; [k: string]: unknown }) {
  return (
    <a href={BASE + to} onClick={(e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); navigate(to); } }} {...rest}>
      {children}
    </a>
  );
}
function usePath(): string {
  const [p, setP] = useState(location.pathname);
  useEffect(() => {
    const on = () => setP(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return p.startsWith(BASE) ? p.slice(BASE.length) || '/' : '/';
}

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [s, setS] = useState<Session>({ accessKey: '', secretKey: '', userId: 'u-admin', orgId: 'o-default' });
  const field = (k: keyof Session, label: string, type = 'text') => (
    <label>{label}<input data-testid={`login-${k}`} type={type} value={s[k]} onChange={(e) => setS({ ...s, [k]: e.target.value })} autoComplete="off" /></label>
  );
  return (
    <form className="login" onSubmit={(e) => { e.preventDefault(); saveSession(s); onLogin(s); }}>
      <h1>batchflow console</h1>
      {field('accessKey', 'Access key')}
      {field('secretKey', 'Secret key', 'password')}
      {field('userId', 'User id')}
      {field('orgId', 'Org id')}
      <p className="hint">Kept for this browser tab's session only. Empty keys work with a server started with --no-auth.</p>
      <button data-testid="login-submit" type="submit">Sign in</button>
    </form>
  );
}

export function Legend() {
  return (
    <div className="legend" data-testid="legend">
      {Object.entries(STATUS_COLOURS).map(([k, c]) => <span key={k}><i style={{ background: c }} />{k}</span>)}
    </div>
  );
}

function Routes({ path }: { path: string }) {
  let m: RegExpExecArray | null;
  if ((m = /^\/flows\/(\d+)\/?$/.exec(path))) return <WorkflowPage flowId={Number(m[1])} />;
  if ((m = /^\/runs\/([^/]+)\/?$/.exec(path))) return <RunPage instId={decodeURIComponent(m[1])} />;
  if (/^\/runs\/?$/.test(path)) return <RunsPage />;
  return <WorkflowsPage />;
}

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 2000 } } });

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const path = usePath();
  if (!session) return <Login onLogin={setSession} />;
  return (
    <ApiContext.Provider value={makeApi(session)}>
      <header>
        <strong>batchflow</strong>
        <nav><Link to="/" data-testid="nav-workflows">Workflows</Link><Link to="/runs" data-testid="nav-runs">Runs</Link></nav>
        <span className="who">{session.userId} @ {session.orgId}</span>
        <button data-testid="sign-out" onClick={() => { clearSession(); queryClient.clear(); setSession(null); }}>Sign out</button>
      </header>
      <Legend />
      <main><Routes path={path} /></main>
    </ApiContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode><QueryClientProvider client={queryClient}><App /></QueryClientProvider></StrictMode>,
);
