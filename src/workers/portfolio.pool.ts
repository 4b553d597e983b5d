import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { RiskLogger } from '../risk/riskLogger.js';
import evaluatePortfolio, { type PortfolioTask, type PortfolioTaskResult } from './portfolio.worker.js';

/** Below this many risks the portfolio is counted on the calling thread: the hop to a worker costs more. */
export const DEFAULT_POOL_THRESHOLD = 5_000;

export interface PortfolioEvaluator {
  /** Where a task of `risks` risks runs. */
  placement(risks: number): 'pool' | 'thread';
  /** Counts the portfolio; the task's buffers are moved to the worker when it runs there (unusable after). */
  evaluate(task: PortfolioTask): Promise<PortfolioTaskResult>;
  close(): Promise<void>;
}

export interface PortfolioPoolOptions {
  logger: RiskLogger;
  /** Worker threads (default: available cores, at most 2: portfolios are counted in one task each). */
  threads?: number;
  /** Risks above which the pool is used (default 5,000); 0 always uses it, Infinity never. */
  poolThreshold?: number;
}

/**
 * The portfolio pool, built lazily: no thread starts until the first large portfolio (most servers never
 * count one), and they then stay. Worker files load as `.ts` through tsx when this module runs from
 * source (tsx, vitest), as the compiled `.js` otherwise — the same arrangement as riskScan.pool.ts.
 */
export function createPortfolioEvaluator(options: PortfolioPoolOptions): PortfolioEvaluator {
  const threshold = options.poolThreshold ?? DEFAULT_POOL_THRESHOLD;
  const threads = Math.max(1, options.threads ?? Math.min(2, availableParallelism()));
  let pool: Piscina<PortfolioTask, PortfolioTaskResult> | null = null;
  let closed = false;
  const poolOf = () => {
    if (pool) return pool;
    const fromSource = import.meta.url.endsWith('.ts');
    pool = new Piscina<PortfolioTask, PortfolioTaskResult>({
      filename: new URL(fromSource ? './portfolio.worker.ts' : './portfolio.worker.js', import.meta.url).href,
      execArgv: fromSource ? [...process.execArgv, '--import', import.meta.resolve('tsx')] : [...process.execArgv],
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 2 ** 31 - 1,
    });
    // A worker that dies outside a task surfaces here; without a listener it would crash the process.
    pool.on('error', (err: unknown) => options.logger.error({ err }, 'portfolio worker failed'));
    return pool;
  };
  const placement = (risks: number): 'pool' | 'thread' => (risks > threshold ? 'pool' : 'thread');
  return {
    placement,
    evaluate(task) {
      if (placement(task.codes.length) === 'thread' || closed) return Promise.resolve(evaluatePortfolio(task));
      // Moved, not copied: the codes are the only large part and the caller is done with them.
      return poolOf().run(task, { transferList: [task.codes.buffer as ArrayBuffer, task.offsets.buffer as ArrayBuffer] });
    },
    async close() {
      closed = true;
      await pool?.close();
    },
  };
}
