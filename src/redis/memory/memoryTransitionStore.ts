import { isTerminal } from '../../../actors/jobTransitions.js';
import type { Clock } from '../../clock.js';
import {
  DEFAULT_TERMINAL_RETENTION_MS,
  initialJobState,
  transitionEvent,
  type JobHotState,
  type TransitionInput,
  type TransitionResult,
  type TransitionStore,
} from '../transitionStore.js';
import { atomically } from './atomically.js';
import { ExpiringMap } from './expiringMap.js';
import type { MemoryJobEventFeed } from './memoryJobEventFeed.js';

/**
 * The stand-in's TransitionStore. Each method does all its work synchronously before its first await,
 * which makes it as atomic in one process as the Lua script is on Redis.
 */
export function createMemoryTransitionStore(
  feed: MemoryJobEventFeed,
  clock: Clock,
  options: { terminalRetentionMs?: number } = {},
): TransitionStore {
  const jobs = new ExpiringMap<JobHotState>(clock);
  const retentionMs = options.terminalRetentionMs ?? DEFAULT_TERMINAL_RETENTION_MS;
  /** One compare-and-set plus publish, synchronous (callers wrap it in atomically). */
  const apply = (input: TransitionInput): TransitionResult => {
    const now = clock.now();
    const event = transitionEvent(input, now);
    const current = jobs.get(input.jobId);
    if (!current) return { ok: false, reason: 'missing' };
    if (current.status !== input.expectedStatus || current.seq !== input.expectedSeq) {
      return { ok: false, reason: 'conflict', current: { status: current.status, seq: current.seq } };
    }
    jobs.set(input.jobId, {
      ...current,
      status: event.status,
      seq: event.seq,
      iteration: event.iteration,
      message: event.message,
      stageLabel: event.stageLabel,
      updatedAt: Date.parse(event.timestamp),
    });
    if (isTerminal(event.status) && retentionMs > 0) jobs.expireAt(input.jobId, now + retentionMs);
    feed.publish(event);
    return { ok: true, event };
  };
  return {
    initJob: (jobId, init) =>
      atomically(() => {
        const state = initialJobState(jobId, init, clock.now());
        if (jobs.get(jobId)) return false;
        jobs.set(jobId, state);
        return true;
      }),

    applyTransition: (input) => atomically(() => apply(input)),

    applyTransitions: (inputs) =>
      atomically(() => {
        // As on Redis, a malformed input refuses the whole call before anything is applied.
        for (const input of inputs) transitionEvent(input, clock.now());
        return inputs.map(apply);
      }),

    get: (jobId) =>
      atomically(() => {
        const state = jobs.get(jobId);
        return state ? { ...state } : null;
      }),
  };
}
