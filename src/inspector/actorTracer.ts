import type { InspectionEvent } from 'xstate';
import type { Clock } from '../clock.js';
import { ACTOR_STATUSES, type ActorRunStatus, type InspectionRecord, type JsonValue, type TakenTransition } from './inspectionRecord.js';
import { diffObjects, statePath, toJsonObject } from './jsonSafe.js';

/** What the inspector remembers of one actor instance between its inspection events. */
export interface ActorTrace {
  /** From the actor's context; null until a snapshot is seen (`@xstate.actor` comes before one exists). */
  jobId: string | null;
  readonly session: string;
  /** When `@xstate.actor` was seen, until its record can be written (it needs the job id). */
  bornAt: number | null;
  /** The last context seen, as the object (cheap equality) and as JSON (for the next diff). */
  rawContext: unknown;
  context: Record<string, JsonValue> | null;
  state: string | null;
  actorStatus: ActorRunStatus | null;
  lastEvent: string | null;
  events: number;
}

export interface TracedEvent {
  trace: ActorTrace;
  /** Records to keep, in order; empty when the event says nothing worth keeping. */
  records: InspectionRecord[];
}

export interface ActorTracer {
  /** Turns one XState inspection event into records; null for events of actors that are not jobs. */
  observe(event: InspectionEvent): TracedEvent | null;
}

interface SnapshotLike {
  status?: unknown;
  value?: unknown;
  context?: unknown;
}

/**
 * Follows job actors through XState's inspection events. Traces are keyed weakly by the actor, so an
 * actor dropped by its host takes its trace with it; nothing here holds an actor alive.
 */
export function createActorTracer(options: { host: string; clock: Clock; nextId: () => string }): ActorTracer {
  const { host, clock, nextId } = options;
  const traces = new WeakMap<object, ActorTrace>();

  const traceOf = (actorRef: object, session: string): ActorTrace => {
    let trace = traces.get(actorRef);
    if (!trace) {
      trace = { jobId: null, session, bornAt: null, rawContext: undefined, context: null, state: null, actorStatus: null, lastEvent: null, events: 0 };
      traces.set(actorRef, trace);
    }
    return trace;
  };

  /** The job id (writing the pending actor record first), or null when this is not a job actor. */
  const resolve = (trace: ActorTrace, snapshot: SnapshotLike | undefined, out: InspectionRecord[]): string | null => {
    trace.jobId ??= jobIdOf(snapshot);
    const { jobId } = trace;
    if (jobId === null) return null;
    if (trace.bornAt !== null) {
      out.push({ id: nextId(), at: trace.bornAt, jobId, host, session: trace.session, kind: 'actor' });
      trace.bornAt = null;
    }
    return jobId;
  };

  return {
    observe(event) {
      const actorRef: object = event.actorRef;
      const session = event.actorRef.sessionId;
      const at = clock.now();
      const records: InspectionRecord[] = [];
      switch (event.type) {
        case '@xstate.actor': {
          // No snapshot exists yet: the record waits for the job id (see resolve).
          traceOf(actorRef, session).bornAt = at;
          return null;
        }
        case '@xstate.event': {
          const trace = traceOf(actorRef, session);
          const jobId = resolve(trace, currentSnapshot(event.actorRef), records);
          if (jobId === null) return null;
          const payload = toJsonObject(event.event, 0, 'type');
          trace.lastEvent = event.event.type;
          trace.events++;
          records.push({
            id: nextId(),
            at,
            jobId,
            host,
            session,
            kind: 'event',
            event: event.event.type,
            ...(Object.keys(payload).length > 0 ? { payload } : {}),
          });
          return { trace, records };
        }
        case '@xstate.microstep': {
          const trace = traceOf(actorRef, session);
          const snapshot = event.snapshot as SnapshotLike;
          const jobId = resolve(trace, snapshot, records);
          if (jobId === null) return null;
          // The stop microstep takes no transition; the snapshot that follows says "stopped".
          if (event._transitions.length === 0) return records.length > 0 ? { trace, records } : null;
          const transitions: TakenTransition[] = event._transitions.map((t) => ({
            source: t.source.id,
            targets: (t.target ?? []).map((node) => node.id),
          }));
          records.push({ id: nextId(), at, jobId, host, session, kind: 'microstep', event: event.event.type, state: statePath(snapshot.value), transitions });
          return { trace, records };
        }
        case '@xstate.snapshot': {
          const trace = traceOf(actorRef, session);
          const snapshot = event.snapshot as SnapshotLike;
          const jobId = resolve(trace, snapshot, records);
          if (jobId === null) return null;
          const status = runStatusOf(snapshot.status);
          const state = statePath(snapshot.value);
          const record: Extract<InspectionRecord, { kind: 'snapshot' }> = {
            id: nextId(),
            at,
            jobId,
            host,
            session,
            kind: 'snapshot',
            event: event.event.type,
            state,
            status,
          };
          if (snapshot.context !== trace.rawContext) {
            const context = typeof snapshot.context === 'object' && snapshot.context !== null ? toJsonObject(snapshot.context) : {};
            if (trace.context === null) record.context = context;
            else {
              const diff = diffObjects(trace.context, context);
              if (diff) record.diff = diff;
            }
            trace.rawContext = snapshot.context;
            trace.context = context;
          }
          trace.state = state;
          trace.actorStatus = status;
          records.push(record);
          return { trace, records };
        }
        default:
          // '@xstate.action' and '@xstate.transition' repeat what the records above already say.
          return null;
      }
    },
  };
}

function currentSnapshot(actorRef: { getSnapshot(): unknown }): SnapshotLike | undefined {
  const snapshot: unknown = actorRef.getSnapshot();
  return typeof snapshot === 'object' && snapshot !== null ? snapshot : undefined;
}

function jobIdOf(snapshot: SnapshotLike | undefined): string | null {
  const context = snapshot?.context;
  if (typeof context !== 'object' || context === null || !('jobId' in context)) return null;
  const { jobId } = context;
  return typeof jobId === 'string' && jobId.length > 0 ? jobId : null;
}

function runStatusOf(status: unknown): ActorRunStatus {
  return ACTOR_STATUSES.find((s) => s === status) ?? 'error';
}
