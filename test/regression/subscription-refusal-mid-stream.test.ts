/**
 * Regression (found by test/e2e/wireFuzz.test.ts): a WardenError thrown by a subscription's generator
 * after the stream opened (inspector.events for a job that does not exist: NOT_FOUND) bypassed the
 * WardenError → tRPC code mapping, which only sees what the resolver throws, and was streamed as a 500
 * INTERNAL_SERVER_ERROR. It must carry its own code (404 NOT_FOUND, wardenCode NOT_FOUND).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

let t: TestApp;
let token: string;

beforeAll(async () => {
  t = await startTestApp('sub_refusal', { env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });
  token = await t.tokenFor('root', { admin: true });
});

describe('a refusal thrown inside a subscription stream', () => {
  it('is streamed with its own code, not as a 500', async () => {
    const input = encodeURIComponent(JSON.stringify({ jobId: 'no-such-job' }));
    const res = await fetch(`${t.url}/trpc/inspector.events?input=${input}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    expect(text).toContain('event: serialized-error');
    expect(text).toContain('"code":"NOT_FOUND"');
    expect(text).toContain('"httpStatus":404');
    expect(text).toContain('"wardenCode":"NOT_FOUND"');
  });
});
