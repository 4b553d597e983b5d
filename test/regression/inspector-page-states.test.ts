import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobDriver, RETRY_THEN_READY } from '../helpers/jobDriver.js';
import { startTestApp } from '../helpers/testApp.js';

/**
 * Four states of the inspector page that were wrong, each checked in Debian's chromium with a
 * screenshot in test-results/ (git-ignored):
 * - `.detail{display:flex}` beat `[hidden]`: with nothing selected, the empty Statechart, Timeline and
 *   "No stored job" cards showed under the placeholder;
 * - opening an id that does not exist kept the previous job's owner, chart and log under the new id;
 * - the status pill could disagree with the state shown beside it (pill from one stream, state from another);
 * - at 420 px the two-column layout overflowed and the host column was cut off.
 */
const CHROMIUM = '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const UNKNOWN = '00000000-0000-4000-8000-00000000dead';

const t = await startTestApp('inspector_page_states', { inspector: { flushMs: 10 }, env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });
const inspection = t.app.inspection;
const driver = await createJobDriver({ sql: t.app.sql, inspector: inspection.inspector, clock: { now: () => Date.now() } }, { ownerId: 'ada', tier: 'partner' });
const job = await driver.start();
for (const event of RETRY_THEN_READY.slice(0, 2)) await job.send(event); // → scaffold
await inspection.inspector.flush();
const adminToken = await t.tokenFor('root', { admin: true });
const userDataDir = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
mkdirSync(RESULTS, { recursive: true });

let context: BrowserContext | undefined;
afterAll(async () => {
  await context?.close();
  job.actor.stop();
  rmSync(userDataDir, { recursive: true, force: true });
});

/** What the detail shows, read in the page (a string: this file is type-checked without the DOM library). */
async function shown(page: Page): Promise<{ pill: string; state: string; chart: string; owner: string; logRows: number; chartNodes: number }> {
  return page.evaluate<{ pill: string; state: string; chart: string; owner: string; logRows: number; chartNodes: number }>(`({
    pill: document.getElementById('d-status').dataset.status ?? '',
    state: document.querySelector('[data-fact="state"]')?.textContent ?? '',
    chart: document.querySelector('.st.current:not(.compound)')?.dataset.stateId ?? '',
    owner: document.querySelector('[data-fact="owner"]')?.textContent ?? '',
    logRows: document.querySelectorAll('#log-rows tr').length,
    chartNodes: document.getElementById('chart').childElementCount,
  })`);
}

describe('the inspector page', () => {
  let page: Page;

  it('shows only the placeholder while nothing is selected', async () => {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${t.url}/inspector/`);
    await page.getByTestId('token-input').fill(adminToken);
    await page.getByTestId('login-submit').click();
    await page.locator(`tr[data-job-id="${job.jobId}"]`).waitFor();
    expect(await page.locator('#detail-empty').isVisible()).toBe(true);
    expect(await page.locator('#detail-body').isVisible()).toBe(false);
    expect(await page.getByTestId('statechart').isVisible()).toBe(false);
    expect(await page.locator('#log-empty').isVisible()).toBe(false);
    await page.screenshot({ path: join(RESULTS, 'inspector-nothing-selected.png'), animations: 'disabled' });
  });

  it('keeps the status pill, the state and the chart in agreement as the actor moves', async () => {
    await page.locator(`tr[data-job-id="${job.jobId}"]`).click();
    await expect.poll(async () => (await shown(page)).pill, { timeout: 10_000 }).toBe('scaffold');
    let now = await shown(page);
    expect(now.state.split('.')[0]).toBe('scaffold');
    expect(now.chart).toBe('job.scaffold');
    await job.send({ type: 'STEP_SUCCEEDED' }); // → code
    await expect.poll(async () => (await shown(page)).pill, { timeout: 10_000 }).toBe('code');
    now = await shown(page);
    expect(now.state.split('.')[0]).toBe('code');
    expect(now.chart).toBe('job.code');
    await page.screenshot({ path: join(RESULTS, 'inspector-live-actor.png'), animations: 'disabled' });
  });

  it('opening an id nobody knows says so, and shows nothing of the job open before', async () => {
    expect((await shown(page)).owner).toBe('ada');
    await page.locator('#open-job-id').fill(UNKNOWN);
    await page.locator('#open-job-id').press('Enter');
    await expect.poll(() => page.getByTestId('detail-notice').textContent(), { timeout: 10_000 }).toContain('Nothing is known of this job');
    expect(await page.getByTestId('detail-job').textContent()).toBe(UNKNOWN);
    expect(await shown(page)).toEqual({ pill: '', state: '', chart: '', owner: '', logRows: 0, chartNodes: 0 });
    expect(await page.getByTestId('statechart').isVisible()).toBe(false);
    expect(await page.getByTestId('timeline').isVisible()).toBe(false);
    expect(await page.locator('#log-empty').isVisible()).toBe(false);
    await page.screenshot({ path: join(RESULTS, 'inspector-unknown-job.png'), animations: 'disabled' });
  });

  it('fits 420 px: no sideways overflow, the host column in view', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    await page.locator(`tr[data-job-id="${job.jobId}"]`).click();
    await expect.poll(async () => (await shown(page)).pill, { timeout: 10_000 }).toBe('code');
    const widths = await page.evaluate<{ page: number; body: number }>('({ page: document.documentElement.scrollWidth, body: document.body.scrollWidth })');
    expect(widths.page).toBeLessThanOrEqual(420);
    expect(widths.body).toBeLessThanOrEqual(420);
    // Polled: the actors table is redrawn as the live list refreshes, and a row caught mid-redraw has no box.
    const fits = async (selector: string) => {
      const box = await page.locator(selector).first().boundingBox();
      return box !== null && box.width > 0 && box.x + box.width <= 420;
    };
    await expect.poll(() => fits('table.actors th:has-text("host")'), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => fits(`tr[data-job-id="${job.jobId}"] td.host`), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: join(RESULTS, 'inspector-420px.png'), animations: 'disabled', fullPage: true });
  });
});
