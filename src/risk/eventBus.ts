import { WardenError } from '../errors.js';
import { parseRiskEvent, riskEventToJson, riskScopeSchema, scopeKey, type RiskEvent, type RiskEventJson, type RiskScope } from './riskEvent.js';
import type { RiskLogger } from './riskLogger.js';

/**
 * The risk event bus (SPEC §6). Subscribers register for a scope:
 * - a platform subscriber receives every platform-wide event, and the scoped events its `select` accepts;
 * - a user or project subscriber receives the events of exactly that scope.
 *
 * `publish` delivers to this process's subscribers, then hands the event to the transport for the other
 * processes. Critical subscribers run first, one after another; if one throws, the publish fails with
 * PUBLISH_FAILED and the event goes nowhere else (a critical subscriber is a gate, e.g. an audit write).
 * Other subscribers then run together; a failure is logged and the rest still get the event.
 * Events arriving from other processes are delivered the same way, except that nobody is left to fail:
 * a critical subscriber's failure there is logged as an error.
 */

export type RiskEventHandler = (event: RiskEvent) => void | Promise<void>;

export interface SubscribeOptions {
  scope: RiskScope;
  /** Platform subscribers only: which user and project events they receive too. */
  select?: (scope: RiskScope) => boolean;
  /** A critical subscriber's failure fails the publish. */
  critical?: boolean;
  /** Names the subscriber in logs and errors. */
  name?: string;
}

export type Unsubscribe = () => void;

export interface EventBus {
  /** Resolves once delivered here and handed to the transport; rejects with PUBLISH_FAILED or a transport error. */
  publish(event: RiskEvent): Promise<void>;
  subscribe(options: SubscribeOptions, handler: RiskEventHandler): Unsubscribe;
  /** Drops every subscriber and closes the transport. */
  close(): Promise<void>;
}

/** How events reach the other processes. */
export interface RiskTransport {
  /** Starts handing other processes' events (unvalidated JSON) to `receive`; resolves once listening. */
  start(receive: (json: unknown) => void): Promise<void>;
  /** Sends an event published in this process to the others. */
  send(event: RiskEventJson): Promise<void>;
  close(): Promise<void>;
}

/** One process, no other: nothing to send, nothing arrives. Also what the embedded (no Redis) mode uses. */
export function createInProcessTransport(): RiskTransport {
  return { start: async () => {}, send: async () => {}, close: async () => {} };
}

interface Subscriber {
  options: SubscribeOptions;
  name: string;
  handler: RiskEventHandler;
}

export interface EventBusOptions {
  transport?: RiskTransport;
  logger: RiskLogger;
}

/** A bus listening on its transport (in-process when none is given). */
export async function createEventBus(options: EventBusOptions): Promise<EventBus> {
  const transport = options.transport ?? createInProcessTransport();
  const { logger } = options;
  const byScope = new Map<string, Set<Subscriber>>();
  let anonymous = 0;
  let closed = false;

  const targetsOf = (scope: RiskScope): Subscriber[] => {
    const exact = [...(byScope.get(scopeKey(scope)) ?? [])];
    if (scope.kind === 'platform') return exact;
    const platform = [...(byScope.get('platform') ?? [])].filter((s) => s.options.select?.(scope) === true);
    return [...exact, ...platform];
  };

  const deliver = async (event: RiskEvent, origin: 'local' | 'remote'): Promise<void> => {
    const targets = targetsOf(event.scope);
    for (const sub of targets.filter((s) => s.options.critical === true)) {
      try {
        await sub.handler(event);
      } catch (err) {
        const error = new WardenError(
          'PUBLISH_FAILED',
          `critical subscriber ${sub.name} failed`,
          { eventType: event.type, subscriber: sub.name },
          { cause: err },
        );
        if (origin === 'local') throw error;
        logger.error({ err, subscriber: sub.name, riskId: event.fact.riskId }, 'critical risk subscriber failed on a remote event');
      }
    }
    const others = targets.filter((s) => s.options.critical !== true);
    const results = await Promise.allSettled(others.map(async (s) => s.handler(event)));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const err: unknown = result.reason;
        logger.warn({ err, subscriber: others[i]?.name, riskId: event.fact.riskId }, 'risk subscriber failed; delivery goes on');
      }
    });
  };

  await transport.start((json) => {
    if (closed) return;
    let event: RiskEvent;
    try {
      event = parseRiskEvent(json);
    } catch (err) {
      logger.warn({ err }, 'dropped a malformed risk event from another process');
      return;
    }
    deliver(event, 'remote').catch((err: unknown) => logger.error({ err }, 'risk event delivery failed'));
  });

  return {
    async publish(event) {
      if (closed) throw new Error('event bus is closed');
      // Validated and frozen once; every subscriber sees the same immutable event.
      const json = riskEventToJson(event);
      const frozen = parseRiskEvent(json);
      await deliver(frozen, 'local');
      await transport.send(json);
    },

    subscribe(subscribeOptions, handler) {
      const scope = riskScopeSchema.parse(subscribeOptions.scope);
      if (subscribeOptions.select && scope.kind !== 'platform') {
        throw new TypeError('only platform subscribers select scoped events');
      }
      const key = scopeKey(scope);
      const sub: Subscriber = {
        options: { ...subscribeOptions, scope },
        name: subscribeOptions.name ?? `subscriber-${++anonymous}`,
        handler,
      };
      let set = byScope.get(key);
      if (!set) byScope.set(key, (set = new Set()));
      set.add(sub);
      return () => {
        set.delete(sub);
        if (set.size === 0 && byScope.get(key) === set) byScope.delete(key);
      };
    },

    async close() {
      closed = true;
      byScope.clear();
      await transport.close();
    },
  };
}
