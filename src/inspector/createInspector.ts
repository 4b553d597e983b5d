import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { InspectionEvent } from 'xstate';
import { isJobStatus } from '../../actors/jobTransitions.js';
import { systemClock, type Clock } from '../clock.js';
import { createActorTracer, type ActorTrace } from './actorTracer.js';
import type { GoneActor, InspectionRecord, LiveActorState } from './inspectionRecord.js';
import type { InspectionStore } from './inspectionStore.js';

/** What the runtime tells the inspector about a job it starts hosting. */
export interface HostedJobInfo {
  jobId: string;
  ownerId: string;
  projectId: string;
  tier?: string;
  /** When the job was created (ms or ISO); the actor's age counts from it. */
  createdAt?: number | string;
}

export interface InspectorOptions {
  store: InspectionStore;
  clock?: Clock;
  /** Names this process on every record and registry entry (default host:pid:random). */
  processId?: string;
  /** Records are written in batches at most this often (default 50 ms); flush() writes at once. */
  flushMs?: number;
  /** How often start() renews this process's heartbeat (default 5 s; the store's host TTL must be longer). */
  heartbeatMs?: number;
  /** Records waiting for a flush beyond this are dropped, oldest first (default 50,000). */
  maxPending?: number;
  onError?: (error: unknown, context: { during: string }) => void;
}

/**
 * The process side of the actor inspector. The seam with the job runtime:
 * - `inspect` goes into the ActorOptions of every job actor (createJobActor / restoreJobActor);
 * - `track(info)` when the runtime starts hosting a job, `untrack(jobId, reason)` when it lets go.
 */
export interface Inspector {
  readonly processId: string;
  /** XState's inspect observer. Never throws into the actor; cheap enough for every transition. */
  readonly inspect: (event: InspectionEvent) => void;
  track(job: HostedJobInfo): void;
  untrack(jobId: string, reason?: string): void;
  /** Jobs tracked now. */
  trackedCount(): number;
  /** Writes what is pending now (tests, shutdown). */
  flush(): Promise<void>;
  /** Renews this process's heartbeat once. */
  heartbeat(): Promise<void>;
  /** Heartbeat now and every heartbeatMs. */
  start(): Promise<void>;
  /** Stops the heartbeat, writes what is pending and removes this process's actors from the registry. */
  close(): Promise<void>;
  /** Records dropped because the store could not keep up (or failed). */
  readonly dropped: number;
}

const MAX_ACTIVE_TRACES = 100_000;


/** Creates the inspector of one process over a store (Redis or in-process). */
export function createInspector(options: InspectorOptions): Inspector {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const processId = options.processId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const flushMs = options.flushMs ?? 50;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const maxPending = options.maxPending ?? 50_000;
  const onError = options.onError ?? ((error: unknown, { during }: { during: string }) => process.emitWarning(`inspector (${during}): ${String(error)}`));

  // Ids unique across processes: a counter here, a random tag per process.
  const tag = randomBytes(3).toString('hex');
  let counter = 0;
  const nextId = () => `${(++counter).toString(36)}.${tag}`;
  const tracer = createActorTracer({ host: processId, clock, nextId });

  const tracked = new Map<string, LiveActorState>();
  // The running actor instance of each job, so that track() after the actor started still knows its state.
  const active = new Map<string, ActorTrace>();
  let pending: InspectionRecord[] = [];
  const dirty = new Set<string>();
  let gone: GoneActor[] = [];
  let dropped = 0;
  let timer: NodeJS.Timeout | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  const schedule = () => {
    if (timer !== null || closed) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, flushMs);
    timer.unref();
  };

  const applyTrace = (info: LiveActorState, trace: ActorTrace) => {
    info.updatedAt = clock.now();
    info.state = trace.state ?? info.state;
    info.actorStatus = trace.actorStatus ?? info.actorStatus;
    info.lastEvent = trace.lastEvent ?? info.lastEvent;
    const top = trace.state?.split('.')[0];
    if (top !== undefined && isJobStatus(top)) info.status = top;
    const context = trace.context;
    if (context) {
      if (typeof context.iteration === 'number') info.iteration = context.iteration;
      if (typeof context.awaitingConfirmation === 'boolean') info.awaitingConfirmation = context.awaitingConfirmation;
      if (typeof context.message === 'string') info.message = context.message;
    }
  };

  const noteActive = (jobId: string, trace: ActorTrace) => {
    const status = trace.actorStatus;
    if (status === 'done' || status === 'stopped' || status === 'error') {
      if (active.get(jobId) === trace) active.delete(jobId);
      return;
    }
    if (active.get(jobId) === trace) return;
    active.set(jobId, trace);
    // Actors a host forgets to stop must not grow this map without end.
    if (active.size > MAX_ACTIVE_TRACES) {
      const oldest = active.keys().next();
      if (!oldest.done) active.delete(oldest.value);
    }
  };

  const inspect = (event: InspectionEvent) => {
    if (closed) return;
    try {
      const traced = tracer.observe(event);
      if (!traced || traced.records.length === 0) return;
      pending.push(...traced.records);
      if (pending.length > maxPending) {
        // Drop the oldest quarter at once: dropping one per event would copy the whole array every time.
        const excess = pending.length - Math.floor(maxPending * 0.75);
        pending.splice(0, excess);
        dropped += excess;
      }
      const jobId = traced.trace.jobId;
      if (jobId !== null) noteActive(jobId, traced.trace);
      const entry = jobId === null ? undefined : tracked.get(jobId);
      if (entry && jobId !== null) {
        if (event.type === '@xstate.event') entry.events++;
        applyTrace(entry, traced.trace);
        dirty.add(jobId);
      }
      schedule();
    } catch (error) {
      // An inspection failure must never become the actor's failure.
      onError(error, { during: 'inspect' });
    }
  };

  const flush = (): Promise<void> => {
    // One write at a time, in order: a job's records reach its ring in the order they were seen.
    writing = writing.then(async () => {
      if (pending.length === 0 && dirty.size === 0 && gone.length === 0) return;
      const records = pending;
      const upserts = [...dirty].flatMap((jobId) => {
        const entry = tracked.get(jobId);
        return entry ? [{ ...entry }] : [];
      });
      const removals = gone;
      pending = [];
      dirty.clear();
      gone = [];
      try {
        await store.write({ host: processId, records, upserts, gone: removals });
      } catch (error) {
        dropped += records.length;
        onError(error, { during: 'flush' });
      }
    });
    return writing;
  };

  const heartbeat = async () => {
    try {
      await store.heartbeat(processId);
    } catch (error) {
      onError(error, { during: 'heartbeat' });
    }
  };

  return {
    processId,
    inspect,
    track(job) {
      if (closed) return;
      const now = clock.now();
      const createdAt = job.createdAt === undefined ? null : typeof job.createdAt === 'number' ? job.createdAt : Date.parse(job.createdAt);
      const info: LiveActorState = {
        jobId: job.jobId,
        ownerId: job.ownerId,
        projectId: job.projectId,
        tier: job.tier ?? null,
        host: processId,
        createdAt: createdAt !== null && Number.isFinite(createdAt) ? createdAt : null,
        trackedAt: now,
        updatedAt: now,
        status: null,
        state: null,
        iteration: null,
        awaitingConfirmation: false,
        message: null,
        actorStatus: null,
        lastEvent: null,
        events: 0,
      };
      const trace = active.get(job.jobId);
      if (trace) applyTrace(info, trace);
      tracked.set(job.jobId, info);
      gone = gone.filter((g) => g.jobId !== job.jobId);
      dirty.add(job.jobId);
      schedule();
    },
    untrack(jobId, reason = 'released') {
      if (!tracked.delete(jobId)) return;
      dirty.delete(jobId);
      gone.push({ jobId, host: processId, reason });
      schedule();
    },
    trackedCount: () => tracked.size,
    flush,
    heartbeat,
    async start() {
      await heartbeat();
      if (heartbeatTimer !== null || closed) return;
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
      heartbeatTimer.unref();
    },
    async close() {
      if (closed) return;
      if (heartbeatTimer !== null) clearInterval(heartbeatTimer);
      heartbeatTimer = null;
      await flush();
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      tracked.clear();
      await store.removeHost(processId, 'shutdown').catch((error: unknown) => onError(error, { during: 'close' }));
    },
    get dropped() {
      return dropped;
    },
  };
}
