import type { Redis } from 'ioredis';
import { z } from 'zod';
import { JOB_STATUSES, STAGE_LABELS, isTerminal, type JobStatus } from '../../actors/jobTransitions.js';
import type { Clock } from '../clock.js';
import type { JobEvent } from './jobEvent.js';
import type { Keys } from './keys.js';
import { loadScripts } from './luaScripts.js';

/** What a job's hot hash starts with. */
export interface JobInit {
  status: JobStatus;
  ownerId: string;
  projectId: string;
  tier: string;
  /** Default 0. */
  iteration?: number;
  /** Default 0 (no event yet); a job rebuilt from PostgreSQL passes its last persisted seq. */
  seq?: number;
  /** Default ''. */
  message?: string;
  /** Default: the clock's now. */
  createdAt?: number;
}

/** The hot copy of a job, as kept in Redis (or the stand-in). Times are ms since the epoch. */
export const jobHotStateSchema = z.object({
  jobId: z.string().min(1),
  status: z.enum(JOB_STATUSES),
  seq: z.coerce.number().int().nonnegative(),
  iteration: z.coerce.number().int().nonnegative(),
  ownerId: z.string(),
  projectId: z.string(),
  tier: z.string(),
  message: z.string(),
  stageLabel: z.string(),
  createdAt: z.coerce.number().int(),
  updatedAt: z.coerce.number().int(),
});
export type JobHotState = z.infer<typeof jobHotStateSchema>;

/** One compare-and-set step of a job. */
export interface TransitionInput {
  jobId: string;
  /** The status the caller believes the job is in; anything else is a conflict. */
  expectedStatus: JobStatus;
  /** The seq the caller believes the job is at; the accepted event gets expectedSeq + 1. */
  expectedSeq: number;
  status: JobStatus;
  /** Default: expectedStatus. */
  previousStatus?: JobStatus | null;
  /** Default ''. */
  message?: string;
  /** Default: the status' stage label (SPEC §2). */
  stageLabel?: string;
  iteration: number;
  /** ms since the epoch; default: the clock's now. */
  timestamp?: number;
}

export type TransitionResult =
  | { ok: true; event: JobEvent }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'conflict'; current: { status: JobStatus; seq: number } };

/**
 * A job's hot status and seq, and the live event of every accepted change. The legality of a change
 * (SPEC §2's table) is the statechart's business; this store guarantees that each accepted change moves
 * seq by exactly one, that two writers racing on one job cannot both win, and that a refused change
 * publishes nothing.
 */
export interface TransitionStore {
  /** Creates the job's hot hash unless it exists; true when created (a retry never resets seq). */
  initJob(jobId: string, init: JobInit): Promise<boolean>;
  /** Compare-and-set of status and seq plus publish of the event, atomically. */
  applyTransition(input: TransitionInput): Promise<TransitionResult>;
  /**
   * applyTransition for each input, in order, in one round trip (a group commit's events); one result per
   * input. Each is atomic on its own; a refused one does not stop the others.
   */
  applyTransitions(inputs: readonly TransitionInput[]): Promise<TransitionResult[]>;
  get(jobId: string): Promise<JobHotState | null>;
}

/** A day: how long a finished job's hot hash stays readable before Redis drops it. */
export const DEFAULT_TERMINAL_RETENTION_MS = 86_400_000;

/** The fields of a new job's hash, with defaults applied. Both implementations store exactly these. */
export function initialJobState(jobId: string, init: JobInit, now: number): JobHotState {
  return jobHotStateSchema.parse({
    jobId,
    status: init.status,
    seq: init.seq ?? 0,
    iteration: init.iteration ?? 0,
    ownerId: init.ownerId,
    projectId: init.projectId,
    tier: init.tier,
    message: init.message ?? '',
    stageLabel: STAGE_LABELS[init.status],
    createdAt: init.createdAt ?? now,
    updatedAt: init.createdAt ?? now,
  });
}

/**
 * The event an accepted transition publishes. Both implementations build it here. Built, not parsed: its
 * parts are typed and come from the runtime (a transition the machine accepted), and this runs for
 * every transition; the numbers are checked, the only parts the types do not pin down.
 */
export function transitionEvent(input: TransitionInput, now: number): JobEvent {
  if (!Number.isInteger(input.expectedSeq) || input.expectedSeq < 0) {
    throw new RangeError(`expectedSeq must be an integer ≥ 0, got ${input.expectedSeq}`);
  }
  if (!Number.isInteger(input.iteration) || input.iteration < 0) {
    throw new RangeError(`iteration must be an integer ≥ 0, got ${input.iteration}`);
  }
  return {
    jobId: input.jobId,
    seq: input.expectedSeq + 1,
    status: input.status,
    previousStatus: input.previousStatus === undefined ? input.expectedStatus : input.previousStatus,
    message: input.message ?? '',
    stageLabel: input.stageLabel ?? STAGE_LABELS[input.status],
    iteration: input.iteration,
    // toISOString throws a RangeError for a time that is not one.
    timestamp: new Date(input.timestamp ?? now).toISOString(),
  };
}

const transitionReplySchema = z.union([
  z.tuple([z.literal(1)]),
  z.tuple([z.literal(0)]),
  z.tuple([z.literal(-1), z.enum(JOB_STATUSES), z.coerce.number().int()]),
]);

/** ARGV of applyTransition.lua (and each transition's part of applyTransitions.lua). */
function scriptArgs(input: TransitionInput, event: JobEvent, retentionMs: number): (string | number)[] {
  return [
    input.expectedStatus,
    input.expectedSeq,
    event.status,
    event.seq,
    event.iteration,
    event.message,
    event.stageLabel,
    Date.parse(event.timestamp),
    JSON.stringify(event),
    isTerminal(event.status) ? retentionMs : 0,
  ];
}

/** The common reply, `[1]` (applied), recognised without zod; anything else goes through the schema. */
function fastReply(reply: unknown): z.infer<typeof transitionReplySchema> | null {
  return Array.isArray(reply) && reply.length === 1 && reply[0] === 1 ? [1] : null;
}

function toResult(reply: z.infer<typeof transitionReplySchema>, event: JobEvent): TransitionResult {
  if (reply[0] === 1) return { ok: true, event };
  if (reply[0] === 0) return { ok: false, reason: 'missing' };
  return { ok: false, reason: 'conflict', current: { status: reply[1], seq: reply[2] } };
}

/**
 * The TransitionStore on Redis: one hash per job, one Lua script per step (applyTransition.lua), or per
 * group of steps (applyTransitions.lua).
 */
export function createRedisTransitionStore(
  redis: Redis,
  keys: Keys,
  clock: Clock,
  options: { terminalRetentionMs?: number } = {},
): TransitionStore {
  const scripts = loadScripts(redis);
  const retentionMs = options.terminalRetentionMs ?? DEFAULT_TERMINAL_RETENTION_MS;
  return {
    async initJob(jobId, init) {
      const state = initialJobState(jobId, init, clock.now());
      const fields = Object.entries(state).flatMap(([field, value]) => [field, String(value)]);
      return (await scripts.initJob([keys.job(jobId)], fields)) === 1;
    },

    async applyTransition(input) {
      const event = transitionEvent(input, clock.now());
      const reply = await scripts.applyTransition(
        [keys.job(input.jobId), keys.jobEvents(input.jobId), keys.allJobEvents()],
        scriptArgs(input, event, retentionMs),
      );
      return toResult(transitionReplySchema.parse(reply), event);
    },

    async applyTransitions(inputs) {
      if (inputs.length === 0) return [];
      const now = clock.now();
      const events = inputs.map((input) => transitionEvent(input, now));
      const reply = await scripts.applyTransitions(
        [...inputs.flatMap((input) => [keys.job(input.jobId), keys.jobEvents(input.jobId)]), keys.allJobEvents()],
        inputs.flatMap((input, i) => scriptArgs(input, events[i] as JobEvent, retentionMs)),
      );
      if (!Array.isArray(reply) || reply.length !== inputs.length) throw new Error(`applyTransitions: ${inputs.length} replies expected`);
      return reply.map((r: unknown, i) => toResult(fastReply(r) ?? transitionReplySchema.parse(r), events[i] as JobEvent));
    },

    async get(jobId) {
      const hash = await redis.hgetall(keys.job(jobId));
      if (Object.keys(hash).length === 0) return null;
      return jobHotStateSchema.parse(hash);
    },
  };
}
