import type { ScanEvaluator } from '../workers/riskScan.pool.js';
import type { ScanCapacity, ScanViews } from '../workers/riskScanBuffers.js';

/**
 * The evaluation part of a risk scan: the filled shared buffer cut into parts, each a slice of the users
 * and a slice of the projects, at most one part per thread and none smaller than `minPart` entries: a
 * task costs a message each way, which is more than evaluating a few thousand entries (measured: the
 * rules take about 4 ns per entry).
 */
export interface ScanEvaluationInput {
  evaluator: ScanEvaluator;
  buffer: SharedArrayBuffer;
  capacity: ScanCapacity;
  views: ScanViews;
  users: number;
  projects: number;
  /** The instant staleness is judged at (epoch ms). */
  now: number;
  /** Default 65,536 entries. */
  minPart?: number;
}

/** Views into the shared buffer, valid until the buffer is filled again. */
export interface ScanEvaluation {
  /** Indices of users newly over the usage threshold (not yet emitted today). */
  userHits: Int32Array;
  /** Indices of projects whose rule bits differ from what was emitted (`views.projects.current` holds them). */
  projectChanges: Int32Array;
}

export async function evaluateScan(input: ScanEvaluationInput): Promise<ScanEvaluation> {
  const { evaluator, buffer, capacity, views, users, projects, now } = input;
  const minPart = input.minPart ?? 65_536;
  const parts = Math.max(1, Math.min(evaluator.threads, Math.ceil((users + projects) / minPart)));
  const slice = (n: number, k: number): [number, number] => [Math.floor((n * k) / parts), Math.floor((n * (k + 1)) / parts)];
  const tasks = Array.from({ length: parts }, (_, k) => ({ users: slice(users, k), projects: slice(projects, k) }));
  const written = await Promise.all(tasks.map((t) => evaluator.evaluate({ buffer, capacity, ...t, now })));
  // Each part wrote its indices from the start of its slice; move them together, in place (slices are in order).
  const compact = (out: Int32Array, which: 0 | 1, range: (t: (typeof tasks)[number]) => [number, number]) => {
    let total = 0;
    tasks.forEach((task, k) => {
      const [start] = range(task);
      const count = written[k]![which];
      if (start !== total) out.copyWithin(total, start, start + count);
      total += count;
    });
    return out.subarray(0, total);
  };
  return {
    userHits: compact(views.users.hits, 0, (t) => t.users),
    projectChanges: compact(views.projects.changed, 1, (t) => t.projects),
  };
}
