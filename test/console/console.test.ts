// The web console in a real browser (Debian's /usr/bin/chromium through playwright-core): log in, see the
// diamond's DAG, trigger it with a parameter override, watch it succeed, read a log, cancel a queued run;
// rerun a failed run and see its alerts, backfill a workflow;
// a screenshot of each page under test-output/console/. Skips loudly without chromium (fails under CI).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startInProcess, type InProcess } from '../engine/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output/console');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: the console test cannot run (install chromium)`);
  console.warn(`\n*** SKIPPING the console test: ${CHROMIUM} is missing (apt-get install chromium) ***\n`);
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let h: InProcess;
let browser: Browser;
let page: Page;
let creds: { accessKey: string; secretKey: string };
// Alerts are also POSTed to this receiver (alertWebhookUrl), so a failed run has a real alert to show.
let hook: Server;
const hooked: unknown[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  const built = path.join(ROOT, 'dist/web/index.html');
  if (!existsSync(built) || statSync(built).mtimeMs < newest(path.join(ROOT, 'web'))) {
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  }
  mkdirSync(SHOTS, { recursive: true });
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => { hooked.push(JSON.parse(body || 'null')); res.end('ok'); });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  h = await startInProcess({ auth: true, alertWebhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts` });
  creds = JSON.parse(readFileSync(path.join(h.dataDir, 'bootstrap-credentials.json'), 'utf8'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await new Promise((resolve) => (hook ? hook.close(resolve) : resolve(undefined)));
});

async function importFlow(json: string): Promise<number> {
  const dirs = (await h.client.ok('GET', 'directories', 'listWorkFlowDirs')) as Array<{ key: string }>;
  const body = JSON.parse(json.replace('ROOT_DIR_ID', String(dirs[0].key)));
  const r = (await h.client.ok('POST', 'flows', 'import', body)) as { flowId: number };
  return Number(r.flowId);
}

const DEADLINE = 60_000;

async function signIn(): Promise<void> {
  await page.getByTestId('login-accessKey').fill(creds.accessKey);
  await page.getByTestId('login-secretKey').fill(creds.secretKey);
  await page.getByTestId('login-submit').click();
}

it.skipIf(!hasChromium)('logs in, triggers the diamond with an override, watches it succeed, reads a log and cancels a queued run', async () => {
  const diamond = await importFlow(readFileSync(path.join(ROOT, 'examples/diamond.json'), 'utf8'));
  await page.goto(`${h.server.url}/`);
  await signIn();
  await page.getByTestId('flow-link-diamond_demo').waitFor({ timeout: DEADLINE });
  await page.screenshot({ path: path.join(SHOTS, 'workflows.png'), fullPage: true });

  await page.getByTestId('flow-link-diamond_demo').click();
  await page.getByTestId('dag-node-clean_b').waitFor({ timeout: DEADLINE });
  await page.getByTestId('trigger-params').fill('region=console-test');
  await page.screenshot({ path: path.join(SHOTS, 'workflow.png'), fullPage: true });
  await page.getByTestId('trigger-submit').click();

  await page.getByTestId('page-run').waitFor({ timeout: DEADLINE });
  await page.locator('[data-testid="run-status"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
  await page.locator('[data-testid="dag-node-load"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
  await page.screenshot({ path: path.join(SHOTS, 'run.png'), fullPage: true });

  await page.getByTestId('open-log-clean_a').click();
  await page.getByTestId('log-text').getByText('region=console-test').first().waitFor({ timeout: DEADLINE });
  await page.screenshot({ path: path.join(SHOTS, 'log.png'), fullPage: true });

  // A second run that waits behind a long first one (one instance of a flow runs at a time).
  const sleeper = JSON.parse(readFileSync(path.join(ROOT, 'examples/diamond.json'), 'utf8'));
  sleeper.flowName = sleeper.flowJson.name = 'sleeper_demo';
  sleeper.flowJson.tasks = [{ ...sleeper.flowJson.tasks[0], name: 'nap', cmd: 'sleep 30' }];
  sleeper.flowJson.relations = [];
  const sleepy = await importFlow(JSON.stringify(sleeper));
  const first = { flowInstanceId: await h.client.trigger(sleepy, Date.now()) };
  const second = { flowInstanceId: await h.client.trigger(sleepy, Date.now() - 3_600_000) };

  await page.getByTestId('nav-runs').click();
  await page.getByTestId(`run-row-${second.flowInstanceId}`).waitFor({ timeout: DEADLINE });
  await page.screenshot({ path: path.join(SHOTS, 'runs.png'), fullPage: true });
  await page.getByTestId(`run-row-${second.flowInstanceId}`).getByRole('link', { name: second.flowInstanceId }).click();
  await page.getByTestId('run-cancel').click();
  await page.locator('[data-testid="run-status"][data-status="CANCEL"]').waitFor({ timeout: DEADLINE });
  expect((await h.client.instance(second.flowInstanceId)).statusDesc).toBe('CANCEL');
  await h.client.cancel(first.flowInstanceId);

  // Back on Workflows: the diamond's last run is a coloured square (SUCCESS); sign out forgets the keys.
  await page.getByTestId('nav-workflows').click();
  await page.getByTestId('last-runs-diamond_demo').getByRole('link').first().waitFor({ timeout: DEADLINE });
  await page.screenshot({ path: path.join(SHOTS, 'workflows.png'), fullPage: true });
  await page.getByTestId('sign-out').click();
  await page.getByTestId('login-submit').waitFor({ timeout: DEADLINE });
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  expect(diamond).toBeGreaterThan(0);
}, 180_000);

it.skipIf(!hasChromium)('a 16 MiB log renders and scrolls without freezing the page', async () => {
  const big = JSON.parse(readFileSync(path.join(ROOT, 'examples/diamond.json'), 'utf8'));
  big.flowName = big.flowJson.name = 'big_log_demo';
  big.flowJson.tasks = [{ ...big.flowJson.tasks[0], name: 'chatty', cmd: "yes 'batchflow console 16 MiB log line 0123456789abcdef' | head -c 16000000" }];
  big.flowJson.relations = [];
  const flowId = await importFlow(JSON.stringify(big));
  const inst = { flowInstanceId: await h.client.trigger(flowId, Date.now()) };
  await page.goto(`${h.server.url}/console/runs/${inst.flowInstanceId}`);
  await signIn(); // the first test signed out: the page asks again, then shows the route it was opened at
  await page.locator('[data-testid="run-status"][data-status="SUCCESS"]').waitFor({ timeout: 120_000 });
  await page.getByTestId('open-log-chatty').click();
  // ~290,000 lines: all of them arrive, yet only the visible window is in the DOM.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="log-viewer"]')?.getAttribute('data-lines')) > 280_000, null, { timeout: 120_000 });
  const { ms, rendered } = await page.evaluate(async () => {
    const box = document.querySelector('[data-testid="log-box"]') as HTMLElement;
    const t0 = performance.now();
    box.scrollTop = box.scrollHeight / 2;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return { ms: performance.now() - t0, rendered: box.querySelectorAll('.line').length };
  });
  expect(rendered).toBeLessThan(200);
  expect(ms).toBeLessThan(1000);
  await page.getByTestId('log-text').getByText('0123456789abcdef').first().waitFor({ timeout: 10_000 });
}, 300_000);

it.skipIf(!hasChromium)('draws a reference as a node of the run, waiting, then released by the referenced workflow', async () => {
  const dirs = (await h.client.ok('GET', 'directories', 'listWorkFlowDirs')) as Array<{ key: string }>;
  const task = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'SHELL', cmd: 'true', timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0', ...extra });
  const imp = async (flowName: string, flowJson: Record<string, unknown>) =>
    Number(((await h.client.ok('POST', 'flows', 'import', { flowName, desc: '', dirId: dirs[0].key, flowJson: { name: flowName, ...flowJson } })) as { flowId: number }).flowId);
  const load = await imp('console_load', { type: 1, active: 0, cron: '0 0 0 1 1 ? 2099', tasks: [task('extract', { asLink: true })] });
  const report = await imp('console_report', {
    type: 0,
    tasks: [task('report')],
    flowLinks: [{ linkId: 'today', sourceFlowName: 'console_load' }],
    linkRelations: [{ linkId: 'today', targetTaskName: 'report', cycleGap: 'D0' }],
  });
  const rep = await h.client.trigger(report, Date.now());
  await page.goto(`${h.server.url}/console/runs/${rep}`);
  if (await page.getByTestId('login-submit').isVisible().catch(() => false)) await signIn();
  const node = page.locator('[data-testid="dag-node-⇢ console_load"]');
  await node.waitFor({ timeout: DEADLINE });
  await page.locator('[data-testid="run-ref-today"][data-status="WAITING"]').waitFor({ timeout: DEADLINE });
  expect(await node.getAttribute('data-reference')).toBe('true');
  expect(await node.getAttribute('data-status')).toBe('WAITING');
  await page.screenshot({ path: path.join(SHOTS, 'run-reference.png'), fullPage: true });
  await h.client.trigger(load, Date.now() - 60_000);
  await page.locator('[data-testid="run-status"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
  await page.locator('[data-testid="run-ref-today"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
  await page.screenshot({ path: path.join(SHOTS, 'run-reference-released.png'), fullPage: true });
}, 180_000);

/** A datetime-local value (the browser's local time; this process shares its zone) `days` from today at hh:mm. */
function localAt(days: number, hh: number, mm: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(hh)}:${p(mm)}`;
}

it.skipIf(!hasChromium)('reruns a failed run from its page, shows its alerts, and backfills a manual workflow from its page', async () => {
  // Tasks may run as another OS user: the flag's directory is open to all.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'batchflow-console-rerun-'));
  chmodSync(tmp, 0o777);
  try {
    const dirs = (await h.client.ok('GET', 'directories', 'listWorkFlowDirs')) as Array<{ key: string }>;
    const flowJson = {
      name: 'console_flaky', type: 0, alertMode: 1, // email (none configured: SKIPPED) and the webhook above
      tasks: [{ name: 'flaky', type: 'SHELL', cmd: `test -f ${tmp}/flag || { touch ${tmp}/flag; exit 1; }`, timeout: 0, retryLimit: 0, retryInterval: 0, successCode: '0' }],
    };
    const flowId = Number(((await h.client.ok('POST', 'flows', 'import', { flowName: 'console_flaky', desc: '', dirId: dirs[0].key, flowJson })) as { flowId: number }).flowId);
    const inst = await h.client.trigger(flowId, Date.now());
    await page.goto(`${h.server.url}/console/runs/${inst}`);
    if (await page.getByTestId('login-submit').isVisible().catch(() => false)) await signIn();

    // It fails the first time: an owner sees both reruns, and the alert with its delivery per channel.
    await page.locator('[data-testid="run-status"][data-status="FAIL"]').waitFor({ timeout: DEADLINE });
    await page.getByTestId('rerun-failed').waitFor({ timeout: DEADLINE });
    await page.getByTestId('rerun-all').waitFor({ timeout: DEADLINE });
    const alerts = page.getByTestId('run-alerts');
    await alerts.locator('[data-event="FAIL"]').waitFor({ timeout: DEADLINE });
    await alerts.locator('[data-testid="alert-delivery-webhook"][data-status="SENT"]').waitFor({ timeout: DEADLINE });
    await alerts.locator('[data-testid="alert-delivery-email"][data-status="SKIPPED"]').waitFor({ timeout: DEADLINE });
    expect(await alerts.getByTestId('alert-delivery-webhook').textContent()).toContain('/alerts');
    expect(hooked.length).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'run-alerts.png'), fullPage: true });

    // Rerun failed: confirm, then the page follows it again until SUCCESS (a second attempt of the task).
    await page.getByTestId('rerun-failed').click();
    await page.getByTestId('rerun-confirm').click();
    await page.locator('[data-testid="run-status"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
    await page.locator('[data-testid="run-task-flaky"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
    await expect.poll(async () => page.getByTestId('run-task-flaky').textContent(), { timeout: 30_000 }).toContain('#2 ');
    expect(await page.getByTestId('rerun-failed').count()).toBe(0); // SUCCESS: only "Rerun all"
    await page.getByTestId('rerun-all').waitFor({ timeout: DEADLINE });
    expect(await page.getByTestId('rerun-error').count()).toBe(0);
    expect((await h.client.instance(inst)).statusDesc).toBe('SUCCESS');
    await page.screenshot({ path: path.join(SHOTS, 'run-rerun.png'), fullPage: true });

    // Backfill from the workflow page: a manual workflow needs a cron; the API's error shows as it is.
    await page.getByTestId('page-run').getByRole('link', { name: 'console_flaky', exact: true }).click();
    await page.getByTestId('backfill-panel').waitFor({ timeout: DEADLINE });
    await page.getByTestId('backfill-from').fill(localAt(-3, 0, 0));
    await page.getByTestId('backfill-to').fill(localAt(-1, 23, 59));
    await page.getByTestId('backfill-cron').fill('0 * * * * ? *'); // every minute: over 1000 fires
    await page.getByTestId('backfill-submit').click();
    await page.getByTestId('backfill-error').waitFor({ timeout: DEADLINE });
    expect(await page.getByTestId('backfill-error').textContent()).toMatch(/at most 1000/);
    await page.getByTestId('backfill-cron').fill('0 0 12 * * ? *');
    await page.getByTestId('backfill-submit').click();
    await page.getByTestId('backfill-result').getByText('3 runs created, 0 skipped').waitFor({ timeout: DEADLINE });
    expect(await page.getByTestId('backfill-error').count()).toBe(0);
    const links = page.getByTestId('backfill-result').getByRole('link');
    expect(await links.count()).toBe(3);
    await page.screenshot({ path: path.join(SHOTS, 'workflow-backfill.png'), fullPage: true });

    // Its links open the runs; the latest one runs (they run in trigger-time order) to SUCCESS.
    await links.last().click();
    await page.locator('[data-testid="run-status"][data-status="SUCCESS"]').waitFor({ timeout: DEADLINE });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 180_000);
