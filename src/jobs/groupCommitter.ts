/**
 * Group commit: items submitted while a flush is in flight wait and go together in the next flush,
 * so many jobs' transitions cost one database round trip. Each submit resolves only once the batch
 * holding its item is committed, and rejects if that batch fails. Batches flush one after another,
 * so items keep their submission order (and so each job keeps its transition order).
 *
 * A flush may answer one result per item, in item order (e.g. each transition's outcome); each submit
 * then resolves with its item's result.
 */
export interface GroupCommitter<T, R = void> {
  submit(item: T): Promise<R>;
  /** Resolves when everything submitted so far has been flushed. */
  drain(): Promise<void>;
  readonly pending: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export function createGroupCommitter<T, R = void>(
  flush: (items: T[]) => Promise<readonly R[] | void>,
  options: {
    maxBatch?: number;
    /**
     * Batches in flight at once (default 1: strictly one after another). Above 1, a later batch may
     * commit before an earlier one: only for callers that never have two dependent items in flight
     * (the job runtime submits one job's transitions as one item and awaits it before the next).
     */
    concurrency?: number;
  } = {},
): GroupCommitter<T, R> {
  const maxBatch = options.maxBatch ?? 500;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  let queue: Waiting<T, R>[] = [];
  const lanes = new Set<Promise<void>>();

  const runLane = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const results = await flush(batch.map((w) => w.item));
        if (results && results.length !== batch.length) {
          throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
        }
        // Without results R is void, and undefined is its only value.
        batch.forEach((w, i) => w.resolve(results ? (results[i] as R) : (undefined as R)));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  };

  const kick = () => {
    if (lanes.size >= concurrency) return;
    // Started on a microtask so that submits from the same tick join the first batch.
    const lane: Promise<void> = Promise.resolve()
      .then(runLane)
      .finally(() => {
        lanes.delete(lane);
        if (queue.length > 0) kick();
      });
    lanes.add(lane);
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (lanes.size > 0) await Promise.all(lanes);
    },
    get pending() {
      return queue.length;
    },
  };
}
