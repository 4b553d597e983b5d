import type { JobMachineEvent } from '../../actors/jobLifecycle.machine.js';
import { STEP_STATUSES, isTerminal, type JobStatus, type StepStatus } from '../../actors/jobTransitions.js';
import type { Clock } from '../clock.js';
import type { JobRow } from '../db/jobRows.js';
import type { JobToRun } from '../db/jobRuntimeQueries.js';
import { resolveTier, TOKEN_LIMIT_MESSAGE, tokenBudget, type TierTable } from '../domain/tiers.js';
import { isWardenError } from '../errors.js';
import type { ClaimRef, FinishedDuration } from '../redis/claimStore.js';
import type { HotStores } from '../redis/hotStores.js';
import type { HandBackBacklog } from './handBackBacklog.js';
import { openJobSession, type ActorInspector, type JobSession } from './jobSession.js';
import { runStep } from './runStep.js';
import type { StepHandlers } from './stepHandlers.js';
import type { TransitionPublisher } from './transitionPublisher.js';
import type { TransitionRecorder } from './transitionRecorder.js';

export interface JobRunnerDeps {
  /** Loads a job to run (batched across the workers of this process). */
  loadJob: (jobId: string) => Promise<JobToRun | null>;
  recorder: TransitionRecorder;
  publisher: TransitionPublisher;
  stores: Pick<HotStores, 'tokens' | 'estimator' | 'claims'>;
  /** How long a job spent paused for confirmation (ms): not part of its duration for the wait estimate. */
  pausedMs?: (jobId: string) => Promise<number>;
  /** Records a step's tokens in PostgreSQL (daily_usage), the record the hot counter is rebuilt from. */
  recordTokens?: (userId: string, tokens: number) => Promise<void>;
  stepHandlers: StepHandlers;
  tiers: TierTable;
  clock: Clock;
  inspect?: ActorInspector;
  onError: (error: unknown, context: { jobId: string; during: string }) => void;
  /** Where a job goes whose hand-back failed (Redis unreachable), to be handed back when Redis answers. */
  handBacks?: Pick<HandBackBacklog, 'add'>;
}

/**
 * How a hosting ended. `finished`: terminal; `paused`: awaiting confirmation (not kept in memory);
 * `handed_back`: back in the queue under its score (shutdown, or an error); `lost`: another claim owns
 * the job now, nothing was touched; `skipped`: nothing to run (already finished, paused or gone);
 * `incompatible`: its snapshot cannot be restored by this process (handed back for another one).
 */
export type RunOutcome = 'finished' | 'paused' | 'handed_back' | 'lost' | 'skipped' | 'incompatible';

/** A job hosted by this process: the worker loop's handle on its runner. */
export interface HostedJob {
  readonly claim: ClaimRef;
  /** Fail the job at its next boundary with this reason; the running step is aborted. */
  requestFail(reason: string): void;
  /** Hand the job back at its next boundary; with `abortStep` the running step is abandoned too. */
  handBack(abortStep: boolean): void;
  /** The claim is lost (heartbeat): stop at once and write nothing more. */
  lose(): void;
  /** False once the runner lets go of the claim (the heartbeat no longer renews it). */
  readonly holding: boolean;
  readonly done: Promise<RunOutcome>;
}

/**
 * Hosts one claimed job: opens its actor from the last persisted snapshot, then
 * repeats "decide the next event (running the step handler when the status has one), send it, persist
 * and publish its transition" until the job is terminal or paused, and lets go of the claim. Every
 * transition is written before the next step starts, so a takeover resumes from exactly there; the step
 * in flight may run again, a transition never applies twice (the PostgreSQL seq check).
 */
export function hostJob(
  deps: JobRunnerDeps,
  claim: ClaimRef,
  /** What the claim found: a pending fail request, and the seq already published (to skip a catch-up read). */
  found: { failRequest: string | null; publishedSeq: number | null },
): HostedJob {
  let failReason: string | null = found.failRequest;
  let publishedSeq = found.publishedSeq;
  let handingBack = false;
  let lost = false;
  let holding = true;
  // One for the whole hosting: once a step is aborted (fail, hand back, lost), no later step starts.
  const stepAbort = new AbortController();
  const abortStep = () => stepAbort.abort();

  const run = async (): Promise<RunOutcome> => {
    // The publication of this runner's last transitions: awaited before the job is let go, so the next
    // holder never publishes ahead of it.
    let published: Promise<void> = Promise.resolve();
    const release = async (requeue: boolean, duration?: FinishedDuration) => {
      await published;
      holding = false;
      return deps.stores.claims.release(claim, { requeue, ...(duration ? { duration } : {}) });
    };
    const loaded = await deps.loadJob(claim.jobId);
    if (!loaded) {
      await release(false);
      return 'skipped';
    }
    let row = loaded.job;
    // PostgreSQL's copy of a fail request: Redis may have lost its own (it came back empty).
    failReason ??= loaded.failRequest;
    let session: JobSession | null = null;
    try {
      for (;;) {
        if (session === null) {
          const ref = { jobId: row.id, ownerId: row.ownerId, projectId: row.projectId, tier: row.tier };
          // A holder may have died between its commit and its publish: publish what it could not.
          if (publishedSeq === null || publishedSeq < row.seq) await deps.publisher.catchUp(ref, row.seq);
          publishedSeq = null;
          if (!isRunnable(row)) {
            await release(false);
            return 'skipped';
          }
          try {
            session = openJobSession(row, { tiers: deps.tiers, ...(deps.inspect ? { inspect: deps.inspect } : {}) });
          } catch (error) {
            if (!isWardenError(error, 'UNKNOWN_MACHINE_VERSION') && !isWardenError(error, 'INVALID_SNAPSHOT')) throw error;
            deps.onError(error, { jobId: claim.jobId, during: 'restore' });
            await release(true);
            return 'incompatible';
          }
        }
        if (lost) return 'lost';
        const status = session.status();
        if (isTerminal(status) || session.actor.getSnapshot().context.awaitingConfirmation) break;
        let event: JobMachineEvent | null;
        if (failReason !== null) event = { type: 'FAIL', reason: failReason };
        else if (handingBack) event = null;
        else if (status === 'queued') event = { type: 'START' };
        else if (status === 'starting') event = { type: 'BEGIN' };
        else if (isStepStatus(status)) event = await nextStepEvent(session, row, status, loaded.tokenBudgetOverride);
        else throw new Error(`job ${claim.jobId} is ${status} but was claimed`);
        if (lost) return 'lost';
        if (event === null) {
          // Handing back (shutdown): the step, if any, was abandoned; resume from the last transition.
          if (failReason !== null) continue;
          await release(true);
          return 'handed_back';
        }
        let sent = session.send(event);
        // `starting` has no step: its way on to scaffold goes into the same commit (one write, one publish
        // for the two), and both are durable before the scaffold step starts.
        if (sent.accepted && event.type === 'START') sent = session.send({ type: 'BEGIN' });
        if (!sent.accepted) throw new Error(`job ${claim.jobId}: ${sent.rejection.event} refused in ${sent.rejection.from}`);
        const result = await deps.recorder.record(session.ref, session.takePending(deps.clock.now()));
        published = result.published;
        if (!result.applied) {
          // Someone else moved the job. Still ours (the same claim)? Then carry on from what is stored.
          const info = await deps.stores.claims.get(claim.jobId);
          if (info?.token !== claim.token) return 'lost';
          const reloaded = await deps.loadJob(claim.jobId);
          if (!reloaded) {
            await release(false);
            return 'skipped';
          }
          row = reloaded.job;
          failReason ??= reloaded.failRequest ?? (await deps.stores.claims.failRequest(claim.jobId));
          session.stop();
          session = null;
          continue;
        }
        if (event.type === 'FAIL') await deps.stores.claims.clearFailRequest(claim.jobId);
        if (event.type === 'START') row = { ...row, startedAt: new Date(deps.clock.now()).toISOString() };
      }
      const finished = session !== null && isTerminal(session.status());
      // A job that was never confirmed never paused: its duration is known now and rides on the release
      // (one round trip); a confirmed one's pauses are read back from the log first.
      const paused = (session?.actor.getSnapshot().context.confirmations ?? 0) > 0;
      if (finished && paused) recordPausedDuration(row);
      await release(false, finished && !paused ? (durationOf(row, deps.clock.now(), 0) ?? undefined) : undefined);
      return finished ? 'finished' : 'paused';
    } catch (error) {
      deps.onError(error, { jobId: claim.jobId, during: 'run' });
      if (lost) return 'lost';
      // Back to the queue: whoever takes it resumes from the last persisted transition.
      await release(true).catch((err: unknown) => {
        deps.onError(err, { jobId: claim.jobId, during: 'hand back' });
        // Redis is unreachable: this process hands the job back once it answers, not a lease later.
        deps.handBacks?.add(claim, resolveTier(deps.tiers, row.tier).queueBoost);
      });
      return 'handed_back';
    } finally {
      session?.stop();
    }
  };

  /** The event a step's outcome sends, or null when the step was abandoned (hand back, fail, lost). */
  const nextStepEvent = async (session: JobSession, row: JobRow, status: StepStatus, override: number | null): Promise<JobMachineEvent | null> => {
    const budget = tokenBudget(resolveTier(deps.tiers, row.tier), override);
    if (budget !== -1) {
      const check = await deps.stores.tokens.check(row.ownerId, budget);
      // The code leads the reason, so a client reading the failed job knows why without parsing prose.
      if (!check.allowed) return { type: 'STEP_FAILED', reason: `TOKEN_BUDGET: ${TOKEN_LIMIT_MESSAGE(check.used, check.limit)}` };
    }
    const outcome = await runStep(deps.stepHandlers[status], {
      jobId: row.id,
      ownerId: row.ownerId,
      projectId: row.projectId,
      goal: row.goal,
      step: status,
      iteration: session.actor.getSnapshot().context.iteration,
      signal: stepAbort.signal,
    });
    if (outcome.kind === 'aborted') return null;
    if (outcome.kind === 'threw') return { type: 'STEP_FAILED', reason: outcome.reason };
    // Tokens count against the owner's daily budget (SPEC §4); the next step's check sees them.
    if (outcome.tokens) {
      const tokens = outcome.tokens.input + outcome.tokens.output;
      await deps.recordTokens?.(row.ownerId, tokens);
      await deps.stores.tokens.add(row.ownerId, tokens);
    }
    if (status === 'checks') return outcome.ok ? { type: 'CHECKS_PASSED' } : { type: 'CHECKS_FAILED', reason: outcome.reason };
    return outcome.ok ? { type: 'STEP_SUCCEEDED' } : { type: 'STEP_FAILED', reason: outcome.reason };
  };

  /**
   * What the wait estimator is fed: started → finished, less the time spent waiting for the owner's
   * confirmation (that is the owner's time, not the queue's); null when the job never started.
   */
  const durationOf = (row: JobRow, finishedAt: number, pausedMs: number): FinishedDuration | null => {
    if (row.startedAt === null) return null;
    const seconds = Math.max(0, (finishedAt - Date.parse(row.startedAt) - pausedMs) / 1000);
    return { tier: row.tier, seconds, defaultSeconds: resolveTier(deps.tiers, row.tier).defaultJobSeconds };
  };

  /** A confirmed job's duration, once its pauses are read back. Not awaited: nothing waits on the average. */
  const recordPausedDuration = (row: JobRow) => {
    const finishedAt = deps.clock.now();
    void (async () => {
      const pausedMs = (await deps.pausedMs?.(row.id)) ?? 0;
      const duration = durationOf(row, finishedAt, pausedMs);
      if (duration) await deps.stores.estimator.recordDuration(duration.tier, duration.seconds, duration.defaultSeconds);
    })().catch((err: unknown) => deps.onError(err, { jobId: row.id, during: 'estimator' }));
  };

  return {
    claim,
    requestFail(reason) {
      failReason ??= reason;
      abortStep();
    },
    handBack(abort) {
      handingBack = true;
      if (abort) abortStep();
    },
    lose() {
      lost = true;
      abortStep();
    },
    get holding() {
      return holding && !lost;
    },
    done: run(),
  };
}

function isStepStatus(status: JobStatus): status is StepStatus {
  return (STEP_STATUSES as readonly JobStatus[]).includes(status);
}

/** A stored job a worker can move: not finished, not paused, not scheduled. */
function isRunnable(row: JobRow): boolean {
  return !isTerminal(row.status) && !row.awaitingConfirmation && row.status !== 'scheduled';
}
