import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../actors/jobTransitions.js';
import type { JobEvent } from '../../src/redis/jobEvent.js';
import { follow } from '../helpers/followJobEvents.js';
import { startTestApp } from '../helpers/testApp.js';

/**
 * Cancelling a job scheduled for tomorrow used to go scheduled → queued → failed: subscribers saw a
 * `queued` event for a job that never queued (and its admission counted in the log). SPEC §2 now allows
 * scheduled → failed, and a cancel takes it.
 */
const t = await startTestApp('cancel-scheduled', { env: { WARDEN_WORKERS: '0' } });

describe('cancelling a scheduled job', () => {
  it('goes straight to failed, publishing no queued event', async () => {
    const client = t.clientFor(await t.tokenFor('sched-user', { tier: 'bootstrapper' }));
    const { projectId } = await client.projects.create.mutate({ name: 'Tomorrow' });
    let last = { jobId: '', status: '' };
    for (let n = 0; n < 6; n++) last = await client.jobs.submit.mutate({ projectId, goal: `job ${n}` });
    expect(last.status).toBe('scheduled');
    const stream = follow(client, { jobId: last.jobId, lastEventId: '0' });
    await stream.until((f) => f.events.length >= 1);

    const cancelled = await client.jobs.cancel.mutate({ jobId: last.jobId });
    expect(cancelled).toMatchObject({ status: 'failed', error: 'Cancelled by owner' });
    await stream.ended;
    const events: JobEvent[] = stream.events.map((e) => e.data);
    expect(events.map((e) => [e.seq, e.previousStatus, e.status])).toEqual([[1, null, 'scheduled'], [2, 'scheduled', 'failed']]);
    expect(isTerminal(events.at(-1)?.status ?? 'queued')).toBe(true);
    expect((await client.usage.get.query()).jobsUsed).toBe(5);
  });
});
