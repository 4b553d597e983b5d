import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobStatus } from '../../actors/jobTransitions.js';
import { systemClock, type Clock } from '../clock.js';
import type { WardenConfig } from '../config.js';
import type { Sql } from '../db/client.js';
import { addDailyTokens } from '../db/dailyUsageRepository.js';
import { createJobRuntimeQueries } from '../db/jobRuntimeQueries.js';
import { createJobsRepository } from '../db/jobsRepository.js';
import { createProjectsRepository } from '../db/projectsRepository.js';
import type { WardenMetrics } from '../metrics.js';
import type { HotStores } from '../redis/hotStores.js';
import type { JobToRun } from '../db/jobRuntimeQueries.js';
import { unreachableService } from '../unavailable.js';
import { createDemoStepHandlers } from './demoStepHandlers.js';
import { createGroupCommitter } from './groupCommitter.js';
import { failJob } from './failJob.js';
import type { RunOutcome } from './jobRunner.js';
import { createJobService, type JobService } from './jobService.js';
import type { ActorInspector } from './jobSession.js';
import { createHotStateRebuild, type RebuildSummary } from './hotStateRebuild.js';
import { createPeriodic, type Periodic } from './periodic.js';
import { createHandBackBacklog } from './handBackBacklog.js';
import { createPublishBacklog } from './publishBacklog.js';
import { createRecovery } from './recovery.js';
import { createScheduler } from './scheduler.js';
import type { StepHandlers } from './stepHandlers.js';
import { createTransitionPublisher, type StoredTransition } from './transitionPublisher.js';
import type { JobRef } from './jobSession.js';
import { createTransitionRecorder } from './transitionRecorder.js';
import { createWaker } from './waker.js';
import { createWorkerLoop } from './workerLoop.js';

/** A job that reached a terminal status (for risk signals); reported once, by the process that published it. */
export interface FinishedJob {
  jobId: string;
  ownerId: string;
  projectId: string;
  tier: string;
  status: Extract<JobStatus, 'ready' | 'failed'>;
  /** The failure reason, or "Build complete!". */
  message: string;
  iteration: number;
  seq: number;
  finishedAt: string;
}

export type RuntimeConfig = Pick<
  WardenConfig,
  'workers' | 'stepMs' | 'checksFailRate' | 'leaseSeconds' | 'heartbeatSeconds' | 'queueCap' | 'maxJobAgeHours' | 'midnightJitterSeconds' | 'tiers'
>;

export interface JobRuntimeOptions {
  sql: Sql;
  /**
   * Where the group commit runs: its own connections (one per commit lane) with generic plans, see
   * `createCommitSql`. Default: `sql`, with PostgreSQL's default planning (correct, slower).
   */
  commitSql?: Sql;
  stores: HotStores;
  config: RuntimeConfig;
  clock?: Clock;
  /** Default: the demo handlers (WARDEN_STEP_MS, WARDEN_CHECKS_FAIL_RATE). */
  stepHandlers?: StepHandlers;
  /** A job reached ready or failed (risk signals). Errors it throws are reported, never propagated. */
  onJobFinished?: (job: FinishedJob) => void | Promise<void>;
  /** Every error the runtime handles without failing a request (a logger's error method fits). */
  onError?: (error: unknown, context: { jobId?: string; during: string }) => void;
  /** Each hosted job's end, with how it ended (tests, metrics). */
  onRunOutcome?: (jobId: string, outcome: RunOutcome) => void;
  /** This process starts hosting a job; `onRunOutcome` says when it lets go (the actor inspector). */
  onJobHosted?: (job: JobRef) => void;
  /** Each transition this process published, with the time it was accepted (bench: accepted → published). */
  onTransitionPublished?: (jobId: string, transition: StoredTransition) => void;
  metrics?: Pick<WardenMetrics, 'transitions'>;
  /** XState's inspect hook for every job actor this process opens (the actor inspector). */
  inspect?: ActorInspector;
  /** Names this process in claims (default host:pid:random). */
  processId?: string;
  random?: () => number;
  /** Longest idle wait of a worker before looking at the queue without a wake-up (default 1,000 ms). */
  pollMs?: number;
  /** How often due scheduled jobs are released (default 1,000 ms). */
  schedulerIntervalMs?: number;
  /** How often old jobs are failed (default 60,000 ms). */
  maxAgeIntervalMs?: number;
  /** How often the hot state's epoch is checked (default 2,000 ms). */
  hotStateCheckMs?: number;
  /** How often the jobs hosted here are looked up for fail requests kept in PostgreSQL (default 2,000 ms). */
  failRequestCheckMs?: number;
  /** The hot state was rebuilt from PostgreSQL (logged by the server). */
  onRebuilt?: (summary: RebuildSummary) => void;
  /** How long stop() lets running steps reach their transition before handing the jobs back (default 10 s). */
  shutdownGraceMs?: number;
}

export interface JobRuntime {
  readonly service: JobService;
  readonly processId: string;
  /** Subscribes to the control channel and starts the worker loop, heartbeats, recovery and scheduler. */
  start(): Promise<void>;
  /** Shutdown phase "intake": stop claiming jobs. */
  stopTaking(): Promise<void>;
  /**
   * Shutdown phase "drain": stop claiming, let running steps reach their transition (grace), hand every
   * hosted job back to the queue, stop the periodic tasks, drain the group commit. Idempotent.
   */
  stop(): Promise<void>;
  /** Jobs whose actors this process holds in memory now. */
  hostedCount(): number;
  /** Each periodic task once, now (tests drive them with a manual clock instead of waiting). */
  readonly tasks: {
    reclaimExpired(): Promise<string[]>;
    requeueOrphans(): Promise<number>;
    releaseDue(): Promise<number>;
    failOverAge(): Promise<number>;
    /** Rebuilds the hot state if its epoch says it was lost. */
    checkHotState(): Promise<void>;
    /** Publishes what an outage left unpublished; returns how many jobs still wait. */
    flushPublishBacklog(): Promise<number>;
  };
}

const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max);
/** How long a process stays in the runner registry without renewing (it renews every second). */
const RUNNER_LEASE_MS = 5_000;

/**
 * The job runtime of one process: the job service, a worker loop with `config.workers` runners,
 * the transition recorder (group commit to PostgreSQL, then publish on the hot stores), takeover of
 * expired claims, the orphan sweep, the scheduler and the max-age sweep. The server calls start() once
 * it is up, stopTaking() in its intake phase and stop() in its drain phase, then closes the pools.
 */
export function createJobRuntime(options: JobRuntimeOptions): JobRuntime {
  const { sql, stores, config } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const processId = options.processId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const onError = options.onError ?? ((error: unknown, context: { during: string }) => process.emitWarning(`job runtime (${context.during}): ${String(error)}`));
  const leaseMs = config.leaseSeconds * 1000;
  const inspect = options.inspect ? { inspect: options.inspect } : {};

  const jobs = createJobsRepository(sql);
  const queries = createJobRuntimeQueries(sql);
  const publisher = createTransitionPublisher({
    ...(options.onTransitionPublished ? { onPublished: (ref: JobRef, t: StoredTransition) => options.onTransitionPublished?.(ref.jobId, t) } : {}),
    transitions: stores.transitions,
    jobs,
    onError: (error, context) => onError(error, { jobId: context.jobId, during: 'publish' }),
    onTerminal: (ref, event) => {
      if (!options.onJobFinished || (event.status !== 'ready' && event.status !== 'failed')) return;
      const finished: FinishedJob = { ...ref, status: event.status, message: event.message, iteration: event.iteration, seq: event.seq, finishedAt: event.timestamp };
      void Promise.resolve()
        .then(() => options.onJobFinished?.(finished))
        .catch((error: unknown) => onError(error, { jobId: ref.jobId, during: 'onJobFinished' }));
    },
  });
  const backlog = createPublishBacklog({ publisher, onError: (error, context) => onError(error, { jobId: context.jobId, during: 'publish catch-up' }) });
  const handBacks = createHandBackBacklog({ claims: stores.claims, onError: (error, context) => onError(error, { jobId: context.jobId, during: 'hand back' }) });
  const recorder = createTransitionRecorder({
    jobs: options.commitSql ? createJobsRepository(options.commitSql) : jobs,
    publisher,
    backlog,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    onPublishError: (error, context) => onError(error, { jobId: context.jobId, during: 'publish' }),
  });
  const stored = { recorder, tiers: config.tiers, clock, ...inspect };
  // Jobs claimed together are loaded together: one query for a burst of claims.
  const loader = createGroupCommitter<string, JobToRun | null>((ids) => queries.loadJobsToRun(ids), { maxBatch: 200 });
  const waker = createWaker({
    local: () => loop.wake(),
    control: stores.control,
    onError: (error) => onError(error, { during: 'wake' }),
  });

  const loop = createWorkerLoop({
    runner: {
      loadJob: (jobId) => loader.submit(jobId),
      recorder,
      publisher,
      stores,
      recordTokens: (userId, tokens) => addDailyTokens(sql, userId, clock.now(), tokens),
      pausedMs: (jobId) => queries.pausedMs(jobId),
      handBacks,
      stepHandlers: options.stepHandlers ?? createDemoStepHandlers({ stepMs: config.stepMs, checksFailRate: config.checksFailRate, random }),
      tiers: config.tiers,
      clock,
      ...inspect,
      onError,
    },
    stores,
    jobs,
    tiers: config.tiers,
    workers: config.workers,
    processId,
    leaseMs,
    heartbeatMs: config.heartbeatSeconds * 1000,
    pollMs: options.pollMs ?? 1000,
    ...(options.onRunOutcome ? { onOutcome: options.onRunOutcome } : {}),
    ...(options.onJobHosted ? { onHost: options.onJobHosted } : {}),
    onSlotsFreed: () => waker.wake(),
    onError,
  });

  const failDeps = { ...stored, jobs, queries, stores };
  const service = createJobService({
    ...stored,
    jobs,
    projects: createProjectsRepository(sql),
    queries,
    stores,
    publisher,
    queueCap: config.queueCap,
    capacity: async () => {
      const live = await stores.runners.live();
      return {
        workers: live.reduce((sum, r) => sum + r.workers, 0),
        idle: live.reduce((sum, r) => sum + Math.max(0, r.workers - r.busy), 0),
      };
    },
    jitterMs: config.midnightJitterSeconds * 1000,
    random,
    wake: () => waker.wake(),
  });
  const rebuild = createHotStateRebuild({
    sql,
    stores,
    claims: stores.claims,
    tiers: config.tiers,
    clock,
    leaseMs,
    singleProcess: stores.kind === 'memory',
  });
  const checkHotState = async () => {
    const summary = await rebuild.check();
    if (summary) {
      options.onRebuilt?.(summary);
      if (summary.queued > 0) waker.wake();
    }
  };
  const recovery = createRecovery({ claims: stores.claims, queries, tiers: config.tiers, clock, leaseMs, onRequeued: () => waker.wake() });
  const scheduler = createScheduler({
    queries,
    stores,
    stored,
    failJob: (jobId, reason) => failJob(failDeps, jobId, reason, { wait: false }),
    tiers: config.tiers,
    clock,
    jitterMs: config.midnightJitterSeconds * 1000,
    random,
    maxJobAgeMs: config.maxJobAgeHours * 3_600_000,
    onQueued: () => waker.wake(),
    onError,
  });

  /**
   * Fail requests of the jobs hosted here, as PostgreSQL keeps them: a host that missed the control
   * message and whose Redis copy is gone (Redis came back empty) still fails the job at its next boundary.
   */
  const applyStoredFailRequests = async () => {
    if (loop.hosted.size === 0) return;
    for (const [jobId, reason] of await queries.failRequests([...loop.hosted.keys()])) loop.requestFail(jobId, reason);
  };

  // During an outage every periodic task fails every time it runs: report that once a minute per task,
  // not once a second (the Redis connection's outage is logged once by its watch).
  const quietUntil = new Map<string, number>();
  const periodicError = (during: string) => (error: unknown) => {
    if (unreachableService(error) !== null) {
      const now = Date.now();
      if ((quietUntil.get(during) ?? 0) > now) return;
      quietUntil.set(during, now + 60_000);
    }
    onError(error, { during });
  };
  // This process's runners in the live registry, renewed every second (the lease outlives a few misses).
  const announce = () => stores.runners.announce(processId, { workers: config.workers, busy: loop.hosted.size }, RUNNER_LEASE_MS);
  const periodic: Periodic[] = [
    createPeriodic(announce, 1_000, periodicError('runner registry')),
    // A missing or changed epoch means Redis came back empty: rebuild it from the record.
    createPeriodic(checkHotState, options.hotStateCheckMs ?? 2_000, periodicError('hot state rebuild')),
    createPeriodic(async () => void (backlog.size() > 0 && (await backlog.flush())), 1_000, periodicError('publish catch-up')),
    createPeriodic(async () => void (handBacks.size() > 0 && (await handBacks.flush())), 1_000, periodicError('hand back')),
    createPeriodic(async () => void (await recovery.reclaimExpired()), clamp(leaseMs / 4, 250, 15_000), periodicError('reclaim')),
    createPeriodic(async () => void (await recovery.requeueOrphans()), clamp(leaseMs, 1_000, 60_000), periodicError('orphans')),
    createPeriodic(async () => void (await scheduler.releaseDue()), options.schedulerIntervalMs ?? 1_000, periodicError('release')),
    createPeriodic(async () => void (await scheduler.failOverAge()), options.maxAgeIntervalMs ?? 60_000, periodicError('max age')),
    createPeriodic(applyStoredFailRequests, options.failRequestCheckMs ?? 2_000, periodicError('fail requests')),
  ];
  let unsubscribe: (() => Promise<void>) | null = null;
  let stopping: Promise<void> | null = null;

  return {
    service,
    processId,
    async start() {
      unsubscribe ??= await stores.control.subscribe((message) => {
        if (message.type === 'wake') loop.wake();
        else loop.requestFail(message.jobId, message.reason);
      });
      // Before the first claim: after a restart the queue and counters are back before anything runs.
      await checkHotState();
      await announce();
      for (const task of periodic) task.start();
      loop.start();
    },
    stopTaking: () => loop.stopTaking(),
    stop() {
      stopping ??= (async () => {
        await loop.stop(options.shutdownGraceMs ?? 10_000);
        await Promise.all(periodic.map((task) => task.stop()));
        await stores.runners.remove(processId).catch((error: unknown) => onError(error, { during: 'runner registry' }));
        await recorder.drain();
        await unsubscribe?.();
      })();
      return stopping;
    },
    hostedCount: () => loop.hosted.size,
    tasks: {
      reclaimExpired: () => recovery.reclaimExpired(),
      requeueOrphans: () => recovery.requeueOrphans(),
      releaseDue: () => scheduler.releaseDue(),
      failOverAge: () => scheduler.failOverAge(),
      checkHotState,
      flushPublishBacklog: () => backlog.flush(),
    },
  };
}
