// A log viewer that follows a task live (the SSE stream) and stays fast on a 16 MiB log: lines are kept in
// an array appended in batches (one render per animation frame), and only the visible window is rendered.
import { useEffect, useRef, useState } from 'react';
import { useApi } from './main';

const LINE_H = 16;

export function LogViewer({ taskInstId }: { taskInstId: string }) {
  const api = useApi();
  const lines = useRef<string[]>(['']);
  const [count, setCount] = useState(0);
  const [status, setStatus] = useState('');
  const [follow, setFollow] = useState(true);
  const [scrollTop, setScrollTop] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    lines.current = [''];
    setCount(0);
    const ctl = new AbortController();
    let pending = '';
    let frame = 0;
    const flush = () => {
      frame = 0;
      const parts = pending.split('\n');
      pending = '';
      const l = lines.current;
      l[l.length - 1] += parts[0];
      for (let i = 1; i < parts.length; i++) l.push(parts[i]);
      setCount(l.length);
    };
    (async () => {
      try {
        for await (const e of api.streamLog(taskInstId, { tailChars: 16 * 1024 * 1024, signal: ctl.signal })) {
          if (e.event === 'log') { pending += e.data.text; if (!frame) frame = requestAnimationFrame(flush); }
          else if (e.event === 'status' || e.event === 'end') setStatus(e.data.status + (e.event === 'end' ? ' (ended)' : ''));
        }
      } catch (err) { if (!ctl.signal.aborted) setStatus(`error: ${String(err)}`); }
    })();
    return () => { ctl.abort(); if (frame) cancelAnimationFrame(frame); };
  }, [taskInstId]);
  useEffect(() => { if (follow && box.current) box.current.scrollTop = box.current.scrollHeight; }, [count, follow]);
  const height = box.current?.clientHeight ?? 420;
  const first = Math.max(0, Math.floor(scrollTop / LINE_H) - 20);
  const last = Math.min(count, first + Math.ceil(height / LINE_H) + 40);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(<div className="line" key={i} style={{ top: i * LINE_H }}>{lines.current[i]}</div>);
  return (
    <div className="panel" data-testid="log-viewer" data-lines={count}>
      <h3>Log of {taskInstId} <small data-testid="log-status">{status}</small>{' '}
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow</label></h3>
      <div className="log" ref={box} tabIndex={0} data-testid="log-box" onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <div style={{ height: count * LINE_H }} data-testid="log-text">{rows}</div>
      </div>
    </div>
  );
}
