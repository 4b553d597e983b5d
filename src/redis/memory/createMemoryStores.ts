import type { Clock } from '../../clock.js';
import type { HotStores } from '../hotStores.js';
import type { FeedErrorHandler } from '../jobEventFeed.js';
import { createMemoryClaimStore } from './memoryClaimStore.js';
import { createMemoryControlChannel } from './memoryControlChannel.js';
import { createMemoryEstimatorStore } from './memoryEstimatorStore.js';
import { createMemoryRunnerRegistry } from '../runnerRegistry.js';
import { createMemoryJobEventFeed } from './memoryJobEventFeed.js';
import { createMemoryQueueStore } from './memoryQueueStore.js';
import { createMemoryQuotaStore } from './memoryQuotaStore.js';
import { createMemoryTokenStore } from './memoryTokenStore.js';
import { createMemoryTransitionStore } from './memoryTransitionStore.js';

/**
 * The in-process stand-in for Redis (SPEC §10's embedded default): the same HotStores contract, for one
 * process only — nothing is shared with another process and nothing survives a restart. Expiry follows
 * the injected clock.
 */
export function createMemoryStores(options: {
  clock: Clock;
  terminalRetentionMs?: number;
  onFeedError?: FeedErrorHandler;
}): HotStores {
  const { clock } = options;
  const events = createMemoryJobEventFeed(options.onFeedError ? { onError: options.onFeedError } : {});
  const queue = createMemoryQueueStore();
  const control = createMemoryControlChannel();
  const estimator = createMemoryEstimatorStore();
  let closed = false;
  let epoch: string | null = null;
  return {
    kind: 'memory',
    transitions: createMemoryTransitionStore(
      events,
      clock,
      options.terminalRetentionMs === undefined ? {} : { terminalRetentionMs: options.terminalRetentionMs },
    ),
    events,
    quotas: createMemoryQuotaStore(clock),
    tokens: createMemoryTokenStore(clock),
    queue,
    claims: createMemoryClaimStore(queue, clock, estimator),
    control,
    estimator,
    runners: createMemoryRunnerRegistry(clock),
    epoch: {
      read: () => Promise.resolve(epoch),
      write: (id) => {
        epoch = id;
        return Promise.resolve();
      },
    },
    ping: () => Promise.resolve(!closed),
    close: async () => {
      closed = true;
      await Promise.all([events.close(), control.close()]);
    },
  };
}
