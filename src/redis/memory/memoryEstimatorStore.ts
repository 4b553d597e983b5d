import { nextAverage } from '../../domain/waitEstimate.js';
import { assertSeconds, type EstimatorStore } from '../estimatorStore.js';
import { assertId } from '../storeArgs.js';
import { atomically } from './atomically.js';

/** The stand-in's EstimatorStore: one average per tier, the same arithmetic as recordDuration.lua. */
export function createMemoryEstimatorStore(): EstimatorStore {
  const averages = new Map<string, number>();
  return {
    recordDuration: (tier, seconds, defaultSeconds) =>
      atomically(() => {
        assertId('tier', tier);
        assertSeconds('defaultSeconds', defaultSeconds);
        const average = nextAverage(averages.get(tier) ?? defaultSeconds, seconds);
        averages.set(tier, average);
        return average;
      }),
    average: (tier, defaultSeconds) =>
      atomically(() => {
        assertId('tier', tier);
        assertSeconds('defaultSeconds', defaultSeconds);
        return averages.get(tier) ?? defaultSeconds;
      }),
    restore: (tier, seconds) =>
      atomically(() => {
        assertId('tier', tier);
        assertSeconds('seconds', seconds);
        if (!averages.has(tier)) averages.set(tier, seconds);
      }),
  };
}
