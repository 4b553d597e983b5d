import { describe, expect, it } from 'vitest';
import { createJobActor, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot } from '../../actors/jobSnapshot.js';
import type { JobRow } from '../../src/db/jobRows.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { isWardenError } from '../../src/errors.js';
import { openJobSession } from '../../src/jobs/jobSession.js';

const JOB_ID = '00000000-0000-4000-8000-000000000001';

function row(patch: Partial<JobRow> = {}): JobRow {
  return {
    id: JOB_ID,
    ownerId: 'u',
    projectId: 'p',
    tier: 'partner',
    goal: 'g',
    status: 'queued',
    iteration: 0,
    awaitingConfirmation: false,
    seq: 1,
    createdAt: '2031-01-01T00:00:00.000Z',
    updatedAt: '2031-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    error: null,
    snapshot: null,
    machineVersion: null,
    scheduledFor: null,
    queueScore: null,
    ...patch,
  };
}

/** The stored snapshot of a fresh job after `events`. */
function stored(events: Parameters<ReturnType<typeof createJobActor>['send']>[0][]) {
  const actor = createJobActor(jobLifecycleMachine, { jobId: JOB_ID, iterationDepth: 3 }).start();
  for (const event of events) actor.send(event);
  return persistJobSnapshot(actor);
}

describe('openJobSession', () => {
  it('numbers the records of accepted events from the stored seq, the snapshot on the last one only', () => {
    const { version, snapshot } = stored([{ type: 'START' }]);
    const session = openJobSession(row({ status: 'starting', seq: 2, snapshot, machineVersion: version }), { tiers: DEFAULT_TIERS });
    expect(session.send({ type: 'BEGIN' }).accepted).toBe(true);
    expect(session.send({ type: 'STEP_SUCCEEDED' }).accepted).toBe(true);
    expect(session.send({ type: 'CONFIRM', by: 'u' }).accepted).toBe(false);
    const pending = session.takePending(1000);
    expect(pending.map((p) => [p.seq, p.record.from, p.record.to, p.at])).toEqual([
      [3, 'starting', 'scaffold', 1000],
      [4, 'scaffold', 'code', 1000],
    ]);
    expect(pending[0]?.snapshot).toBeUndefined();
    expect(pending[1]?.snapshot).toMatchObject({ version: 1, snapshot: { value: 'code' } });
    expect(session.seq).toBe(4);
    expect(session.takePending(2000)).toEqual([]);
    session.stop();
  });

  it('creates a fresh actor for a queued job stored without a snapshot, with its tier’s depth', () => {
    const session = openJobSession(row({ tier: 'cto_scale' }), { tiers: DEFAULT_TIERS });
    expect(session.status()).toBe('queued');
    expect(session.actor.getSnapshot().context.iterationDepth).toBe(5);
    session.stop();
  });

  it('refuses a snapshot that disagrees with its row, and a runnable row without one', () => {
    const { version, snapshot } = stored([{ type: 'START' }]);
    const refusal = (patch: Partial<JobRow>) => {
      try {
        openJobSession(row(patch), { tiers: DEFAULT_TIERS });
      } catch (error) {
        return isWardenError(error, 'INVALID_SNAPSHOT') ? error.details.issues : ['not INVALID_SNAPSHOT'];
      }
      return [];
    };
    expect(refusal({ status: 'code', seq: 2, snapshot, machineVersion: version })).toEqual(['snapshot status starting is not the stored code']);
    expect(refusal({ status: 'starting', iteration: 2, seq: 2, snapshot, machineVersion: version })).toEqual(['snapshot iteration 0 is not 2']);
    expect(refusal({ status: 'code', seq: 4 })).toEqual(['status code at seq 4 without a snapshot']);
  });
});
