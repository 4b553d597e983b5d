/**
 * A refused subscription (jobs.events for a job that does not exist) was logged twice: tRPC reports a
 * failed subscription once when the procedure fails and once when it streams the error, and the logger
 * wrote a line for each. One refusal, one line — on the fast SSE path and on tRPC's own adapter.
 */
import { describe, expect, it } from 'vitest';
import { createCapturedLog } from '../helpers/capturedLog.js';
import { startTestApp } from '../helpers/testApp.js';

const env = { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' };
const fast = createCapturedLog();
const stock = createCapturedLog();
const servers = [
  { name: 'fast path', log: fast, t: await startTestApp('events_404_fast', { log: fast.log, env }) },
  { name: 'stock adapter', log: stock, t: await startTestApp('events_404_stock', { log: stock.log, env, fastPath: false }) },
];

describe.each(servers)('jobs.events NOT_FOUND on the $name', ({ log, t }) => {
  it('is logged once', async () => {
    const token = await t.tokenFor('alice');
    const input = encodeURIComponent(JSON.stringify({ jobId: '00000000-0000-4000-8000-000000000000' }));
    const res = await fetch(`${t.url}/trpc/jobs.events?input=${input}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    expect(await res.text()).toContain('"wardenCode":"NOT_FOUND"');
    const lines = log.lines().filter((l) => l.path === 'jobs.events');
    expect(lines.map((l) => [l.msg, l.wardenCode])).toEqual([['request refused', 'NOT_FOUND']]);
  });
});
