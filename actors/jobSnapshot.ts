import { createActor, type ActorOptions, type Snapshot } from 'xstate';
import { z } from 'zod';
import { WardenError } from '../src/errors.js';
import { JOB_MACHINE_VERSION, type JobActor, type JobContext, type JobLifecycleMachine } from './jobLifecycle.machine.js';

/** What the jobs table stores: the machine version next to the actor's persisted snapshot (JSON). */
export const persistedJobSnapshotSchema = z.strictObject({
  version: z.number().int(),
  snapshot: z.unknown(),
});
export type PersistedJobSnapshot = z.infer<typeof persistedJobSnapshotSchema>;

const jobContextSchema = z.strictObject({
  jobId: z.string().min(1),
  iterationDepth: z.number().int().positive(),
  iteration: z.number().int().nonnegative(),
  awaitingConfirmation: z.boolean(),
  confirmations: z.number().int().nonnegative(),
  error: z.string().nullable(),
  message: z.string(),
}) satisfies z.ZodType<JobContext>;

const machineSnapshotSchema = z.looseObject({
  status: z.enum(['active', 'done']),
  value: z.unknown(),
  context: jobContextSchema,
  // The machine invokes nothing, so a snapshot with children did not come from it.
  children: z.strictObject({}),
});

const jobIdSchema = z.object({ context: z.object({ jobId: z.string() }) });

/**
 * The actor's snapshot, ready to be stored as JSON with the machine version: what XState's
 * getPersistedSnapshot gives for this machine, built directly. The machine invokes nothing, has no history
 * states and keeps plain values in its context, so there is nothing to convert; XState's generic version
 * (an object rest over ten keys, a walk of the context looking for actor refs) cost ~3 µs more per
 * transition in the bench. A test holds the two equal, to the JSON text, in every reachable state.
 */
export function persistJobSnapshot(actor: JobActor): PersistedJobSnapshot {
  const { status, output, error, value, context } = actor.getSnapshot();
  return { version: JOB_MACHINE_VERSION, snapshot: { status, output, error, value, historyValue: {}, context, children: {} } };
}

/**
 * Rebuilds a job actor from a stored snapshot. Everything is checked before the actor is created: XState
 * accepts an unknown state value at creation and then throws it, uncaught, at `start()`.
 * Returns the actor STARTED: starting a restored pure machine runs no action and records nothing, and an
 * unstarted actor would queue events instead of taking them, which sendJobEvent could not report.
 * Throws WardenError UNKNOWN_MACHINE_VERSION or INVALID_SNAPSHOT.
 */
export function restoreJobActor(
  machine: JobLifecycleMachine,
  persisted: unknown,
  options: Omit<ActorOptions<JobLifecycleMachine>, 'snapshot' | 'input'> = {},
): JobActor {
  const envelope = persistedJobSnapshotSchema.safeParse(persisted);
  const jobId = jobIdSchema.safeParse(envelope.data?.snapshot).data?.context.jobId ?? 'unknown';
  if (!envelope.success) throw invalid(jobId, envelope.error.issues.map(formatIssue));
  const { version, snapshot } = envelope.data;
  if (version !== JOB_MACHINE_VERSION) {
    throw new WardenError('UNKNOWN_MACHINE_VERSION', `job snapshot version ${version} is not supported`, {
      jobId,
      version,
      supported: [JOB_MACHINE_VERSION],
    });
  }
  const parsed = machineSnapshotSchema.safeParse(snapshot);
  if (!parsed.success) throw invalid(jobId, parsed.error.issues.map(formatIssue));
  const leaf = leafOf(machine.root, parsed.data.value);
  if (leaf === undefined) throw invalid(jobId, [`value: unknown state ${JSON.stringify(parsed.data.value)}`]);
  if ((leaf === 'final') !== (parsed.data.status === 'done')) {
    throw invalid(jobId, [`status: ${parsed.data.status} does not fit state ${JSON.stringify(parsed.data.value)}`]);
  }
  const { jobId: id, iterationDepth } = parsed.data.context;
  // Validated above: a live status, a known state value, the context shape, no children. The input is
  // required by the type but unused: a restored actor takes its context from the snapshot.
  const restored = parsed.data as unknown as Snapshot<unknown>;
  return createActor(machine, { ...options, snapshot: restored, input: { jobId: id, iterationDepth } }).start();
}

interface StateNodeLike {
  type: string;
  states: Record<string, StateNodeLike>;
}

/** The kind of leaf a state value names in the machine ('atomic' | 'final'), or undefined if none. */
function leafOf(node: StateNodeLike, value: unknown): string | undefined {
  if (typeof value === 'string') {
    const child = node.states[value];
    return child?.type === 'atomic' || child?.type === 'final' ? child.type : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const entries = Object.entries(value);
  const [entry] = entries;
  // The machine has no parallel states, so a valid object value has exactly one key.
  if (entries.length !== 1 || entry === undefined) return undefined;
  const child = node.states[entry[0]];
  return child?.type === 'compound' ? leafOf(child, entry[1]) : undefined;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}

function invalid(jobId: string, issues: string[]): WardenError<'INVALID_SNAPSHOT'> {
  return new WardenError('INVALID_SNAPSHOT', 'job snapshot does not fit this machine', { jobId, issues });
}
