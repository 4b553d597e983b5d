/**
 * Group commit: items submitted while a flush is in flight wait and go together in the next flush,
 * so many jobs' transitions cost one database round trip. Each submit resolves only once the batch
 * holding its item is committed, and rejects if that batch fails. Batches flush one after another,
 * so items keep their submission order (and so each job keeps its transition order).
 */
export interface GroupCommitter<T> {
  submit(item: T): Promise<void>;
  /** Resolves when everything submitted so far has been flushed. */
  drain(): Promise<void>;
  readonly pending: number;
}

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createGroupCommitter<T>(
  flush: (items: T[]) => Promise<void>,
  options: { maxBatch?: number } = {},
): GroupCommitter<T> {
  const maxBatch = options.maxBatch ?? 500;
  let queue: Waiting<T>[] = [];
  let running: Promise<void> | null = null;

  const runLoop = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await flush(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  };

  const kick = () => {
    // Started on a microtask so that submits from the same tick join the first batch.
    running ??= Promise.resolve()
      .then(runLoop)
      .finally(() => {
        running = null;
        if (queue.length > 0) kick();
      });
  };

  return {
    submit(item) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (running) await running;
    },
    get pending() {
      return queue.length;
    },
  };
}
