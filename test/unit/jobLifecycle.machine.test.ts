import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCHEDULE_MESSAGE,
  ITERATION_CAP_MESSAGE,
  jobLifecycleMachine,
  jobStatusOf,
  type JobMachineEvent,
} from '../../actors/jobLifecycle.machine.js';
import {
  ALLOWED_TRANSITIONS,
  JOB_STATUSES,
  MAX_REASON_LENGTH,
  STAGE_LABELS,
  isTerminal,
  type JobStatus,
} from '../../actors/jobTransitions.js';
import { rejectionToError, sendJobEvent } from '../../actors/sendJobEvent.js';
import { DEFAULT_TIERS, TIER_NAMES, hardIterationCap } from '../../src/domain/tiers.js';
import { isWardenError } from '../../src/errors.js';
import { EVENT_CATALOGUE, TO_CHECKS, drive, isRecordAllowed, startJob, type JobHarness } from '../helpers/jobHarness.js';

const pairKey = (from: JobStatus, to: JobStatus) => `${from}→${to}`;
const ALLOWED_PAIRS = JOB_STATUSES.flatMap((from) => ALLOWED_TRANSITIONS[from].map((to) => pairKey(from, to)));

/** How to reach each table row: events to the `from` state, then the event that takes the row. */
const ROWS: { from: JobStatus; to: JobStatus; setup: JobMachineEvent[]; event: JobMachineEvent }[] = [
  { from: 'queued', to: 'starting', setup: [], event: { type: 'START' } },
  { from: 'queued', to: 'scheduled', setup: [], event: { type: 'SCHEDULE' } },
  { from: 'queued', to: 'failed', setup: [], event: { type: 'FAIL', reason: 'cancelled' } },
  { from: 'scheduled', to: 'queued', setup: [{ type: 'SCHEDULE' }], event: { type: 'RELEASE' } },
  { from: 'scheduled', to: 'failed', setup: [{ type: 'SCHEDULE' }], event: { type: 'FAIL', reason: 'cancelled' } },
  { from: 'starting', to: 'scaffold', setup: TO_CHECKS.slice(0, 1), event: { type: 'BEGIN' } },
  { from: 'starting', to: 'failed', setup: TO_CHECKS.slice(0, 1), event: { type: 'STEP_FAILED', reason: 'no worker' } },
  { from: 'scaffold', to: 'code', setup: TO_CHECKS.slice(0, 2), event: { type: 'STEP_SUCCEEDED' } },
  { from: 'scaffold', to: 'failed', setup: TO_CHECKS.slice(0, 2), event: { type: 'STEP_FAILED', reason: 'disk full' } },
  { from: 'code', to: 'deps', setup: TO_CHECKS.slice(0, 3), event: { type: 'STEP_SUCCEEDED' } },
  { from: 'code', to: 'failed', setup: TO_CHECKS.slice(0, 3), event: { type: 'FAIL', reason: 'max age' } },
  { from: 'deps', to: 'checks', setup: TO_CHECKS.slice(0, 4), event: { type: 'STEP_SUCCEEDED' } },
  { from: 'deps', to: 'failed', setup: TO_CHECKS.slice(0, 4), event: { type: 'STEP_FAILED', reason: 'npm 404' } },
  { from: 'checks', to: 'ready', setup: [...TO_CHECKS], event: { type: 'CHECKS_PASSED' } },
  { from: 'checks', to: 'scaffold', setup: [...TO_CHECKS], event: { type: 'CHECKS_FAILED', reason: 'red' } },
  { from: 'checks', to: 'failed', setup: [...TO_CHECKS], event: { type: 'STEP_FAILED', reason: 'runner died' } },
];

const RED = { type: 'CHECKS_FAILED', reason: 'red' } as const;
const CONFIRM = { type: 'CONFIRM', by: 'owner-1' } as const;
/** From scaffold (after a retry or a confirmation) back to checks. */
const BACK_TO_CHECKS = TO_CHECKS.slice(2);

interface Probe {
  name: string;
  value: unknown;
  harness: () => JobHarness;
}

/** Probe states: every status, both checks substates, and checks at the hard cap (depth 1: cap 3). */
function probes(): Probe[] {
  const at = (name: string, value: unknown, setup: readonly JobMachineEvent[], depth = 2): Probe => ({
    name,
    value,
    harness: () => {
      const harness = startJob(depth);
      drive(harness.actor, setup);
      return harness;
    },
  });
  const steps = ['starting', 'scaffold', 'code', 'deps', { checks: 'running' }] as const;
  return [
    at('queued', 'queued', []),
    at('scheduled', 'scheduled', [{ type: 'SCHEDULE' }]),
    ...steps.map((value, i) => at(JSON.stringify(value), value, TO_CHECKS.slice(0, i + 1))),
    at('checks.awaitingConfirmation', { checks: 'awaitingConfirmation' }, [...TO_CHECKS, RED, ...BACK_TO_CHECKS, RED], 1),
    at('checks.running at the cap', { checks: 'running' }, [
      ...TO_CHECKS, RED, ...BACK_TO_CHECKS, RED, CONFIRM, ...BACK_TO_CHECKS, RED, CONFIRM, ...BACK_TO_CHECKS,
    ], 1),
    at('ready', 'ready', [...TO_CHECKS, { type: 'CHECKS_PASSED' }]),
    at('failed', 'failed', [{ type: 'FAIL', reason: 'x' }]),
  ];
}

describe('jobLifecycle machine: structure', () => {
  it('has exactly the nine statuses as top-level states, terminal ones final', () => {
    const states = jobLifecycleMachine.root.states;
    expect(Object.keys(states).sort()).toEqual([...JOB_STATUSES].sort());
    for (const status of JOB_STATUSES) expect(states[status]?.type === 'final').toBe(isTerminal(status));
  });

  it('starts queued with iteration 0 and the queued label', () => {
    const { actor } = startJob(3, 'job-42');
    expect(jobStatusOf(actor.getSnapshot())).toBe('queued');
    expect(actor.getSnapshot().context).toEqual({
      jobId: 'job-42',
      iterationDepth: 3,
      iteration: 0,
      awaitingConfirmation: false,
      confirmations: 0,
      error: null,
      message: STAGE_LABELS.queued,
    });
  });

  it('refuses an input without a positive iteration depth', () => {
    expect(() => startJob(0)).toThrow();
  });
});

describe('jobLifecycle machine: allowed rows', () => {
  it('the rows below cover the table exactly', () => {
    expect(ROWS.map((r) => pairKey(r.from, r.to)).sort()).toEqual([...ALLOWED_PAIRS].sort());
  });

  it.each(ROWS)('$from → $to is accepted and recorded once', ({ from, to, setup, event }) => {
    const { actor, records } = startJob();
    drive(actor, setup);
    expect(jobStatusOf(actor.getSnapshot())).toBe(from);
    const before = records.length;
    const result = sendJobEvent(actor, event);
    expect(result.accepted).toBe(true);
    expect(jobStatusOf(actor.getSnapshot())).toBe(to);
    expect(records.slice(before)).toEqual([expect.objectContaining({ from, to })]);
  });
});

describe('jobLifecycle machine: refused events', () => {
  it.each(probes())('$name: refuses what it cannot take, records nothing, changes nothing', ({ value, harness }) => {
    expect(harness().actor.getSnapshot().value).toEqual(value);
    const taken = new Set<string>();
    for (const event of EVENT_CATALOGUE) {
      const { actor, records } = harness();
      const before = actor.getPersistedSnapshot();
      const from = jobStatusOf(actor.getSnapshot());
      const result = sendJobEvent(actor, event);
      if (result.accepted) {
        expect(records.every(isRecordAllowed)).toBe(true);
        taken.add(event.type);
        continue;
      }
      expect(result.rejection.from).toBe(from);
      expect(result.rejection.event).toBe(event.type);
      expect(actor.getPersistedSnapshot()).toEqual(before);
      // Setup recorded its own transitions; the refused event added none.
      expect(records.at(-1)?.to ?? 'queued').toBe(from);
    }
    if (isTerminal(jobStatusOf(harness().actor.getSnapshot()))) expect(taken.size).toBe(0);
  });

  it('never produces a pair outside the table from any probe state', () => {
    const produced = new Set<string>();
    for (const probe of probes()) {
      for (const event of EVENT_CATALOGUE) {
        const { actor, records } = probe.harness();
        const before = records.length;
        sendJobEvent(actor, event);
        for (const r of records.slice(before)) if (r.from !== r.to) produced.add(pairKey(r.from, r.to));
      }
    }
    expect([...produced].sort()).toEqual([...ALLOWED_PAIRS].sort());
  });

  it('a step outcome in scheduled is refused: the job is not running', () => {
    const { actor, records } = startJob();
    drive(actor, [{ type: 'SCHEDULE' }]);
    const result = sendJobEvent(actor, { type: 'STEP_FAILED', reason: 'x' });
    expect(result).toMatchObject({ accepted: false, rejection: { code: 'INVALID_TRANSITION', from: 'scheduled', event: 'STEP_FAILED' } });
    expect(records).toHaveLength(1);
  });

  it('CONFIRM when not paused is NOT_AWAITING_CONFIRMATION, mapped to the WardenError code', () => {
    const { actor } = startJob();
    drive(actor, TO_CHECKS);
    const result = sendJobEvent(actor, { type: 'CONFIRM', by: 'owner-1' });
    if (result.accepted) throw new Error('CONFIRM accepted while running checks');
    expect(result.rejection.code).toBe('NOT_AWAITING_CONFIRMATION');
    const error = rejectionToError(result.rejection, 'job-1');
    expect(isWardenError(error, 'NOT_AWAITING_CONFIRMATION') && error.details).toEqual({ jobId: 'job-1', status: 'checks' });
  });

  it('an event after a terminal status is INVALID_TRANSITION with a WardenError', () => {
    const { actor } = startJob();
    drive(actor, [...TO_CHECKS, { type: 'CHECKS_PASSED' }]);
    const result = sendJobEvent(actor, { type: 'FAIL', reason: 'late cancel' });
    if (result.accepted) throw new Error('event accepted after ready');
    const error = rejectionToError(result.rejection, 'job-1');
    expect(isWardenError(error, 'INVALID_TRANSITION') && error.details).toMatchObject({ jobId: 'job-1', from: 'ready', event: 'FAIL' });
  });
});

describe('jobLifecycle machine: messages and reasons', () => {
  it('a step failure keeps its reason, clipped to 200 characters', () => {
    const { actor, records } = startJob();
    drive(actor, TO_CHECKS.slice(0, 2));
    sendJobEvent(actor, { type: 'STEP_FAILED', reason: 'x'.repeat(500) });
    const { error, message } = actor.getSnapshot().context;
    expect(error).toHaveLength(MAX_REASON_LENGTH);
    expect(message).toBe(error);
    expect(records.at(-1)).toMatchObject({ from: 'scaffold', to: 'failed', message: error });
  });

  it('scheduling records the default message or the given one; release goes back to queued', () => {
    const { actor, records } = startJob();
    sendJobEvent(actor, { type: 'SCHEDULE' });
    sendJobEvent(actor, { type: 'RELEASE' });
    sendJobEvent(actor, { type: 'SCHEDULE', message: 'Back at 00:00 UTC' });
    expect(records.map((r) => r.message)).toEqual([DEFAULT_SCHEDULE_MESSAGE, STAGE_LABELS.queued, 'Back at 00:00 UTC']);
  });

  it('plain progress records the stage label of the new status', () => {
    const { actor, records } = startJob();
    drive(actor, TO_CHECKS);
    expect(records.map((r) => r.message)).toEqual(records.map((r) => STAGE_LABELS[r.to]));
  });
});

/** Fails checks until the job ends, confirming every pause; returns where pauses and the end came. */
function failChecksUntilEnd(harness: JobHarness) {
  const { actor } = harness;
  drive(actor, TO_CHECKS);
  const pausedAt: number[] = [];
  for (let guard = 0; guard < 100 && actor.getSnapshot().status === 'active'; guard++) {
    const { context } = actor.getSnapshot();
    if (context.awaitingConfirmation) {
      pausedAt.push(context.iteration);
      drive(actor, [CONFIRM, ...BACK_TO_CHECKS]);
    } else {
      drive(actor, [RED]);
      if (jobStatusOf(actor.getSnapshot()) === 'scaffold') drive(actor, BACK_TO_CHECKS);
    }
  }
  return { pausedAt, snapshot: actor.getSnapshot() };
}

describe('jobLifecycle machine: retry loop', () => {
  it.each(TIER_NAMES)('%s: pauses at each multiple of depth and fails at the hard cap', (tier) => {
    const depth = DEFAULT_TIERS[tier].iterationDepth;
    const cap = hardIterationCap(DEFAULT_TIERS[tier]);
    const harness = startJob(depth);
    const { pausedAt, snapshot } = failChecksUntilEnd(harness);
    expect(pausedAt).toEqual([depth, 2 * depth]);
    expect(jobStatusOf(snapshot)).toBe('failed');
    expect(snapshot.context).toMatchObject({ iteration: cap, confirmations: 2, error: ITERATION_CAP_MESSAGE });
    expect(harness.records.at(-1)).toMatchObject({ from: 'checks', to: 'failed', message: ITERATION_CAP_MESSAGE, iteration: cap });
    const retries = harness.records.filter((r) => r.from === 'checks' && r.to === 'scaffold');
    expect(retries.map((r) => r.iteration)).toEqual(Array.from({ length: cap }, (_, i) => i + 1));
  });

  it('bootstrapper: confirmation at 2 and 4, failure at 6', () => {
    const harness = startJob(DEFAULT_TIERS.bootstrapper.iterationDepth);
    const { pausedAt, snapshot } = failChecksUntilEnd(harness);
    expect(pausedAt).toEqual([2, 4]);
    expect(snapshot.context.iteration).toBe(6);
    expect(harness.records.filter((r) => r.awaitingConfirmation).map((r) => r.message)).toEqual([
      'Awaiting confirmation to continue (iteration 2)',
      'Awaiting confirmation to continue (iteration 4)',
    ]);
    expect(harness.records.filter((r) => r.message.startsWith('Confirmed by')).map((r) => r.iteration)).toEqual([3, 5]);
  });

  it('the pause is visible in context and only CONFIRM or FAIL leave it', () => {
    const harness = startJob(1);
    drive(harness.actor, [...TO_CHECKS, RED, ...BACK_TO_CHECKS, RED]);
    const paused = harness.actor.getSnapshot();
    expect(paused.context.awaitingConfirmation).toBe(true);
    expect(paused.matches({ checks: 'awaitingConfirmation' })).toBe(true);
    const accepted = EVENT_CATALOGUE.filter((e) => paused.can(e)).map((e) => e.type);
    expect(accepted.sort()).toEqual(['CONFIRM', 'FAIL']);
  });

  it('checks passing after retries ends ready with the iteration kept', () => {
    const { actor } = startJob(2);
    drive(actor, [...TO_CHECKS, RED, ...BACK_TO_CHECKS, { type: 'CHECKS_PASSED' }]);
    expect(jobStatusOf(actor.getSnapshot())).toBe('ready');
    expect(actor.getSnapshot().context).toMatchObject({ iteration: 1, message: STAGE_LABELS.ready, error: null });
  });
});
