import { isTerminal } from '../../actors/jobTransitions.js';
import type { JobEvent } from '../../src/redis/jobEvent.js';

/** Every job event a subscriber received, by job, with waits on what tests expect to see. */
export interface JobEventLog {
  listener: (event: JobEvent) => void;
  byJob: Map<string, JobEvent[]>;
  /** Resolves when `predicate` holds for the log (checked after each event). */
  until(predicate: () => boolean): Promise<void>;
  /** Resolves on the first event matching, past or future. */
  waitFor(match: (event: JobEvent) => boolean): Promise<JobEvent>;
  terminalCount(): number;
}

export function createJobEventLog(onEvent?: (event: JobEvent) => void): JobEventLog {
  const byJob = new Map<string, JobEvent[]>();
  const all: JobEvent[] = [];
  const waiters = new Set<() => void>();
  let terminal = 0;
  const check = () => {
    for (const waiter of [...waiters]) waiter();
  };
  return {
    byJob,
    listener(event) {
      all.push(event);
      const list = byJob.get(event.jobId) ?? [];
      list.push(event);
      byJob.set(event.jobId, list);
      if (isTerminal(event.status)) terminal += 1;
      onEvent?.(event);
      check();
    },
    until(predicate) {
      return new Promise((resolve) => {
        const waiter = () => {
          if (!predicate()) return;
          waiters.delete(waiter);
          resolve();
        };
        waiters.add(waiter);
        waiter();
      });
    },
    waitFor(match) {
      return new Promise((resolve) => {
        const waiter = () => {
          const found = all.find(match);
          if (!found) return;
          waiters.delete(waiter);
          resolve(found);
        };
        waiters.add(waiter);
        waiter();
      });
    },
    terminalCount: () => terminal,
  };
}
