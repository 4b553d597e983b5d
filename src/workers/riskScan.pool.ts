import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { RiskLogger } from '../risk/riskLogger.js';
import evaluateScanPart, { type ScanTask, type ScanTaskResult } from './riskScan.worker.js';

/**
 * Where scan chunks are evaluated: a Piscina pool (the server's choice: the event loop stays free) or
 * this thread (for comparison in the benchmark, and where threads are not wanted).
 */
export interface ScanEvaluator {
  readonly threads: number;
  evaluate(task: ScanTask): Promise<ScanTaskResult>;
  /** Resolves when every thread has loaded the worker module (so the first scan is not the slow one). */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

export interface RiskScanPoolOptions {
  /** Worker threads (default: available cores, at most 4). */
  threads?: number;
  logger: RiskLogger;
}

/**
 * The scan pool: created once at start, closed at shutdown. Worker files load as `.ts` through tsx when
 * this module itself runs from source (tsx, vitest), and as the compiled `.js` next to it otherwise.
 */
export function createRiskScanPool(options: RiskScanPoolOptions): ScanEvaluator {
  const threads = Math.max(1, options.threads ?? Math.min(4, availableParallelism()));
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Piscina<ScanTask, ScanTaskResult>({
    filename: new URL(fromSource ? './riskScan.worker.ts' : './riskScan.worker.js', import.meta.url).href,
    execArgv: fromSource ? [...process.execArgv, '--import', tsxLoader()] : [...process.execArgv],
    // No thread at start-up (every process builds the pool, few scan at once); the first scan starts
    // them, and they stay (with their loaded module) between scans.
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 2 ** 31 - 1,
  });
  // A worker that dies outside a task surfaces here; without a listener it would crash the process.
  pool.on('error', (err: unknown) => options.logger.error({ err }, 'risk scan worker failed'));
  let closed = false;
  return {
    threads,
    evaluate: (task) => pool.run(task),
    async warmUp() {
      const empty = new SharedArrayBuffer(0);
      const noop: ScanTask = { buffer: empty, capacity: { users: 0, projects: 0 }, users: [0, 0], projects: [0, 0], now: 0 };
      await Promise.all(Array.from({ length: threads }, () => pool.run(noop)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.close();
    },
  };
}

/** The same evaluation on the calling thread. */
export function createInlineScanEvaluator(): ScanEvaluator {
  return {
    threads: 1,
    evaluate: (task) => Promise.resolve(evaluateScanPart(task)),
    warmUp: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

function tsxLoader(): string {
  return import.meta.resolve('tsx');
}
