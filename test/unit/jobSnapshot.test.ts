import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JOB_MACHINE_VERSION, jobLifecycleMachine, jobStatusOf, type TransitionRecord } from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot, restoreJobActor } from '../../actors/jobSnapshot.js';
import { sendJobEvent } from '../../actors/sendJobEvent.js';
import { isWardenError, type WardenErrorCode } from '../../src/errors.js';
import { EVENT_CATALOGUE, TO_CHECKS, drive, recordingMachine, startJob } from '../helpers/jobHarness.js';

const fixture: unknown = JSON.parse(readFileSync(new URL('../fixtures/jobSnapshot.v1.json', import.meta.url), 'utf8'));

/** A deep copy of the fixture with `edit` applied to its snapshot. */
function fixtureWith(edit: (snapshot: Record<string, unknown>) => void, version = JOB_MACHINE_VERSION): unknown {
  const copy = structuredClone(fixture) as { version: number; snapshot: Record<string, unknown> };
  edit(copy.snapshot);
  return { ...copy, version };
}

/** Restores `persisted`, expecting a WardenError with `code`; returns it. */
function expectRefused(persisted: unknown, code: WardenErrorCode): unknown {
  let thrown: unknown;
  try {
    restoreJobActor(jobLifecycleMachine, persisted);
  } catch (err) {
    thrown = err;
  }
  expect(isWardenError(thrown, code), String(thrown)).toBe(true);
  return thrown;
}

describe('persistJobSnapshot / restoreJobActor', () => {
  it('persists exactly what XState\'s getPersistedSnapshot gives, to the JSON text, in every reachable state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.constantFrom(...EVENT_CATALOGUE), { maxLength: 40 }), (depth, events) => {
        const { actor } = startJob(depth);
        for (const event of [undefined, ...events]) {
          if (event) sendJobEvent(actor, event);
          const ours = persistJobSnapshot(actor).snapshot;
          const xstate = actor.getPersistedSnapshot();
          expect(JSON.stringify(ours)).toBe(JSON.stringify(xstate));
          expect(ours).toEqual(xstate);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips through JSON and the restored job carries on from where it was', () => {
    const { actor } = startJob(3, 'job-7');
    drive(actor, TO_CHECKS.slice(0, 4));
    const stored: unknown = JSON.parse(JSON.stringify(persistJobSnapshot(actor)));
    const records: TransitionRecord[] = [];
    const restored = restoreJobActor(recordingMachine(records), stored);
    expect(jobStatusOf(restored.getSnapshot())).toBe('deps');
    expect(restored.getSnapshot().context).toEqual(actor.getSnapshot().context);
    expect(records).toEqual([]);
    expect(sendJobEvent(restored, { type: 'STEP_SUCCEEDED' }).accepted).toBe(true);
    expect(records).toEqual([expect.objectContaining({ from: 'deps', to: 'checks' })]);
  });

  it('restores the committed v1 fixture: paused at iteration 2, and CONFIRM resumes it', () => {
    const records: TransitionRecord[] = [];
    const restored = restoreJobActor(recordingMachine(records), fixture);
    const paused = restored.getSnapshot();
    expect(paused.matches({ checks: 'awaitingConfirmation' })).toBe(true);
    expect(paused.context).toMatchObject({ jobId: 'job-fixture-1', iteration: 2, awaitingConfirmation: true, confirmations: 0 });
    expect(sendJobEvent(restored, { type: 'CHECKS_FAILED', reason: 'again' }).accepted).toBe(false);
    expect(sendJobEvent(restored, { type: 'CONFIRM', by: 'owner-1' }).accepted).toBe(true);
    expect(restored.getSnapshot().context).toMatchObject({ iteration: 3, confirmations: 1, awaitingConfirmation: false });
    expect(records).toEqual([{ from: 'checks', to: 'scaffold', message: 'Confirmed by owner-1', iteration: 3, awaitingConfirmation: false }]);
  });

  it('a terminal job restores as terminal and takes no event', () => {
    const { actor } = startJob();
    drive(actor, [{ type: 'FAIL', reason: 'cancelled' }]);
    const restored = restoreJobActor(jobLifecycleMachine, JSON.parse(JSON.stringify(persistJobSnapshot(actor))));
    expect(restored.getSnapshot().status).toBe('done');
    expect(sendJobEvent(restored, { type: 'START' })).toMatchObject({ accepted: false, rejection: { code: 'INVALID_TRANSITION', from: 'failed' } });
  });

  it('refuses another machine version with UNKNOWN_MACHINE_VERSION', () => {
    const err = expectRefused(fixtureWith(() => {}, 99), 'UNKNOWN_MACHINE_VERSION');
    expect(isWardenError(err, 'UNKNOWN_MACHINE_VERSION') && err.details).toEqual({ jobId: 'job-fixture-1', version: 99, supported: [1] });
  });

  it.each([
    ['an unknown substate', { checks: 'sleeping' }],
    ['an unknown status', 'archived'],
    ['a compound state without its substate', 'checks'],
    ['two states at once', { checks: 'running', code: 'x' }],
  ])('refuses %s before XState sees it', (_, value) => {
    expectRefused(fixtureWith((s) => (s.value = value)), 'INVALID_SNAPSHOT');
  });

  it.each([
    ['a negative iteration', (s: Record<string, unknown>) => (s.context = { ...(s.context as object), iteration: -1 })],
    ['a missing job id', (s: Record<string, unknown>) => (s.context = { ...(s.context as object), jobId: undefined })],
    ['an unknown context field', (s: Record<string, unknown>) => (s.context = { ...(s.context as object), extra: 1 })],
    ['a live status on a final state', (s: Record<string, unknown>) => (s.value = 'failed')],
    ['an error status', (s: Record<string, unknown>) => (s.status = 'error')],
    ['child actors', (s: Record<string, unknown>) => (s.children = { worker: {} })],
  ])('refuses a snapshot with %s', (_, edit) => {
    expectRefused(fixtureWith(edit), 'INVALID_SNAPSHOT');
  });

  it('refuses what is not a persisted snapshot at all', () => {
    expectRefused(null, 'INVALID_SNAPSHOT');
    expectRefused({ version: 1 }, 'INVALID_SNAPSHOT');
    expectRefused('{"version":1}', 'INVALID_SNAPSHOT');
  });
});
