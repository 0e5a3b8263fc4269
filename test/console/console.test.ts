// The web console in a real browser (Debian's /usr/bin/chromium through playwright-core): log in, see the
// diamond's DAG, trigger it with a parameter override, watch it succeed, read a log, cancel a queued run;
// a screenshot of each page under test-output/console/. Skips loudly without chromium (fails under CI).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

beforeAll(async () => {
  if (!hasChromium) return;
  const built = path.join(ROOT, 'dist/web/index.html');
  if (!existsSync(built) || statSync(built).mtimeMs < newest(path.join(ROOT, 'web'))) {
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  }
  mkdirSync(SHOTS, { recursive: true });
  h = await startInProcess({ auth: true });
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
