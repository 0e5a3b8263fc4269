// GET /metrics of a real server: counters move with the right labels when a flow runs, the store's gauges
// and size are there, the size is cached between scrapes, and two apps in one process do not share counters.
import { afterEach, expect, it } from 'vitest';
import { importFlow, startInProcess, waitFor, waitForInstanceEnd, type InProcess } from '../engine/harness.js';
import type { Store } from '../../src/store/store.js';

let servers: InProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const scrape = async (p: InProcess) => (await fetch(`${p.server.url}/metrics`)).text();
const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

it('a flow with a failing task moves the instance, attempt and HTTP counters with their labels', async () => {
  const p = await startInProcess();
  servers.push(p);
  const id = await p.client.trigger(await importFlow(p.client, 'm', [{ name: 'a', cmd: 'exit 0' }, { name: 'b', cmd: 'exit 1' }], [['a', 'b']]));
  expect((await waitForInstanceEnd(p.client, id)).statusDesc).toBe('FAIL');
  const text = await waitFor(async () => {
    const t = await scrape(p);
    return value(t, 'batchflow_instances_ended_total{status="FAIL"}') === 1 ? t : null;
  }, 20_000, 'the instance end in the metrics');
  expect(value(text, 'batchflow_instances_started_total')).toBe(1);
  expect(value(text, 'batchflow_task_attempts_started_total')).toBe(2);
  expect(value(text, 'batchflow_task_attempts_ended_total{status="SUCCESS"}')).toBe(1);
  expect(value(text, 'batchflow_task_attempts_ended_total{status="FAIL"}')).toBe(1);
  expect(value(text, 'batchflow_instance_duration_seconds_count{status="FAIL"}')).toBe(1);
  expect(value(text, 'batchflow_task_attempt_duration_seconds_count{status="FAIL"}')).toBe(1);
  expect(value(text, 'batchflow_store_commit_duration_seconds_count{outcome="ok"}')).toBeGreaterThan(0);
  expect(text).toMatch(/^batchflow_engine_step_duration_seconds_count\{step="ends",outcome="ok"\} \d+/m);
  expect(value(text, 'batchflow_http_requests_total{operation="triggerFlow",code="0"}')).toBe(1);
  expect(value(text, 'batchflow_http_request_duration_seconds_count{operation="triggerFlow"}')).toBe(1);
  expect(value(text, 'batchflow_store_up')).toBe(1);
  expect(value(text, 'batchflow_instances_running')).toBe(0);
  expect(value(text, 'batchflow_store_rows{table="flow_instances"}')).toBe(1);
  expect(value(text, 'batchflow_store_size_bytes')).toBeGreaterThan(0);
  expect(value(text, 'batchflow_engine_running')).toBe(1);
  expect(text).toMatch(/^process_cpu_user_seconds_total /m);
}, 60_000);

it('unknown paths share one operation label, and a second app counts on its own', async () => {
  const a = await startInProcess();
  const b = await startInProcess();
  servers.push(a, b);
  for (const path of ['/nope-1', '/nope-2', '/nope-3']) await fetch(a.server.url + path);
  const lines = (await scrape(a)).split('\n').filter((l) => l.startsWith('batchflow_http_requests_total{operation="unmatched"'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/ 3$/);
  expect(await scrape(b)).not.toMatch(/operation="unmatched"/);
}, 30_000);

it('the store size and row counts are read once per cache period, however many scrapes', async () => {
  let reads = 0;
  const counting = (s: Store): Store => new Proxy(s, { get: (t, k, r) => (k === 'storeSize' ? () => (reads++, t.storeSize()) : Reflect.get(t, k, r)) });
  const p = await startInProcess({}, undefined, { wrapStore: counting });
  servers.push(p);
  for (let i = 0; i < 5; i++) await scrape(p);
  expect(reads).toBe(1);
}, 30_000);
