/**
 * Every Redis key and channel name Warden uses, built in this one place from a prefix. A test file gets
 * its own prefix, so files share one Redis without seeing each other.
 */
export function createKeys(prefix: string) {
  const k = (...parts: string[]) => `${prefix}${parts.join(':')}`;
  return {
    prefix,
    /** Hash: the hot copy of one job (status, seq, iteration, owner …). */
    job: (jobId: string) => k('job', jobId),
    /** Channel: live transition events of one job. */
    jobEvents: (jobId: string) => k('events', 'job', jobId),
    /** Channel: live transition events of every job. */
    allJobEvents: () => k('events', 'jobs'),
    /** String counter: jobs admitted for a user on a UTC date. */
    dailyJobs: (userId: string, date: string) => k('quota', 'jobs', userId, date),
    /** String counter: tokens used by a user on a UTC date. */
    dailyTokens: (userId: string, date: string) => k('quota', 'tokens', userId, date),
    /** Sorted set: the queue, scored (1000 − boost) × 1e12 + counter. */
    queue: () => k('queue'),
    /** String counter: the FIFO tie-breaker of the queue score. */
    queueCounter: () => k('queue', 'counter'),
    /** Sorted set of holders scored by lease expiry (ms): a user's concurrency slots. */
    userSlots: (userId: string) => k('slots', 'user', userId),
    /** Sorted set of holders scored by lease expiry (ms): a project's concurrency slots. */
    projectSlots: (projectId: string) => k('slots', 'project', projectId),
    /** Hash: the wait estimator's moving average per tier. */
    durations: () => k('estimator', 'durations'),
    /** Channel: risk facts (event bus). */
    riskEvents: (scope: string) => k('events', 'risk', scope),
    /** Channel: actor inspection events. */
    inspection: () => k('events', 'inspect'),
    /** Hash/list: the inspector's ring buffer of one actor. */
    inspectionRing: (jobId: string) => k('inspect', 'ring', jobId),
    /** Sorted set: processes whose inspector is alive, scored by heartbeat expiry (ms). */
    inspectionHosts: () => k('inspect', 'hosts'),
    /** Hash: job id → JSON of a live actor, one per hosting process; expires with its heartbeat. */
    inspectionActors: (processId: string) => k('inspect', 'actors', processId),
    /** Channel: control messages between processes (cancel, confirm). */
    control: () => k('events', 'control'),
    /** Sorted set: jobs a worker holds (claimed from the queue), scored by lease expiry (ms). */
    claims: () => k('claims'),
    /** Hash: job id → JSON of its claim (holder process, fencing token, queue score, user, project). */
    claimInfo: () => k('claims', 'info'),
    /** Hash: process id → JSON of its job runners (workers, busy) with a lease expiry (ms). */
    runners: () => k('runners'),
    /** String: the id of the last rebuild from PostgreSQL; missing or changed = Redis lost its data. */
    epoch: () => k('epoch'),
    /** String: a pending request to fail a job (cancel, max age), holding the reason; read at boundaries. */
    failRequest: (jobId: string) => k('claims', 'fail', jobId),
  };
}

export type Keys = ReturnType<typeof createKeys>;
