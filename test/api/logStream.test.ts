// The live log stream (server-sent events, extension) and Get Flow Instance's decoded `tasks`: a running
// task's log arrives chunk by chunk in order and ends with `end`; a cursor continues without repeats; a
// tail is cut to its size; bad input is an envelope before any event; the decoded tasks carry status,
// attempts and upstream ids; a closing server ends open streams.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, waitFor, type InProcess } from '../engine/harness.js';

let h: InProcess;
let dirId: string;
beforeAll(async () => {
  h = await startInProcess({ workerConcurrency: 4 });
  dirId = (await h.client.ok('GET', 'directories', 'listWorkFlowDirs'))[0].key;
});
afterAll(() => h.close());

const ID = 'userId=u-admin&orgId=o-default';

interface Sse {
  event: string;
  id?: string;
  data: any;
}

/** Reads an event stream as it comes; `until` stops reading (and aborts) once it returns true. */
async function readStream(query: string, until: (events: Sse[]) => boolean = () => false, signal?: AbortSignal): Promise<{ events: Sse[]; status: number; type: string | null }> {
  const ac = new AbortController();
  signal?.addEventListener('abort', () => ac.abort());
  const res = await fetch(`${h.server.url}/batch-processing-service/v2.1/taskInstances?action=streamLog&${ID}&${query}`, { signal: ac.signal });
  const events: Sse[] = [];
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { events, status: res.status, type: res.headers.get('content-type') };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const e: Partial<Sse> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
        }
        if (e.event) events.push(e as Sse);
      }
      if (until(events)) {
        ac.abort();
        break;
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
  return { events, status: res.status, type: res.headers.get('content-type') };
}

async function importFlow(name: string, tasks: Array<{ name: string; cmd: string }>, relations: Array<[string, string]> = []): Promise<number> {
  const flowJson = {
    name,
    type: 0,
    cycle: 'D',
    tasks: tasks.map((t) => ({ name: t.name, type: 'SHELL', cmd: t.cmd })),
    relations: relations.map(([s, t]) => ({ sourceTaskName: s, targetTaskName: t, rerun: true })),
  };
  return (await h.client.ok('POST', 'flows', 'import', { flowName: name, desc: '', dirId, flowJson })).flowId;
}

const taskInstOf = async (inst: string, name: string): Promise<string> =>
  waitFor(async () => (await h.client.instance(inst)).tasks.find((t: any) => t.taskName === name)?.taskInstId || null, 20_000, `task ${name}`);

describe('streamLog', () => {
  it('follows a running task chunk by chunk and ends with its final status', async () => {
    const flowId = await importFlow('stream-live', [{ name: 'ticker', cmd: 'for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.3; done' }]);
    const inst = await h.client.trigger(flowId);
    const taskInstId = await taskInstOf(inst, 'ticker');
    const { events, type } = await readStream(`taskInstId=${taskInstId}`, (ev) => ev.some((e) => e.event === 'end'));
    expect(type).toMatch(/^text\/event-stream/);
    expect(events[0].event).toBe('status');
    const text = events.filter((e) => e.event === 'log').map((e) => e.data.text).join('');
    expect(text.match(/tick \d/g)).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
    // Followed live: the ticks came in more than one event (the task ran for about 1.5 s).
    expect(events.filter((e) => e.event === 'log' && /tick/.test(e.data.text)).length).toBeGreaterThan(1);
    expect(events.filter((e) => e.event === 'status').map((e) => e.data.status)).toContain('SUCCESS');
    expect(events[events.length - 1]).toMatchObject({ event: 'end', data: { status: 'SUCCESS', terminal: true } });
    // Event ids are increasing runNum.seq cursors.
    const ids = events.filter((e) => e.event === 'log').map((e) => e.id!.split('.').map(Number));
    for (let i = 1; i < ids.length; i++) expect(ids[i][0] * 1e6 + ids[i][1]).toBeGreaterThan(ids[i - 1][0] * 1e6 + ids[i - 1][1]);

    // A cursor continues after what was had: no chunk twice, nothing lost.
    const logs = events.filter((e) => e.event === 'log');
    const cut = logs[0].id!;
    const rest = await readStream(`taskInstId=${taskInstId}&after=${cut}`);
    expect(logs[0].data.text + rest.events.filter((e) => e.event === 'log').map((e) => e.data.text).join('')).toBe(text);
    expect(rest.events[rest.events.length - 1]).toMatchObject({ event: "end", data: { terminal: true } });

    // A tail: at most tailChars of the newest text, marked truncated.
    const tail = await readStream(`taskInstId=${taskInstId}&tailChars=10`);
    const first = tail.events.find((e) => e.event === 'log')!;
    expect(first.data.text.length).toBeLessThanOrEqual(10);
    expect(first.data.truncated).toBe(true);
    expect(text.endsWith(first.data.text)).toBe(true);

    // follow=false: the log there is now, then `end` (terminal here: the task ended).
    const snap = await readStream(`taskInstId=${taskInstId}&follow=false`);
    expect(snap.events[snap.events.length - 1]).toMatchObject({ event: 'end', data: { status: 'SUCCESS', terminal: true } });

    // The decoded tasks of Get Flow Instance.
    const got = await h.client.instance(inst);
    expect(got.tasks).toEqual([
      expect.objectContaining({ taskInstId, taskName: 'ticker', status: 'SUCCESS', runNum: 1, exitCode: 0, upstream: [], attempts: [expect.objectContaining({ runNum: 1, outcome: 'SUCCESS', exitCode: 0 })] }),
    ]);
    expect(got.tasks[0].durationMs).toBeGreaterThanOrEqual(1000);
    expect(got.tasks[0].attempts[0].durationMs).toBeGreaterThanOrEqual(1000);
  }, 60_000);

  it('decodes a diamond: upstream node ids, statuses, attempts of a retried task', async () => {
    const flowId = await importFlow(
      'stream-diamond',
      [
        { name: 'a', cmd: 'echo a' },
        { name: 'b', cmd: 'echo b' },
        { name: 'c', cmd: 'exit 3' },
        { name: 'd', cmd: 'echo d' },
      ],
      [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']],
    );
    const inst = await h.client.trigger(flowId);
    const ended = await waitFor(async () => {
      const i = await h.client.instance(inst);
      return ['SUCCESS', 'FAIL', 'CANCEL', 'INTERNAL_ERROR'].includes(i.statusDesc) ? i : null;
    }, 30_000, 'the diamond to end');
    expect(ended.statusDesc).toBe('FAIL');
    const byName = Object.fromEntries(ended.tasks.map((t: any) => [t.taskName, t]));
    const node = (n: string) => byName[n].nodeId;
    expect(byName.d.upstream.sort()).toEqual([node('b'), node('c')].sort());
    expect(byName.b.upstream).toEqual([node('a')]);
    expect(byName.c).toMatchObject({ status: 'FAIL', exitCode: 3, attempts: [expect.objectContaining({ outcome: 'FAIL', exitCode: 3 })] });
    expect(byName.d.attempts).toEqual([]);
    // The graph string says the same statuses.
    expect(Object.fromEntries(JSON.parse(ended.graph).tasks.map((t: any) => [t.taskName, t.status]))).toEqual(Object.fromEntries(ended.tasks.map((t: any) => [t.taskName, t.status])));
  }, 60_000);

  it('answers bad input with an envelope before any event', async () => {
    const unknown = await fetch(`${h.server.url}/batch-processing-service/v2.1/taskInstances?action=streamLog&${ID}&taskInstId=9-20240101000000`);
    expect(unknown.headers.get('content-type')).toMatch(/json/);
    expect(((await unknown.json()) as any).code).not.toBe(0);
    const flowId = await importFlow('stream-bad', [{ name: 'one', cmd: 'echo one' }]);
    const taskInstId = await taskInstOf(await h.client.trigger(flowId), 'one');
    for (const [q, field] of [
      ['after=x', 'after'],
      ['tailChars=-1', 'tailChars'],
      ['tailChars=999999999999', 'tailChars'],
      ['follow=maybe', 'follow'],
    ]) {
      const res = await fetch(`${h.server.url}/batch-processing-service/v2.1/taskInstances?action=streamLog&${ID}&taskInstId=${taskInstId}&${q}`);
      const env = (await res.json()) as any;
      expect(env.code, q).toBe(62102);
      expect(env.msg, q).toContain(field);
    }
  });

  it('a closing server ends an open stream instead of waiting for it', async () => {
    const other = await startInProcess({ workerConcurrency: 1, shutdownGraceMs: 500 });
    try {
      const root = (await other.client.ok('GET', 'directories', 'listWorkFlowDirs'))[0].key;
      const flowJson = { name: 'slow', type: 0, cycle: 'D', tasks: [{ name: 'sleepy', type: 'SHELL', cmd: 'sleep 30' }], relations: [] };
      const { flowId } = await other.client.ok('POST', 'flows', 'import', { flowName: 'slow', desc: '', dirId: root, flowJson });
      const inst = await other.client.trigger(flowId);
      const t = await waitFor(async () => (await other.client.instance(inst)).tasks[0]?.status === 'RUNNING' && (await other.client.instance(inst)).tasks[0].taskInstId, 20_000, 'sleepy to run');
      const res = await fetch(`${other.server.url}/batch-processing-service/v2.1/taskInstances?action=streamLog&${ID}&taskInstId=${t}`);
      const body = res.text();
      const snap = await (await fetch(`${other.server.url}/batch-processing-service/v2.1/taskInstances?action=streamLog&${ID}&taskInstId=${t}&follow=false`)).text();
      expect(snap).toMatch(/event: end\ndata: \{"status":"RUNNING","terminal":false\}/);
      // The server closes while the stream is open: the stream ends instead of holding the close.
      await other.close();
      const text = await body;
      expect(text).toMatch(/event: status\ndata: \{"status":"RUNNING","runNum":1\}/);
    } finally {
      await other.close().catch(() => {});
    }
  }, 60_000);
});
