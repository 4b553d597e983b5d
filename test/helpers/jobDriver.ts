import { randomUUID } from 'node:crypto';
import {
  createJobActor,
  jobLifecycleMachine,
  type JobActor,
  type JobMachineEvent,
  type TransitionRecord,
} from '../../actors/jobLifecycle.machine.js';
import { persistJobSnapshot } from '../../actors/jobSnapshot.js';
import { sendJobEvent } from '../../actors/sendJobEvent.js';
import type { Clock } from '../../src/clock.js';
import type { Sql } from '../../src/db/client.js';
import { createJobsRepository } from '../../src/db/jobsRepository.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import type { Inspector } from '../../src/inspector/createInspector.js';

/**
 * A job driven the way the runtime drives one, without the runtime: a stored job row, an inspected actor
 * of the real machine, every accepted transition written to the durable log. Tests and the browser demo
 * send it events; the inspector sees exactly what it would see in a worker.
 */
export interface DrivenJob {
  readonly jobId: string;
  readonly actor: JobActor;
  /** Sends the event; when accepted, persists its transitions (seq by seq). Returns whether it was accepted. */
  send(event: JobMachineEvent): Promise<boolean>;
  /** Stops the actor and tells the inspector the host let go of it. */
  release(reason: string): void;
}

/** The happy path with one retry of the checks: 10 events from queued to ready. */
export const RETRY_THEN_READY: JobMachineEvent[] = [
  { type: 'START' },
  { type: 'BEGIN' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'CHECKS_FAILED', reason: 'lint: 3 problems' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'CHECKS_PASSED' },
];

export interface JobDriverDeps {
  sql: Sql;
  inspector: Inspector;
  clock: Clock;
}

/** Creates the owner and a project once, then stored, inspected, tracked jobs on demand. */
export async function createJobDriver(deps: JobDriverDeps, owner = { ownerId: 'inspected-owner', tier: 'partner' }) {
  const jobs = createJobsRepository(deps.sql);
  await createUsersRepository(deps.sql).upsertUser({ id: owner.ownerId, tier: owner.tier, now: deps.clock.now() });
  const project = await createProjectsRepository(deps.sql).createProject({ ownerId: owner.ownerId, name: 'inspected', now: deps.clock.now() });

  return {
    projectId: project.id,
    async start(options: { iterationDepth?: number; track?: boolean } = {}): Promise<DrivenJob> {
      const jobId = randomUUID();
      const row = await jobs.insertJob({ id: jobId, ownerId: owner.ownerId, projectId: project.id, tier: owner.tier, goal: 'Build a todo app', status: 'queued', now: deps.clock.now() });
      const sink: TransitionRecord[] = [];
      const machine = jobLifecycleMachine.provide({ actions: { recordTransition: (_, record) => void sink.push(record) } });
      const actor = createJobActor(machine, { jobId, iterationDepth: options.iterationDepth ?? 3 }, { inspect: deps.inspector.inspect }).start();
      if (options.track !== false) {
        deps.inspector.track({ jobId, ownerId: owner.ownerId, projectId: project.id, tier: owner.tier, createdAt: row.createdAt });
      }
      let seq = row.seq;
      return {
        jobId,
        actor,
        async send(event) {
          const sent = sendJobEvent(actor, event);
          if (!sent.accepted) return false;
          const records = sink.splice(0);
          const at = deps.clock.now();
          const outcomes = await jobs.recordTransitions(
            records.map((r, i) => ({
              jobId,
              seq: ++seq,
              fromStatus: r.from,
              toStatus: r.to,
              message: r.message,
              iteration: r.iteration,
              awaitingConfirmation: r.awaitingConfirmation,
              at,
              ...(r.to === 'failed' ? { error: r.message } : {}),
              ...(i === records.length - 1 ? persistJobSnapshotFields(actor) : {}),
            })),
          );
          const refused = outcomes.find((o) => !o.applied);
          if (refused) throw new Error(`transition refused: ${JSON.stringify(refused)}`);
          return true;
        },
        release(reason) {
          deps.inspector.untrack(jobId, reason);
          actor.stop();
        },
      };
    },
  };
}

function persistJobSnapshotFields(actor: JobActor): { snapshot: unknown; machineVersion: number } {
  const { version, snapshot } = persistJobSnapshot(actor);
  return { snapshot, machineVersion: version };
}
