import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobMachineEvent } from '../../actors/jobLifecycle.machine.js';
import { createJobDriver, RETRY_THEN_READY, type DrivenJob } from '../helpers/jobDriver.js';
import { startTestApp } from '../helpers/testApp.js';

/**
 * The inspector page in Debian's chromium (SPEC §11): against a running Warden with actors in
 * flight, sign in with an admin token, see the list, open a job, watch its state change. The network is
 * cut for the browser (every host name but 127.0.0.1 fails to resolve) and every request it makes is
 * recorded: none may leave 127.0.0.1. The screenshot goes to test-results/ (git-ignored).
 */
const CHROMIUM = '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

const t = await startTestApp('inspector_browser', { inspector: { processId: `warden-1:${process.pid}`, flushMs: 20 } });
const inspection = t.app.inspection;
const clock = { now: () => Date.now() };
const deps = { sql: t.app.sql, inspector: inspection.inspector, clock };
const drivers = [
  await createJobDriver(deps, { ownerId: 'ada', tier: 'partner' }),
  await createJobDriver(deps, { ownerId: 'grace', tier: 'cto_scale' }),
  await createJobDriver(deps, { ownerId: 'linus', tier: 'bootstrapper' }),
];
const adminToken = await t.tokenFor('root', { admin: true });

/** Actors in flight: each advances one event per tick, on its own script. */
const PAUSE_AFTER_ONE_RETRY: JobMachineEvent[] = [...RETRY_THEN_READY.slice(0, 6), ...RETRY_THEN_READY.slice(6, 9), { type: 'CHECKS_FAILED', reason: 'tests: 2 failing' }];
const FAIL_IN_DEPS: JobMachineEvent[] = [...RETRY_THEN_READY.slice(0, 4), { type: 'STEP_FAILED', reason: 'npm ERR! 404 left-pad@9.9.9 not found' }];
const background: { job: DrivenJob; script: JobMachineEvent[]; next: number }[] = [];
// [script, events already taken]: so that the list shows jobs at every stage from the first look.
const plan: [JobMachineEvent[], number][] = [
  [RETRY_THEN_READY, 1],
  [PAUSE_AFTER_ONE_RETRY, PAUSE_AFTER_ONE_RETRY.length],
  [FAIL_IN_DEPS, FAIL_IN_DEPS.length],
  [RETRY_THEN_READY, 4],
  [RETRY_THEN_READY, 7],
  [PAUSE_AFTER_ONE_RETRY, 2],
  [RETRY_THEN_READY, 0],
];
for (const [i, [script, taken]] of plan.entries()) {
  const driver = drivers[i % drivers.length];
  if (!driver) continue;
  const job = await driver.start({ iterationDepth: script === PAUSE_AFTER_ONE_RETRY ? 1 : 3 });
  for (const event of script.slice(0, taken)) await job.send(event);
  background.push({ job, script, next: taken });
}
let ticking = true;
let turn = 0;
const ticker = setInterval(() => {
  // One event per tick, round robin over the jobs that still have one.
  const pending = background.filter((entry) => entry.next < entry.script.length);
  const entry = ticking ? pending[turn++ % Math.max(1, pending.length)] : undefined;
  const event = entry?.script[entry.next];
  if (!entry || !event) return;
  entry.next++;
  void entry.job.send(event).catch(() => {});
}, 500);

// The job the test watches: it moves only when the test says so.
const watched = await (drivers[0] ?? (await createJobDriver(deps))).start();
for (const event of RETRY_THEN_READY.slice(0, 3)) await watched.send(event);
await inspection.inspector.flush();

afterAll(() => {
  ticking = false;
  clearInterval(ticker);
  for (const { job } of background) job.actor.stop();
  watched.actor.stop();
});

describe('the /inspector page in chromium', () => {
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const userDataDir = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
  afterAll(async () => {
    await context?.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('signs in with an admin token kept in the session only, and lists the live actors', async () => {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        // The network is cut: nothing but 127.0.0.1 resolves.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    context.on('request', (request) => requests.push(request.url()));
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${t.url}/inspector/`);

    await page.getByTestId('token-input').fill(adminToken);
    await page.getByTestId('login-submit').click();
    await page.locator('#conn[data-state="live"]').waitFor();
    await expect.poll(() => page.getByTestId('actor-row').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(background.length);
    await page.locator(`tr[data-job-id="${watched.jobId}"]`).waitFor();

    // A string, evaluated in the page: this file is type-checked without the DOM library.
    const storage: unknown = await page.evaluate('({ session: Object.keys(sessionStorage), local: Object.keys(localStorage), cookies: document.cookie })');
    expect(storage).toEqual({ session: ['warden.inspector.token'], local: [], cookies: '' });
  });

  it('opens a job and watches its state change live, on the chart and in the timeline', async () => {
    await page.locator(`tr[data-job-id="${watched.jobId}"]`).click();
    const status = page.getByTestId('detail-status');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 10_000 }).toBe('code');
    await page.locator('.st.current[data-state-id="job.code"]').waitFor();
    await page.locator('#timeline li[data-kind="snapshot"]').first().waitFor();

    for (const event of RETRY_THEN_READY.slice(3, 6)) await watched.send(event);
    // code → deps → checks, checks failed: back to scaffold with iteration 1.
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 10_000 }).toBe('scaffold');
    await page.locator('.st.current[data-state-id="job.scaffold"]').waitFor();
    await page.locator('[data-fact="iteration"]', { hasText: '1' }).waitFor();
    await page.locator('.edge.taken[data-edge-id="job.checks.running>job.scaffold"]').waitFor();
    const timeline = await page.getByTestId('timeline').innerText();
    expect(timeline).toContain('CHECKS_FAILED');
    expect(timeline).toMatch(/iteration:\s*0\s*→\s*1/);

    await watched.send({ type: 'STEP_SUCCEEDED' });
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 10_000 }).toBe('code');
    // The durable log (PostgreSQL) is on the page too: seq 1 and seven transitions so far.
    await expect.poll(() => page.locator('#log-rows tr').count(), { timeout: 10_000 }).toBe(8);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'inspector.png'), animations: 'disabled' });
  });

  it('made no request that left 127.0.0.1', () => {
    expect(requests.length).toBeGreaterThan(5);
    const elsewhere = requests.filter((url) => new URL(url).hostname !== '127.0.0.1');
    expect(elsewhere).toEqual([]);
  });
});
