import { z } from 'zod';
import { JOB_STATUSES } from '../../actors/jobTransitions.js';

/** A JSON value: what a record may carry, so that it survives Redis, SSE and the page unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

const jsonObjectSchema = z.record(z.string(), jsonValueSchema);

/** One context field that changed in a snapshot: its value before and after (null when absent). */
export const contextChangeSchema = z.strictObject({ from: jsonValueSchema, to: jsonValueSchema });
export type ContextChange = z.infer<typeof contextChangeSchema>;

/** A transition a microstep took, as state node ids (`job.checks.running` → `job.scaffold`). */
export const takenTransitionSchema = z.strictObject({ source: z.string(), targets: z.array(z.string()) });
export type TakenTransition = z.infer<typeof takenTransitionSchema>;

export const ACTOR_STATUSES = ['active', 'done', 'stopped', 'error'] as const;
export type ActorRunStatus = (typeof ACTOR_STATUSES)[number];

/**
 * Fields of every record. `id` is unique across processes (a per-process counter and tag), so a reader
 * that joins a backlog with the live stream drops duplicates by id. `session` is XState's sessionId of
 * the actor instance: one job has several over its life (submit, each hosting, a confirm).
 */
const base = {
  id: z.string().min(1),
  /** When the inspector saw it (ms, the injected clock). */
  at: z.number(),
  jobId: z.string().min(1),
  /** The process that hosted the actor. */
  host: z.string().min(1),
  session: z.string(),
};

/**
 * One inspection event, compact and JSON-safe (SPEC §11): never a whole snapshot, only the state value
 * and what changed in the context.
 * - `actor`: an actor instance of the job was created (XState `@xstate.actor`).
 * - `event`: it received an event (`@xstate.event`), with the event's fields besides `type`.
 * - `microstep`: the transitions one event took (`@xstate.microstep`).
 * - `snapshot`: the state after an event (`@xstate.snapshot`): the full context on an instance's first
 *   snapshot, else only the fields that changed.
 */
export const inspectionRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('actor') }),
  z.strictObject({ ...base, kind: z.literal('event'), event: z.string(), payload: jsonObjectSchema.optional() }),
  z.strictObject({
    ...base,
    kind: z.literal('microstep'),
    event: z.string(),
    state: z.string(),
    transitions: z.array(takenTransitionSchema),
  }),
  z.strictObject({
    ...base,
    kind: z.literal('snapshot'),
    event: z.string(),
    state: z.string(),
    status: z.enum(ACTOR_STATUSES),
    context: jsonObjectSchema.optional(),
    diff: z.record(z.string(), contextChangeSchema).optional(),
  }),
]);
export type InspectionRecord = z.infer<typeof inspectionRecordSchema>;
export type InspectionKind = InspectionRecord['kind'];

/**
 * A job actor a process hosts now, as the registry stores it. The hosting metadata comes from the
 * runtime (track); status and the rest from the actor's latest snapshot (null until one is seen).
 */
export const liveActorStateSchema = z.strictObject({
  jobId: z.string().min(1),
  ownerId: z.string(),
  projectId: z.string(),
  tier: z.string().nullable(),
  host: z.string().min(1),
  /** When the job was created (ms), when the runtime told us of it, when the actor last changed. */
  createdAt: z.number().nullable(),
  trackedAt: z.number(),
  updatedAt: z.number(),
  status: z.enum(JOB_STATUSES).nullable(),
  /** The full state value as a path (`checks.awaitingConfirmation`). */
  state: z.string().nullable(),
  iteration: z.number().int().nonnegative().nullable(),
  awaitingConfirmation: z.boolean(),
  message: z.string().nullable(),
  actorStatus: z.enum(ACTOR_STATUSES).nullable(),
  lastEvent: z.string().nullable(),
  /** Events the actor instances of this hosting received. */
  events: z.number().int().nonnegative(),
});
export type LiveActorState = z.infer<typeof liveActorStateSchema>;

/** A live actor as the API returns it: the registry entry and its age (ms since creation, else since tracked). */
export type LiveActor = LiveActorState & { age: number };

export const goneActorSchema = z.strictObject({ jobId: z.string().min(1), host: z.string().min(1), reason: z.string() });
export type GoneActor = z.infer<typeof goneActorSchema>;

/**
 * What one flush of one process publishes: new records, registry upserts and removals. One message per
 * flush (chunked when large) keeps pub/sub traffic proportional to flushes, not to events.
 */
export const inspectionBatchSchema = z.strictObject({
  host: z.string().min(1),
  records: z.array(inspectionRecordSchema),
  upserts: z.array(liveActorStateSchema),
  gone: z.array(goneActorSchema),
});
export type InspectionBatch = z.infer<typeof inspectionBatchSchema>;

/** A process whose inspector is alive (heartbeat not expired). */
export interface InspectorHost {
  host: string;
  /** When its heartbeat runs out (ms). */
  expiresAt: number;
  actors: number;
}
