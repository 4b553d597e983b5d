import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createJobActor, DEFAULT_SCHEDULE_MESSAGE, ITERATION_CAP_MESSAGE, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot } from '../../actors/jobSnapshot.js';
import { STAGE_LABELS, isTerminal } from '../../actors/jobTransitions.js';
import { rejectionToError } from '../../actors/sendJobEvent.js';
import type { JobRuntimeQueries } from '../db/jobRuntimeQueries.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import type { ProjectsRepository } from '../db/projectsRepository.js';
import { estimateWait, queueRetryAfterMinutes, type WaitEstimate } from '../domain/waitEstimate.js';
import { hardIterationCap, resolveTier } from '../domain/tiers.js';
import { unlessRedisDown } from '../unavailable.js';
import { listJobsFilter, submitJobInput } from './jobInputs.js';
import { WardenError, notFound } from '../errors.js';
import type { HotStores } from '../redis/hotStores.js';
import type { JobEvent } from '../redis/jobEvent.js';
import { applyToStoredJob, type StoredJobDeps } from './applyToStoredJob.js';
import { CANCEL_REASON, failJob } from './failJob.js';
import { streamJobEvents } from './jobEventStream.js';
import { toJobSummary, type JobDetails, type JobSummary } from './jobViews.js';
import { NO_QUEUE_CAP, releaseTime } from './scheduler.js';
import type { TransitionPublisher } from './transitionPublisher.js';

/** Who calls: the authenticated user and their tier (router's AuthUser fits). */
export interface JobOwner {
  id: string;
  tier: string;
}

/** SPEC §4: today's counters of a user. `dailyLimitResetsAt` is the next UTC midnight (ISO). */
export interface UsageCounters {
  jobsUsed: number;
  jobsRemaining: number;
  iterationsUsed: number;
  /** Iterations left before the hard cap (3 × depth − used), for the newest unfinished job. */
  iterationsRemaining: number;
  /** Iterations left before the next pause for the owner's confirmation (or the cap, if that comes first). */
  iterationsBeforeConfirmation: number;
  dailyLimitResetsAt: string;
}

export interface SubmitResult {
  jobId: string;
  status: 'queued' | 'scheduled';
  /** 1-based place in the queue; null when scheduled. */
  position: number | null;
  /** Null when scheduled. */
  estimatedWait: WaitEstimate | null;
  usage: UsageCounters;
  message: string;
  /** When a scheduled job is released to the queue (ISO); null when queued. */
  scheduledFor: string | null;
}

export interface ConfirmResult {
  jobId: string;
  status: JobSummary['status'];
  iteration: number;
  /** Its place in the queue: the job continues from scaffold on whichever worker takes it. */
  position: number | null;
}


/**
 * The job API, callable from any process: submit (SPEC §3 admission), get, list,
 * confirm, cancel, events. Another owner's job or project answers NOT_FOUND, exactly as a missing one.
 */
export interface JobService {
  submit(owner: JobOwner, input: z.input<typeof submitJobInput>): Promise<SubmitResult>;
  get(owner: JobOwner, jobId: string): Promise<JobDetails>;
  list(owner: JobOwner, options?: z.input<typeof listJobsFilter>): Promise<{ items: JobSummary[]; nextCursor: string | null }>;
  /** Resumes a job paused for confirmation; NOT_AWAITING_CONFIRMATION otherwise. */
  confirm(owner: JobOwner, jobId: string): Promise<ConfirmResult>;
  /** Fails the job "Cancelled by owner" wherever it is hosted; INVALID_TRANSITION when it has finished. */
  cancel(owner: JobOwner, jobId: string): Promise<JobSummary>;
  /** The job's events: its current state (or all after `lastEventId`), then live ones, until terminal. */
  events(owner: JobOwner, jobId: string, options?: { lastEventId?: number | null; signal?: AbortSignal }): Promise<AsyncGenerator<JobEvent, void, undefined>>;
  /** SPEC §4 counters of the user. */
  usage(owner: JobOwner): Promise<UsageCounters>;
  /** Iterations of the user's newest unfinished job: used, and left before its next pause or the cap. */
  iterationUsage(owner: JobOwner): Promise<{ used: number; remaining: number }>;
}

export interface JobServiceDeps extends StoredJobDeps {
  jobs: JobsRepository;
  projects: Pick<ProjectsRepository, 'getProject'>;
  queries: Pick<JobRuntimeQueries, 'deleteJob' | 'currentIterations' | 'recordFailRequest'>;
  stores: HotStores;
  publisher: TransitionPublisher;
  queueCap: number;
  /** Workers per process, for the wait estimate. */
  /** Runners across every live process and how many are idle now (the wait estimate's `workers`). */
  capacity: () => Promise<{ workers: number; idle: number }>;
  jitterMs: number;
  random: () => number;
  /** A job was queued: wake the workers, of this process and of the others. */
  wake: () => void;
}

async function* noEvents(): AsyncGenerator<JobEvent, void, undefined> {}

export function createJobService(deps: JobServiceDeps): JobService {
  const { jobs, stores, clock, tiers } = deps;

  const owned = async (owner: JobOwner, jobId: string) => {
    const row = await jobs.getJob(owner.id, jobId);
    if (!row) throw notFound('job', jobId);
    return row;
  };

  const queued = () => deps.wake();

  const iterationUsage = async (owner: JobOwner) => {
    const current = await deps.queries.currentIterations(owner.id);
    const depth = resolveTier(tiers, current?.tier ?? owner.tier).iterationDepth;
    const cap = hardIterationCap({ iterationDepth: depth });
    if (!current) return { used: 0, remaining: cap, beforeConfirmation: depth };
    const nextStop = Math.min(depth * (current.confirmations + 1), cap);
    return {
      used: current.iteration,
      remaining: Math.max(0, cap - current.iteration),
      beforeConfirmation: Math.max(0, nextStop - current.iteration),
    };
  };

  const counters = async (
    owner: JobOwner,
    daily: { used: number; remaining: number; resetsAt: number },
    read: Promise<{ used: number; remaining: number; beforeConfirmation: number }> = iterationUsage(owner),
  ): Promise<UsageCounters> => {
    const iterations = await read;
    return {
      jobsUsed: daily.used,
      jobsRemaining: daily.remaining,
      iterationsUsed: iterations.used,
      iterationsRemaining: iterations.remaining,
      iterationsBeforeConfirmation: iterations.beforeConfirmation,
      dailyLimitResetsAt: new Date(daily.resetsAt).toISOString(),
    };
  };

  return {
    async submit(owner, input) {
      const { projectId, goal, ifOverQuota } = submitJobInput.parse(input);
      if (!(await deps.projects.getProject(owner.id, projectId))) throw notFound('project', projectId);
      const limits = resolveTier(tiers, owner.tier);
      const admission = await stores.quotas.admit(owner.id, limits.dailyJobs);
      if (!admission.admitted && ifOverQuota === 'refuse') {
        // Nothing was counted (the admission refused) and nothing is stored.
        throw new WardenError('DAILY_LIMIT', `Daily limit of ${limits.dailyJobs} jobs reached. Resets at midnight UTC.`, {
          used: admission.used,
          limit: limits.dailyJobs,
          resetsAt: new Date(admission.resetsAt).toISOString(),
        });
      }
      const now = clock.now();
      const jobId = randomUUID();
      // The stored snapshot is the machine's own: a fresh actor, scheduled when over the quota.
      const actor = createJobActor(jobLifecycleMachine, { jobId, iterationDepth: limits.iterationDepth }).start();
      if (!admission.admitted) actor.send({ type: 'SCHEDULE' });
      const { version, snapshot } = persistJobSnapshot(actor);
      actor.stop();
      const ref = { jobId, ownerId: owner.id, projectId, tier: owner.tier };

      if (!admission.admitted) {
        const scheduledFor = releaseTime(now, deps.jitterMs, deps.random);
        const message = DEFAULT_SCHEDULE_MESSAGE;
        await jobs.insertJob({ id: jobId, ownerId: owner.id, projectId, tier: owner.tier, goal, status: 'scheduled', message, now, scheduledFor, snapshot, machineVersion: version });
        await deps.publisher.publish(ref, { seq: 1, from: null, to: 'scheduled', message, iteration: 0, at: now });
        return {
          jobId,
          status: 'scheduled',
          position: null,
          estimatedWait: null,
          usage: await counters(owner, admission),
          message,
          scheduledFor: new Date(scheduledFor).toISOString(),
        };
      }

      const refuse = async (queuedNow: number) => {
        await stores.quotas.refund(owner.id, admission.date);
        const averageSeconds = await stores.estimator.average(owner.tier, limits.defaultJobSeconds);
        return new WardenError('QUEUE_FULL', 'The queue is full; try again later', {
          retryAfterMinutes: queueRetryAfterMinutes({ averageSeconds, workers: (await deps.capacity()).workers }),
          queued: queuedNow,
          cap: deps.queueCap,
        });
      };
      // Cheap early refusal; the atomic check is the enqueue below.
      const length = await stores.queue.length();
      if (length >= deps.queueCap) throw await refuse(length);
      try {
        await jobs.insertJob({ id: jobId, ownerId: owner.id, projectId, tier: owner.tier, goal, status: 'queued', now, snapshot, machineVersion: version });
      } catch (error) {
        await stores.quotas.refund(owner.id, admission.date);
        throw error;
      }
      // Stored before it is queued, so a worker never takes a job it cannot load.
      const enqueued = await stores.queue.enqueue(jobId, limits.queueBoost, deps.queueCap);
      if (!enqueued.ok) {
        await deps.queries.deleteJob(jobId);
        throw await refuse(enqueued.queued);
      }
      await deps.publisher.publish(ref, { seq: 1, from: null, to: 'queued', message: STAGE_LABELS.queued, iteration: 0, at: now });
      queued();
      const [averageSeconds, capacity] = await Promise.all([stores.estimator.average(owner.tier, limits.defaultJobSeconds), deps.capacity()]);
      const estimatedWait = estimateWait({ averageSeconds, position: enqueued.position, workers: capacity.workers, idle: capacity.idle });
      return {
        jobId,
        status: 'queued',
        position: enqueued.position,
        estimatedWait,
        usage: await counters(owner, admission),
        message: `Queued at position ${enqueued.position}. Estimated wait: ${estimatedWait.text}.`,
        scheduledFor: null,
      };
    },

    async get(owner, jobId) {
      const row = await owned(owner, jobId);
      const [hot, position] = await Promise.all([
        unlessRedisDown(stores.transitions.get(jobId), null),
        isTerminal(row.status) || row.status === 'scheduled' ? null : unlessRedisDown(stores.queue.position(jobId), null),
      ]);
      const summary = toJobSummary(row);
      const message = hot && hot.seq === row.seq ? hot.message : (row.error ?? summary.stageLabel);
      return { ...summary, message, position };
    },

    async list(owner, options = {}) {
      const o = listJobsFilter.parse(options);
      const page = await jobs.listJobs({
        ownerId: owner.id,
        ...(o.projectId === undefined ? {} : { projectId: o.projectId }),
        ...(o.status === undefined ? {} : { status: o.status }),
        ...(o.limit === undefined ? {} : { limit: o.limit }),
        cursor: o.cursor ?? null,
      });
      return { items: page.items.map(toJobSummary), nextCursor: page.nextCursor };
    },

    async confirm(owner, jobId) {
      let row = await owned(owner, jobId);
      for (let attempt = 0; attempt < 5; attempt++) {
        if (!row.awaitingConfirmation) {
          const cap = hardIterationCap({ iterationDepth: resolveTier(tiers, row.tier).iterationDepth });
          if (row.status === 'failed' && row.iteration >= cap) {
            throw new WardenError('ITERATION_CAP', `${ITERATION_CAP_MESSAGE}: no confirmation can continue this job`, { jobId, iteration: row.iteration, cap });
          }
          throw new WardenError('NOT_AWAITING_CONFIRMATION', `job is ${row.status}, not awaiting confirmation`, { jobId, status: row.status });
        }
        const result = await applyToStoredJob(deps, row, [{ type: 'CONFIRM', by: owner.id }]);
        if (result.ok) {
          const boost = resolveTier(tiers, row.tier).queueBoost;
          const enqueued = await stores.queue.enqueue(jobId, boost, NO_QUEUE_CAP);
          queued();
          return { jobId, status: result.status, iteration: result.iteration, position: enqueued.ok ? enqueued.position : null };
        }
        if ('rejection' in result) throw rejectionToError(result.rejection, jobId);
        row = await owned(owner, jobId);
      }
      throw new WardenError('CONFLICT', 'The job kept changing; try again', { entity: 'job', id: jobId, reason: 'concurrent writes' });
    },

    async cancel(owner, jobId) {
      await owned(owner, jobId);
      return toJobSummary(await failJob(deps, jobId, CANCEL_REASON, { wait: true }));
    },

    async events(owner, jobId, options = {}) {
      const row = await owned(owner, jobId);
      const afterSeq = options.lastEventId ?? null;
      // A finished job whose last event the client already has (it reconnected after the terminal event):
      // nothing more will come, so the stream ends at once instead of waiting for live events forever.
      if (afterSeq !== null && afterSeq >= row.seq && isTerminal(row.status)) return noEvents();
      return streamJobEvents({ jobs, events: stores.events }, jobId, afterSeq, options.signal);
    },

    async usage(owner) {
      // Two independent reads (Redis, PostgreSQL): waited for together, not one after the other.
      const [usage, iterations] = await Promise.all([
        stores.quotas.usage(owner.id, resolveTier(tiers, owner.tier).dailyJobs),
        iterationUsage(owner),
      ]);
      return counters(owner, usage, Promise.resolve(iterations));
    },

    iterationUsage,
  };
}
