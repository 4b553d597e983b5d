import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobStatusOf, type JobMachineEvent, type JobSnapshot } from '../../actors/jobLifecycle.machine.js';
import { JOB_STATUSES, MAX_REASON_LENGTH, isTerminal } from '../../actors/jobTransitions.js';
import { sendJobEvent } from '../../actors/sendJobEvent.js';
import { isRecordAllowed, startJob } from '../helpers/jobHarness.js';

type EventType = JobMachineEvent['type'];

/** Short texts and texts past the 200-character clip. */
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 190, maxLength: 400 }));

function eventOf(type: EventType, value: string): JobMachineEvent {
  switch (type) {
    case 'SCHEDULE':
      return value.length % 2 === 0 ? { type } : { type, message: value };
    case 'STEP_FAILED':
    case 'CHECKS_FAILED':
    case 'FAIL':
      return { type, reason: value };
    case 'CONFIRM':
      return { type, by: value };
    default:
      return { type };
  }
}

// When a step "follows" the machine it picks among the events the state takes, weighted towards
// progress, so that runs get deep (retry loop, pauses, the cap); otherwise it sends any event at all.
const FOLLOW_WEIGHTS: Record<EventType, number> = {
  STEP_SUCCEEDED: 100, CHECKS_FAILED: 100, CONFIRM: 100, START: 50, BEGIN: 100,
  RELEASE: 50, SCHEDULE: 10, CHECKS_PASSED: 8, STEP_FAILED: 1, FAIL: 1,
};
const EVENT_TYPES = Object.keys(FOLLOW_WEIGHTS) as EventType[];

const stepArb = fc.record({ follow: fc.nat(19).map((n) => n < 19), pick: fc.nat(), value: text });
type StepChoice = { follow: boolean; pick: number; value: string };

function chooseEvent(snapshot: JobSnapshot, { follow, pick, value }: StepChoice): JobMachineEvent {
  if (!follow) return eventOf(EVENT_TYPES[pick % EVENT_TYPES.length] ?? 'START', value);
  const enabled = EVENT_TYPES.filter((type) => snapshot.can(eventOf(type, value)));
  const total = enabled.reduce((sum, type) => sum + FOLLOW_WEIGHTS[type], 0);
  let ticket = total === 0 ? 0 : pick % total;
  for (const type of enabled) {
    ticket -= FOLLOW_WEIGHTS[type];
    if (ticket < 0) return eventOf(type, value);
  }
  return eventOf('START', value);
}

describe('jobLifecycle property: random event sequences', () => {
  it('stay in the table, never leave a terminal status, and record only allowed pairs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(stepArb, { minLength: 20, maxLength: 200 }), (depth, steps) => {
        const { actor, records } = startJob(depth);
        for (const step of steps) {
          const from = jobStatusOf(actor.getSnapshot());
          const before = records.length;
          const result = sendJobEvent(actor, chooseEvent(actor.getSnapshot(), step));
          const snapshot = actor.getSnapshot();
          const status = jobStatusOf(snapshot);
          expect(JOB_STATUSES).toContain(status);
          if (isTerminal(from)) expect(result.accepted).toBe(false);
          if (!result.accepted) {
            expect(status).toBe(from);
            expect(records).toHaveLength(before);
            continue;
          }
          expect(records).toHaveLength(before + 1);
          const record = records[before];
          expect(record !== undefined && isRecordAllowed(record)).toBe(true);
          expect(record).toMatchObject({ from, to: status, iteration: snapshot.context.iteration });
          expect(snapshot.context.iteration).toBeLessThanOrEqual(3 * depth);
          expect(snapshot.context.message.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
          expect(snapshot.context.awaitingConfirmation).toBe(snapshot.matches({ checks: 'awaitingConfirmation' }));
        }
      }),
      { numRuns: 300 },
    );
  });
});
