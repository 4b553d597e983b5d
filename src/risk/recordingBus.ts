import type { RiskFactsRepository } from '../db/riskFactsRepository.js';
import type { EventBus } from './eventBus.js';

/**
 * The bus every publisher in this process is given: `publish` stores the fact in PostgreSQL first, then
 * publishes it. Storing in the publishing process, not in a subscriber, keeps each fact once
 * cluster-wide: with Redis every process's subscribers receive the event, but only its publisher
 * records it. Events from other processes reach subscribers through the inner bus, unrecorded.
 *
 * A publish that fails (a critical subscriber, the transport) withdraws the fact, so a failed publish
 * leaves nothing behind and the monitor's retry on the next scan is not a second fact of one crossing.
 */
export function createRecordingBus(bus: EventBus, facts: Pick<RiskFactsRepository, 'record' | 'withdraw'>): EventBus {
  return {
    async publish(event) {
      const stored = await facts.record(event);
      try {
        await bus.publish(event);
      } catch (err) {
        if (stored) await facts.withdraw(event.fact.riskId).catch(() => {});
        throw err;
      }
    },
    subscribe: (options, handler) => bus.subscribe(options, handler),
    close: () => bus.close(),
  };
}
