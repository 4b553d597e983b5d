import type { RiskFactsRepository } from '../db/riskFactsRepository.js';
import type { EventBus } from './eventBus.js';
import { scopeKey } from './riskEvent.js';

/**
 * The bus every publisher in this process is given: `publish` stores the fact in PostgreSQL first, then
 * publishes it. Storing in the publishing process, not in a subscriber, keeps each fact once
 * cluster-wide: with Redis every process's subscribers receive the event, but only its publisher
 * records it. Events from other processes reach subscribers through the inner bus, unrecorded.
 *
 * A publish that fails (a critical subscriber, the transport) withdraws the fact, so a failed publish
 * leaves nothing behind and the monitor's retry on the next scan is not a second fact of one crossing.
 *
 * Publishes of one scope run one after another, in call order: storing takes a round trip, and facts
 * published together (the monitor publishes a batch at once) must still reach subscribers, and take
 * their sequence numbers, in the order they were published. Different scopes go concurrently.
 */
export function createRecordingBus(bus: EventBus, facts: Pick<RiskFactsRepository, 'record' | 'withdraw'>): EventBus {
  const tails = new Map<string, Promise<void>>();
  return {
    publish(event) {
      const key = scopeKey(event.scope);
      const turn = (tails.get(key) ?? Promise.resolve()).then(async () => {
        const stored = await facts.record(event);
        try {
          await bus.publish(event);
        } catch (err) {
          if (stored) await facts.withdraw(event.fact.riskId).catch(() => {});
          throw err;
        }
      });
      const tail = turn.catch(() => {});
      tails.set(key, tail);
      // The last publish of a scope forgets it, so the map holds only scopes with publishes in flight.
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return turn;
    },
    subscribe: (options, handler) => bus.subscribe(options, handler),
    close: () => bus.close(),
  };
}
