import { describe, expect, it } from 'vitest';
import { STAGE_LABELS } from '../../actors/jobTransitions.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_TIERS, hardIterationCap, resolveTier } from '../../src/domain/tiers.js';

/**
 * SPEC §1 and §2's numbers and labels, written here as literals (not read back from the code's own
 * constants), so a change to the configuration defaults fails a test instead of passing silently.
 */
describe('SPEC numbers', () => {
  it('the tier table of SPEC §1', () => {
    expect(DEFAULT_TIERS).toEqual({
      bootstrapper: { dailyJobs: 5, iterationDepth: 2, concurrentPerUser: 2, concurrentPerProject: 2, queueBoost: 0, defaultJobSeconds: 480, tokensPerDay: 500_000 },
      partner: { dailyJobs: 50, iterationDepth: 3, concurrentPerUser: 3, concurrentPerProject: 3, queueBoost: 2, defaultJobSeconds: 600, tokensPerDay: 2_000_000 },
      cto_scale: { dailyJobs: 200, iterationDepth: 5, concurrentPerUser: 10, concurrentPerProject: 5, queueBoost: 5, defaultJobSeconds: 900, tokensPerDay: -1 },
    });
    expect([hardIterationCap(DEFAULT_TIERS.bootstrapper), hardIterationCap(DEFAULT_TIERS.partner), hardIterationCap(DEFAULT_TIERS.cto_scale)]).toEqual([6, 9, 15]);
  });

  it('an unknown tier gets the bootstrapper limits with a 600 s estimator default', () => {
    expect(resolveTier(DEFAULT_TIERS, 'enterprise')).toEqual({
      dailyJobs: 5,
      iterationDepth: 2,
      concurrentPerUser: 2,
      concurrentPerProject: 2,
      queueBoost: 0,
      defaultJobSeconds: 600,
      tokensPerDay: 500_000,
    });
  });

  it('the stage labels of SPEC §2', () => {
    expect(STAGE_LABELS).toEqual({
      queued: 'Queued…',
      scheduled: 'Scheduled',
      starting: 'Starting…',
      scaffold: 'Scaffolding workspace…',
      code: 'Writing code…',
      deps: 'Installing dependencies…',
      checks: 'Running checks…',
      ready: 'Build complete!',
      failed: 'Build failed',
    });
  });

  it('WARDEN_TIERS overrides single fields and keeps the rest, and refuses bad values', () => {
    const config = loadConfig({ WARDEN_TIERS: '{"partner":{"dailyJobs":80,"concurrentPerUser":4}}', LOG_LEVEL: 'silent' });
    expect(config.tiers.partner).toEqual({ dailyJobs: 80, iterationDepth: 3, concurrentPerUser: 4, concurrentPerProject: 3, queueBoost: 2, defaultJobSeconds: 600, tokensPerDay: 2_000_000 });
    expect(config.tiers.bootstrapper.dailyJobs).toBe(5);
    expect(() => loadConfig({ WARDEN_TIERS: '{"partner":{"dailyJobs":-1}}' })).toThrow(/WARDEN_TIERS/);
    expect(() => loadConfig({ WARDEN_TIERS: '{"partner":{"unknownField":1}}' })).toThrow(/WARDEN_TIERS/);
  });
});
