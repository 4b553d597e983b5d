/**
 * inspector.events for a job id nobody knows used to open the stream and then fail inside it: the
 * client got a serialized INTERNAL_SERVER_ERROR (which tRPC's SSE link retries forever), the server
 * logged a stack, and the inspector page never showed its own "no such job". It is refused NOT_FOUND
 * like jobs.events, with one `request refused` info line and no error line.
 */
import { describe, expect, it } from 'vitest';
import { createCapturedLog } from '../helpers/capturedLog.js';
import { startTestApp } from '../helpers/testApp.js';

const captured = createCapturedLog();
const t = await startTestApp('insp_events_404', { log: captured.log, env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });
const token = await t.tokenFor('root', { admin: true });

describe('inspector.events for an unknown job', () => {
  it('answers NOT_FOUND on the wire, as the typed client sees it', async () => {
    const error = await new Promise<unknown>((resolve) => {
      const sub = t.clientFor(token).inspector.events.subscribe(
        { jobId: '00000000-0000-4000-8000-000000000000' },
        {
          onData: () => resolve(new Error('data for a job that does not exist')),
          onError: (err) => {
            sub.unsubscribe();
            resolve(err);
          },
        },
      );
    });
    expect(error).toMatchObject({ data: { code: 'NOT_FOUND', httpStatus: 404, wardenCode: 'NOT_FOUND' } });
  });

  it('is logged once as a refusal, never as a failure with a stack', () => {
    const lines = captured.lines().filter((l) => l.path === 'inspector.events');
    expect(lines.map((l) => [l.msg, l.code, l.wardenCode])).toEqual([['request refused', 'NOT_FOUND', 'NOT_FOUND']]);
    expect(captured.lines().filter((l) => l.level === 50)).toEqual([]);
  });
});
