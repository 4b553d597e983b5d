/** A task run every `intervalMs`, never overlapping itself; `runNow` runs it at once (tests, wake-ups). */
export interface Periodic {
  start(): void;
  /** Runs the task now (after the current run, if one is in flight). */
  runNow(): Promise<void>;
  /** Stops the timer and waits for a run in flight. */
  stop(): Promise<void>;
}

export function createPeriodic(task: () => Promise<void>, intervalMs: number, onError: (error: unknown) => void): Periodic {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let active = false;

  const runOnce = () => {
    running = running.then(() => task().catch(onError));
    return running;
  };
  const schedule = () => {
    if (!active) return;
    timer = setTimeout(() => {
      void runOnce().then(schedule);
    }, intervalMs);
  };

  return {
    start() {
      if (active) return;
      active = true;
      schedule();
    },
    runNow: runOnce,
    async stop() {
      active = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
