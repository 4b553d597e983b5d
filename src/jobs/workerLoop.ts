import { randomUUID } from 'node:crypto';
import type { JobsRepository } from '../db/jobsRepository.js';
import { resolveTier, type TierTable } from '../domain/tiers.js';
import type { HotStores } from '../redis/hotStores.js';
import type { QueueEntry } from '../redis/queueStore.js';
import { hostJob, type HostedJob, type JobRunnerDeps, type RunOutcome } from './jobRunner.js';
import type { JobRef } from './jobSession.js';

export interface WorkerLoopOptions {
  runner: JobRunnerDeps;
  stores: Pick<HotStores, 'queue' | 'transitions' | 'claims'>;
  jobs: Pick<JobsRepository, 'getJob'>;
  tiers: TierTable;
  /** Jobs run at once by this process (WARDEN_WORKERS); 0 takes none. */
  workers: number;
  processId: string;
  leaseMs: number;
  heartbeatMs: number;
  /** Longest idle wait before looking at the queue again without a wake-up. */
  pollMs: number;
  /** A job whose snapshot this process cannot restore is left to others for this long. */
  skipMs?: number;
  onOutcome?: (jobId: string, outcome: RunOutcome) => void;
  /** This process starts hosting a job (the inspector lists it as live until onOutcome). */
  onHost?: (ref: JobRef) => void;
  /** Slots were freed: tell the other processes (coalesced), whose jobs may have waited for them. */
  onSlotsFreed: () => void;
  onError: (error: unknown, context: { jobId?: string; during: string }) => void;
}

export interface WorkerLoop {
  start(): void;
  /** Look at the queue now (a job was queued, slots were freed). */
  wake(): void;
  /** Fail a job this process hosts at its next boundary; false when it is not hosted here. */
  requestFail(jobId: string, reason: string): boolean;
  /** Jobs hosted now (memory grows with these, not with all jobs). */
  readonly hosted: ReadonlyMap<string, HostedJob>;
  /** Stops claiming; running jobs go on. */
  stopTaking(): Promise<void>;
  /**
   * Stops claiming, lets running steps reach their transition for `graceMs`, then abandons the steps
   * still running; every job still hosted is handed back to the queue under its score.
   */
  stop(graceMs: number): Promise<void>;
}

/** Candidates looked at per round, at least; more when the first ones are blocked. */
const MIN_PEEK = 16;
const MAX_PEEK = 2000;
const MAX_CACHED_REFS = 10_000;

/**
 * The worker loop of one process: claim the best queued jobs whose user and project
 * slots are free (a blocked job keeps its place: claiming is atomic with the slots, see claimJob.lua),
 * host each, heartbeat their claims, and sleep when there is nothing to take until woken or `pollMs`.
 */
export function createWorkerLoop(options: WorkerLoopOptions): WorkerLoop {
  const { stores, tiers } = options;
  const hosted = new Map<string, HostedJob>();
  /** Candidates seen: who each job is, and the seq its hot copy had then (a lower bound: it only grows). */
  const refs = new Map<string, { ref: JobRef; publishedSeq: number | null }>();
  const skipped = new Map<string, number>();
  let taking = false;
  let loop: Promise<void> | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let wakePending = false;
  let wakeNow: (() => void) | null = null;

  const wake = () => {
    if (wakeNow) wakeNow();
    else wakePending = true;
  };
  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (wakePending) {
        wakePending = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeNow = null;
        resolve();
      }
      wakeNow = done;
    });

  /**
   * Owner, project and tier of a queued job: cached, else its hot copy, else PostgreSQL. A hot read also
   * gives the seq published so far, which spares the runner a catch-up read; cached, it may be behind the
   * hot copy (never ahead), and a runner that finds it behind the stored seq reads the hot copy again.
   */
  const refOf = async (jobId: string): Promise<{ ref: JobRef; publishedSeq: number | null } | null> => {
    const cached = refs.get(jobId);
    if (cached) return cached;
    const hot = await stores.transitions.get(jobId);
    let found: { ref: JobRef; publishedSeq: number | null } | null = null;
    if (hot) found = { ref: { jobId, ownerId: hot.ownerId, projectId: hot.projectId, tier: hot.tier }, publishedSeq: hot.seq };
    else {
      const row = await options.jobs.getJob(null, jobId);
      if (row) found = { ref: { jobId, ownerId: row.ownerId, projectId: row.projectId, tier: row.tier }, publishedSeq: null };
    }
    if (found) refs.set(jobId, found);
    return found;
  };

  const host = (ref: JobRef, token: string, found: { failRequest: string | null; publishedSeq: number | null; score: number }) => {
    options.onHost?.(ref);
    const restore = { holder: options.processId, score: found.score };
    const job = hostJob(options.runner, { jobId: ref.jobId, token, userId: ref.ownerId, projectId: ref.projectId, restore }, found);
    hosted.set(ref.jobId, job);
    void job.done
      .catch((error: unknown): RunOutcome => {
        options.onError(error, { jobId: ref.jobId, during: 'host' });
        return 'handed_back';
      })
      .then((outcome) => {
        hosted.delete(ref.jobId);
        refs.delete(ref.jobId);
        if (outcome === 'incompatible') skipped.set(ref.jobId, options.runner.clock.now() + (options.skipMs ?? 60_000));
        options.onOutcome?.(ref.jobId, outcome);
        // Slots were freed: this process and the others may start a job that waited for them.
        wake();
        // A lost job's claim (and slots) belong to its new holder.
        if (outcome !== 'lost') options.onSlotsFreed();
      });
  };

  /** Claims as many runnable jobs as there are free workers; true when it claimed any. */
  const fill = async (): Promise<boolean> => {
    const now = options.runner.clock.now();
    for (const [jobId, until] of skipped) if (until <= now) skipped.delete(jobId);
    // Candidates seen but never claimed here (taken elsewhere) would otherwise stay cached forever.
    if (refs.size > MAX_CACHED_REFS) for (const jobId of refs.keys()) if (!hosted.has(jobId)) refs.delete(jobId);
    let peek = Math.max(MIN_PEEK, (options.workers - hosted.size) * 4) + skipped.size;
    let claimedAny = false;
    for (;;) {
      if (hosted.size >= options.workers || !taking) return claimedAny;
      const entries = await stores.queue.peek(peek);
      const claimed = await claimFrom(entries);
      claimedAny ||= claimed;
      // Every candidate looked at was blocked or taken but the queue goes on: look further.
      if (claimed || entries.length < peek || peek >= MAX_PEEK) return claimedAny;
      peek = Math.min(peek * 4, MAX_PEEK);
    }
  };

  /**
   * Tries the candidates best first, as many at once as there are free workers (so this process never
   * claims more than it can run); users and projects found full are skipped for the rest of the round.
   */
  const claimFrom = async (entries: QueueEntry[]): Promise<boolean> => {
    const candidates = entries.filter((e) => !skipped.has(e.jobId) && !hosted.has(e.jobId));
    const found = await Promise.all(candidates.map((e) => refOf(e.jobId)));
    const fullUsers = new Set<string>();
    const fullProjects = new Set<string>();
    let claimedAny = false;
    let next = 0;
    while (next < candidates.length && taking) {
      const free = options.workers - hosted.size;
      if (free <= 0) break;
      const batch: { entry: QueueEntry; ref: JobRef; publishedSeq: number | null }[] = [];
      for (; next < candidates.length && batch.length < free; next++) {
        const entry = candidates[next];
        const ref = found[next];
        if (!entry) continue;
        if (!ref) {
          // Queued but stored nowhere (not expected): nothing could ever run it.
          await stores.queue.remove(entry.jobId);
          continue;
        }
        if (fullUsers.has(ref.ref.ownerId) || fullProjects.has(ref.ref.projectId)) continue;
        batch.push({ entry, ...ref });
      }
      const results = await Promise.all(
        batch.map(({ entry, ref }) => {
          const limits = resolveTier(tiers, ref.tier);
          const token = randomUUID();
          return stores.claims
            .claim({
              jobId: ref.jobId,
              token,
              userId: ref.ownerId,
              projectId: ref.projectId,
              score: entry.score,
              holder: options.processId,
              userLimit: limits.concurrentPerUser,
              projectLimit: limits.concurrentPerProject,
              leaseMs: options.leaseMs,
            })
            .then((result) => ({ result, token }));
        }),
      );
      for (const [i, { result, token }] of results.entries()) {
        const claim = batch[i];
        if (!claim) continue;
        if (result.claimed) {
          claimedAny = true;
          host(claim.ref, token, { failRequest: result.failRequest, publishedSeq: claim.publishedSeq, score: result.score });
        } else if (result.reason === 'user_full') fullUsers.add(claim.ref.ownerId);
        else if (result.reason === 'project_full') fullProjects.add(claim.ref.projectId);
        // Taken by another process (or cancelled): it will not be a candidate here again.
        else refs.delete(claim.ref.jobId);
      }
    }
    return claimedAny;
  };

  const run = async () => {
    while (taking) {
      let claimed = false;
      try {
        claimed = await fill();
      } catch (error) {
        options.onError(error, { during: 'claim' });
      }
      if (!taking) break;
      // Claimed and room left: look again at once. Otherwise wait for a wake-up (a job queued, a job
      // finished here or elsewhere) or the poll interval.
      if (!claimed || hosted.size >= options.workers) await idle(options.pollMs);
    }
  };

  const renewAll = async () => {
    await Promise.all(
      [...hosted.values()].map(async (job) => {
        if (!job.holding) return;
        try {
          // Renewed unless the runner let go meanwhile (then a false answer means nothing).
          if (!(await stores.claims.renew(job.claim, options.leaseMs)) && job.holding) {
            options.onError(new Error(`claim of job ${job.claim.jobId} was lost`), { jobId: job.claim.jobId, during: 'heartbeat' });
            job.lose();
          }
        } catch (error) {
          options.onError(error, { jobId: job.claim.jobId, during: 'heartbeat' });
        }
      }),
    );
  };

  const stopTaking = async () => {
    taking = false;
    wake();
    await loop;
  };

  return {
    start() {
      if (taking || options.workers <= 0) return;
      taking = true;
      heartbeat ??= setInterval(() => void renewAll(), options.heartbeatMs);
      loop = run();
    },
    wake,
    requestFail(jobId, reason) {
      const job = hosted.get(jobId);
      job?.requestFail(reason);
      return job !== undefined;
    },
    hosted,
    stopTaking,
    async stop(graceMs) {
      await stopTaking();
      const all = () => Promise.all([...hosted.values()].map((job) => job.done.catch(() => undefined)));
      for (const job of hosted.values()) job.handBack(false);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      if ((await Promise.race([all(), grace])) === 'timeout') for (const job of hosted.values()) job.handBack(true);
      clearTimeout(timer);
      await all();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
    },
  };
}
