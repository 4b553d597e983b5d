import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Keys } from '../redis/keys.js';
import type { RiskTransport } from './eventBus.js';
import type { RiskEventJson } from './riskEvent.js';

/**
 * The risk bus across processes: every event on one Redis channel, each message tagged with the sending
 * process's origin id so that a process does not deliver its own events twice (it already delivered them
 * locally). One channel is enough: risk events are rare (one per crossing), and each process filters by
 * scope in memory. Pub/sub is fire-and-forget: a process that is down when an event is sent misses it.
 */

const envelopeSchema = z.strictObject({ origin: z.string().min(1), event: z.unknown() });

export interface RedisRiskTransportOptions {
  /** The command connection PUBLISH goes through. */
  publisher: Redis;
  /** A connection for SUBSCRIBE only (Redis takes it over). */
  subscriber: Redis;
  keys: Keys;
  /** Whether close() ends the subscriber connection (true when it was made for this transport). */
  ownsSubscriber?: boolean;
}

export function createRedisRiskTransport(options: RedisRiskTransportOptions): RiskTransport {
  const { publisher, subscriber, keys } = options;
  const channel = keys.riskEvents('bus');
  const origin = randomUUID();
  let onMessage: ((ch: string, message: string) => void) | null = null;

  return {
    async start(receive) {
      onMessage = (ch, message) => {
        if (ch !== channel) return;
        let envelope: z.infer<typeof envelopeSchema>;
        try {
          envelope = envelopeSchema.parse(JSON.parse(message));
        } catch {
          // The bus logs and drops what it cannot parse; hand it over as is.
          receive(message);
          return;
        }
        if (envelope.origin !== origin) receive(envelope.event);
      };
      subscriber.on('message', onMessage);
      await subscriber.subscribe(channel);
    },

    async send(event: RiskEventJson) {
      await publisher.publish(channel, JSON.stringify({ origin, event }));
    },

    async close() {
      if (onMessage) subscriber.off('message', onMessage);
      onMessage = null;
      if (options.ownsSubscriber) {
        subscriber.disconnect();
      } else if (subscriber.status === 'ready') {
        await subscriber.unsubscribe(channel);
      }
    },
  };
}
