import type { EventBus } from './eventBus.js';
import type { RiskEvent, RiskScope } from './riskEvent.js';
import type { RiskLogger } from './riskLogger.js';

export interface RiskEventStreamOptions {
  bus: EventBus;
  /** Whether this reader may see events of a scope (asked once per scope, then remembered). */
  canSee: (scope: RiskScope) => boolean | Promise<boolean>;
  /** Ends the stream (the client went away). */
  signal?: AbortSignal;
  logger: RiskLogger;
  /** Events held for a slow reader before the oldest are dropped (default 1,000). */
  maxBuffered?: number;
}

/**
 * The bus as an async iterable for one reader (a tRPC subscription): a platform subscriber that takes
 * every event, filtered by `canSee`, buffered while the reader is busy. It never ends on its own; it ends
 * when `signal` aborts or the reader stops, and then unsubscribes. A reader that falls more than
 * `maxBuffered` events behind loses the oldest (logged): a live view must not hold memory unbounded.
 */
export async function* streamRiskEvents(options: RiskEventStreamOptions): AsyncGenerator<RiskEvent, void, undefined> {
  const { bus, signal, logger } = options;
  const maxBuffered = options.maxBuffered ?? 1000;
  const seen = new Map<string, Promise<boolean>>();
  const visible = (scope: RiskScope) => {
    const key = scope.kind === 'platform' ? 'platform' : `${scope.kind}:${scope.id}`;
    let answer = seen.get(key);
    if (!answer) {
      answer = Promise.resolve(options.canSee(scope));
      seen.set(key, answer);
      // Remember answers, not failures: a failed lookup is asked again for the next event.
      answer.catch(() => seen.delete(key));
    }
    return answer;
  };
  const queue: RiskEvent[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const off = bus.subscribe({ scope: { kind: 'platform' }, select: () => true, name: 'risk-event-stream' }, async (event) => {
    if (!(await visible(event.scope))) return;
    if (queue.length >= maxBuffered) {
      queue.shift();
      logger.warn({ maxBuffered }, 'risk event stream reader too slow; dropped the oldest event');
    }
    queue.push(event);
    notify();
  });
  signal?.addEventListener('abort', notify, { once: true });
  try {
    while (!signal?.aborted) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    off();
    signal?.removeEventListener('abort', notify);
  }
}
