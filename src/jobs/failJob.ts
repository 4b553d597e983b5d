import { isTerminal } from '../../actors/jobTransitions.js';
import type { JobRow } from '../db/jobRows.js';
import type { JobRuntimeQueries } from '../db/jobRuntimeQueries.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import { resolveTier } from '../domain/tiers.js';
import { WardenError, notFound } from '../errors.js';
import type { HotStores } from '../redis/hotStores.js';
import { rejectionToError } from '../../actors/sendJobEvent.js';
import { applyToStoredJob, type StoredJobDeps } from './applyToStoredJob.js';

export const CANCEL_REASON = 'Cancelled by owner';

export interface FailJobDeps extends StoredJobDeps {
  jobs: Pick<JobsRepository, 'getJob'>;
  queries: Pick<JobRuntimeQueries, 'recordFailRequest'>;
  stores: Pick<HotStores, 'queue' | 'events' | 'claims' | 'control'>;
}

export interface FailJobOptions {
  /** Wait until the job has failed (cancel); otherwise leave a request with its host and return (sweeps). */
  wait: boolean;
  /** How long one wait for the hosting process lasts before the job is looked at again (default 1 s). */
  recheckMs?: number;
  /** Looks before giving up waiting (default 20); the request stays and applies when the job next moves. */
  attempts?: number;
}

/**
 * Fails a job with a reason from any process (cancel, max age). A job no worker holds — queued (taken out
 * of the queue first, atomically), scheduled (straight to failed, SPEC §2) or
 * paused for confirmation — is failed here, directly. A job a worker holds gets a fail request (kept in
 * PostgreSQL and Redis) and a control message: its host aborts the step and fails it at the boundary. A finished job refuses
 * with INVALID_TRANSITION. Returns the job's row as last read.
 */
export async function failJob(deps: FailJobDeps, jobId: string, reason: string, options: FailJobOptions): Promise<JobRow> {
  const attempts = options.attempts ?? 20;
  let row = await deps.jobs.getJob(null, jobId);
  for (let attempt = 0; ; attempt++) {
    if (!row) throw notFound('job', jobId);
    if (isTerminal(row.status)) {
      if (attempt === 0 || row.status === 'ready') throw terminalError(row);
      return row;
    }
    const removed = row.status !== 'scheduled' && !row.awaitingConfirmation && (await deps.stores.queue.remove(jobId));
    // Neither queued nor claimed (its process died, or Redis lost the queue): nobody hosts it, so it is
    // failed here rather than left a request nobody reads. A host that appears meanwhile is refused by
    // the seq check when it records its next transition.
    const unheld = !removed && row.status !== 'scheduled' && !row.awaitingConfirmation && (await deps.stores.claims.get(jobId)) === null;
    if (removed || unheld || row.status === 'scheduled' || row.awaitingConfirmation) {
      const result = await applyToStoredJob(deps, row, [{ type: 'FAIL', reason }]);
      if (!result.ok && 'rejection' in result) throw rejectionToError(result.rejection, jobId);
      if (result.ok) {
        await deps.stores.claims.clearFailRequest(jobId);
        return (await deps.jobs.getJob(null, jobId)) ?? row;
      }
      // Stale: someone moved it meanwhile. If it was taken out of the queue here, make sure it is runnable.
      if (removed) await deps.stores.claims.requeueOrphan(jobId, resolveTier(deps.tiers, row.tier).queueBoost);
    } else if (!options.wait || attempt >= attempts) {
      await requestFail(deps, jobId, reason);
      return row;
    } else {
      await requestAndWait(deps, jobId, reason, options.recheckMs ?? 1000);
    }
    row = await deps.jobs.getJob(null, jobId);
  }
}

/** Subscribes first, then asks the host, then waits for the job's next event (or a while, then looks again). */
async function requestAndWait(deps: FailJobDeps, jobId: string, reason: string, recheckMs: number): Promise<void> {
  let wakeUp: () => void = () => {};
  const moved = new Promise<void>((resolve) => (wakeUp = resolve));
  const unsubscribe = await deps.stores.events.subscribe(jobId, () => wakeUp());
  const timer = setTimeout(() => wakeUp(), recheckMs);
  try {
    await requestFail(deps, jobId, reason);
    await moved;
  } finally {
    clearTimeout(timer);
    await unsubscribe();
  }
}

/**
 * The request first, then the message: a host that misses the message finds the request. PostgreSQL
 * keeps the request (a host loading the job reads it; hosts look for their jobs' requests every few
 * seconds), so Redis coming back empty does not lose it; Redis carries it to the host at once.
 */
async function requestFail(deps: FailJobDeps, jobId: string, reason: string): Promise<void> {
  await deps.queries.recordFailRequest(jobId, reason);
  await deps.stores.claims.requestFail(jobId, reason);
  await deps.stores.control.publish({ type: 'fail', jobId, reason });
}

function terminalError(row: JobRow): WardenError {
  return new WardenError('INVALID_TRANSITION', `job is ${row.status}: terminal`, {
    jobId: row.id,
    from: row.status,
    event: 'FAIL',
    reason: `job is ${row.status}: terminal`,
  });
}
