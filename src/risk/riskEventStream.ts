import type { RiskFactsRepository } from '../db/riskFactsRepository.js';
import type { EventBus } from './eventBus.js';
import { riskEventToJson, scopeKey, type RiskEventJson, type RiskScope } from './riskEvent.js';
import type { RiskLogger } from './riskLogger.js';

/** How often a stream reads its log with no wake-up: a safety net for a wake-up lost on the way (Redis pub/sub). */
export const RISK_LOG_POLL_MS = 15_000;

const UNREADABLE_RETRY_MS = 1_000;

export interface RiskEventStreamOptions {
  bus: EventBus;
  facts: Pick<RiskFactsRepository, 'after' | 'seqOf' | 'lastSeq'>;
  /** The reader: their facts (their user scope, their projects) come from their log. */
  userId: string;
  /** Whether a scope's facts are filed under the reader (asked once per scope, then remembered). */
  owns: (scope: RiskScope) => boolean | Promise<boolean>;
  /** Admins: every other fact too, live as it is published (not replayed on resume). */
  seesOthers?: boolean;
  /** The riskId of the last event the reader got; the stream resumes after it. Absent: live from now. */
  lastEventId?: string | null;
  /** Ends the stream (the client went away). */
  signal?: AbortSignal;
  logger: RiskLogger;
  /** Others' facts held for a slow admin reader before the oldest are dropped (default 1,000). */
  maxBuffered?: number;
  pollMs?: number;
}

/**
 * The risk facts of one reader (a tRPC subscription). The reader's own facts come from the durable log,
 * so a resumed stream has no gap and no duplicate, like jobs.events: it subscribes first, then reads the
 * log after its cursor, and a live event of the reader's only wakes it to read the log after the last
 * seq it yielded (facts are rare; the log is the one source). A publisher stores a fact before it
 * publishes it, so a wake-up never outruns the log.
 *
 * `lastEventId` is a riskId; one that is not the reader's stored fact (purged past retention, or another
 * user's fact an admin saw live) resumes live from now: risks.history reads what came before.
 * It never ends on its own; it ends when `signal` aborts or the reader stops, and then unsubscribes.
 */
export async function* streamRiskEvents(options: RiskEventStreamOptions): AsyncGenerator<RiskEventJson, void, undefined> {
  const { bus, facts, userId, signal, logger } = options;
  const maxBuffered = options.maxBuffered ?? 1000;
  const pollMs = options.pollMs ?? RISK_LOG_POLL_MS;
  const owned = new Map<string, Promise<boolean>>();
  const isOwn = (scope: RiskScope) => {
    const key = scopeKey(scope);
    let answer = owned.get(key);
    if (!answer) {
      answer = Promise.resolve(options.owns(scope));
      owned.set(key, answer);
      // Remember answers, not failures: a failed lookup is asked again for the next event.
      answer.catch(() => owned.delete(key));
    }
    return answer;
  };
  const others: RiskEventJson[] = [];
  let dirty = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const off = bus.subscribe({ scope: { kind: 'platform' }, select: () => true, name: 'risk-event-stream' }, async (event) => {
    if (event.scope.kind !== 'platform' && (await isOwn(event.scope))) {
      dirty = true;
    } else if (options.seesOthers === true) {
      if (others.length >= maxBuffered) {
        others.shift();
        logger.warn({ maxBuffered }, 'risk event stream reader too slow; dropped the oldest event');
      }
      others.push(riskEventToJson(event));
    } else {
      return;
    }
    notify();
  });
  signal?.addEventListener('abort', notify, { once: true });
  try {
    // After subscribing: whatever is stored after this position arrives from the log.
    let last = (options.lastEventId ? await facts.seqOf(userId, options.lastEventId) : null) ?? (await facts.lastSeq(userId));
    let readLog = true;
    let unreadable = false;
    while (!signal?.aborted) {
      if (readLog || dirty) {
        dirty = false;
        unreadable = false;
        try {
          for (let page = await facts.after(userId, last); page.length > 0; page = await facts.after(userId, last)) {
            for (const stored of page) {
              last = stored.seq;
              yield stored.event;
            }
          }
        } catch (err) {
          // PostgreSQL unreachable: the next wake-up or poll reads from the same position.
          logger.warn({ err, userId }, 'risk fact log unreadable; retrying');
          unreadable = true;
        }
        readLog = false;
      }
      const next = others.shift();
      if (next) {
        yield next;
        continue;
      }
      if (dirty) continue;
      let timer: NodeJS.Timeout | undefined;
      readLog = await new Promise<boolean>((resolve) => {
        wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), unreadable ? UNREADABLE_RETRY_MS : pollMs);
      });
      clearTimeout(timer);
      wake = null;
    }
  } finally {
    off();
    signal?.removeEventListener('abort', notify);
  }
}
