import type { AnyStateMachine } from 'xstate';
import { JOB_MACHINE_VERSION, jobLifecycleMachine } from '../../actors/jobLifecycle.machine.js';
import { clipReason, isTerminal, type JobStatus } from '../../actors/jobTransitions.js';
import type { Clock } from '../clock.js';
import type { JobRow, TransitionRow } from '../db/jobRows.js';
import type { JobsRepository } from '../db/jobsRepository.js';
import { notFound } from '../errors.js';
import type { GoneActor, InspectionBatch, InspectionRecord, InspectorHost, LiveActor, LiveActorState } from './inspectionRecord.js';
import type { InspectionStore } from './inspectionStore.js';
import { machineGraph, type MachineGraph } from './machineGraph.js';
import { layoutStatechart, type StatechartLayout } from './statechartLayout.js';

export interface ActorsFilter {
  status?: JobStatus;
  host?: string;
  /** Matched against job, owner and project ids (case-insensitive substring). */
  search?: string;
  /** At most this many, oldest first (default 1,000). */
  limit?: number;
}

export interface ActorsView {
  actors: LiveActor[];
  /** Live actors matching the filter, before the limit. */
  total: number;
  hosts: InspectorHost[];
  at: number;
}

/** The stored job, as the inspector shows it (the goal clipped, no snapshot). */
export type InspectedJob = Pick<
  JobRow,
  | 'status' | 'ownerId' | 'projectId' | 'tier' | 'goal' | 'iteration' | 'awaitingConfirmation' | 'seq'
  | 'createdAt' | 'updatedAt' | 'startedAt' | 'finishedAt' | 'error'
>;

/** Everything known of one job: its ring, its live actor if hosted, and the durable transition log. */
export interface JobHistory {
  jobId: string;
  job: InspectedJob | null;
  live: LiveActor | null;
  /** The ring buffer, oldest first; older records have been dropped past `ringSize`. */
  records: InspectionRecord[];
  ringSize: number;
  /** The durable transition log from PostgreSQL (what remains once a job is finished or evicted). */
  transitions: TransitionRow[];
  /** Terminal in PostgreSQL: nothing more will happen. */
  finished: boolean;
}

/** What `inspector.events` streams: a full picture first (and again after an overflow), then changes. */
export type InspectorMessage =
  | { type: 'actors'; view: ActorsView }
  | { type: 'delta'; upserts: LiveActor[]; gone: GoneActor[] }
  | { type: 'history'; history: JobHistory }
  | { type: 'records'; jobId: string; records: InspectionRecord[] }
  | { type: 'actor'; actor: LiveActor }
  | { type: 'gone'; gone: GoneActor };

export interface Statechart {
  machineId: string;
  version: number;
  graph: MachineGraph;
  layout: StatechartLayout;
}

/** The read side of the inspector, for the router and the CLI: every process's actors, from the store. */
export interface InspectorService {
  actors(filter?: ActorsFilter): Promise<ActorsView>;
  /** Throws NOT_FOUND when nothing is known of the job (no row, no ring, not live). */
  history(jobId: string): Promise<JobHistory>;
  /** Without jobId: the actor list, then registry changes. With jobId: its history, then its records and actor changes. */
  events(input: { jobId?: string | undefined }, signal?: AbortSignal): AsyncGenerator<InspectorMessage, void, undefined>;
  statechart(): Statechart;
}

export interface InspectorServiceDeps {
  store: InspectionStore;
  jobs: Pick<JobsRepository, 'getJob' | 'getTransitions'>;
  clock: Clock;
  /** The machine whose chart is drawn (default the job lifecycle). */
  machine?: AnyStateMachine;
  /** Batches a slow subscriber may fall behind before it gets a fresh full picture instead (default 1,000). */
  maxBuffered?: number;
}

const DEFAULT_LIMIT = 1_000;

export function createInspectorService(deps: InspectorServiceDeps): InspectorService {
  const { store, jobs, clock } = deps;
  const maxBuffered = deps.maxBuffered ?? 1_000;
  let chart: Statechart | undefined;

  const withAge = (actor: LiveActorState): LiveActor => ({ ...actor, age: Math.max(0, clock.now() - (actor.createdAt ?? actor.trackedAt)) });

  const actors = async (filter: ActorsFilter = {}): Promise<ActorsView> => {
    const [all, hosts] = await Promise.all([store.liveActors(), store.hosts()]);
    const search = filter.search?.trim().toLowerCase();
    const matching = all.filter(
      (a) =>
        (filter.status === undefined || a.status === filter.status) &&
        (filter.host === undefined || a.host === filter.host) &&
        (!search || [a.jobId, a.ownerId, a.projectId].some((v) => v.toLowerCase().includes(search))),
    );
    matching.sort((a, b) => (a.createdAt ?? a.trackedAt) - (b.createdAt ?? b.trackedAt) || a.jobId.localeCompare(b.jobId));
    return { actors: matching.slice(0, filter.limit ?? DEFAULT_LIMIT).map(withAge), total: matching.length, hosts, at: clock.now() };
  };

  const history = async (jobId: string): Promise<JobHistory> => {
    const [row, records, live, transitions] = await Promise.all([
      jobs.getJob(null, jobId),
      store.ring(jobId),
      store.liveActor(jobId),
      jobs.getTransitions(jobId),
    ]);
    if (!row && records.length === 0 && !live) throw notFound('job', jobId);
    return {
      jobId,
      job: row ? toInspectedJob(row) : null,
      live: live ? withAge(live) : null,
      records,
      ringSize: store.ringSize,
      transitions,
      finished: row !== null && isTerminal(row.status),
    };
  };

  async function* events(input: { jobId?: string | undefined }, signal?: AbortSignal): AsyncGenerator<InspectorMessage, void, undefined> {
    const { jobId } = input;
    const buffer: InspectionBatch[] = [];
    let overflowed = false;
    let wake: (() => void) | null = null;
    const rouse = () => {
      wake?.();
      wake = null;
    };
    // Subscribed before the first picture is read, so nothing falls between the two.
    const unsubscribe = await store.subscribe((batch) => {
      if (buffer.length >= maxBuffered) {
        buffer.length = 0;
        overflowed = true;
      } else buffer.push(batch);
      rouse();
    });
    signal?.addEventListener('abort', rouse);
    try {
      let seen = new Set<string>();
      const picture = async (): Promise<InspectorMessage> => {
        if (jobId === undefined) return { type: 'actors', view: await actors() };
        const h = await history(jobId);
        seen = new Set(h.records.map((r) => r.id));
        return { type: 'history', history: h };
      };
      yield await picture();
      while (!signal?.aborted) {
        if (overflowed) {
          // Fell too far behind: a fresh picture replaces the batches dropped.
          overflowed = false;
          yield await picture();
          continue;
        }
        const batch = buffer.shift();
        if (!batch) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        if (jobId === undefined) {
          if (batch.upserts.length > 0 || batch.gone.length > 0) yield { type: 'delta', upserts: batch.upserts.map(withAge), gone: batch.gone };
          continue;
        }
        const records = batch.records.filter((r) => r.jobId === jobId && !seen.has(r.id));
        if (records.length > 0) yield { type: 'records', jobId, records };
        for (const actor of batch.upserts) if (actor.jobId === jobId) yield { type: 'actor', actor: withAge(actor) };
        for (const gone of batch.gone) if (gone.jobId === jobId) yield { type: 'gone', gone };
      }
    } finally {
      signal?.removeEventListener('abort', rouse);
      await unsubscribe();
    }
  }

  return {
    actors,
    history,
    events,
    statechart() {
      if (!chart) {
        const machine = deps.machine ?? jobLifecycleMachine;
        const graph = machineGraph(machine);
        chart = { machineId: machine.id, version: JOB_MACHINE_VERSION, graph, layout: layoutStatechart(graph) };
      }
      return chart;
    },
  };
}

function toInspectedJob(row: JobRow): InspectedJob {
  return {
    status: row.status,
    ownerId: row.ownerId,
    projectId: row.projectId,
    tier: row.tier,
    goal: clipReason(row.goal),
    iteration: row.iteration,
    awaitingConfirmation: row.awaitingConfirmation,
    seq: row.seq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    error: row.error,
  };
}
