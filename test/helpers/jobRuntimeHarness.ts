import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Sql } from '../../src/db/client.js';
import { createProjectsRepository } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { createJobRuntime, type JobRuntime, type JobRuntimeOptions, type RuntimeConfig } from '../../src/jobs/createJobRuntime.js';
import type { StepHandler, StepHandlers } from '../../src/jobs/stepHandlers.js';
import { createRedisStores } from '../../src/redis/createRedisStores.js';
import type { HotStores } from '../../src/redis/hotStores.js';
import type { Keys } from '../../src/redis/keys.js';

/** Runtime settings for tests: no step time, a queue large enough for the test's jobs. */
export const TEST_RUNTIME_CONFIG: RuntimeConfig = {
  workers: 8,
  stepMs: 0,
  checksFailRate: 0,
  leaseSeconds: 30,
  heartbeatSeconds: 1,
  queueCap: 10_000,
  maxJobAgeHours: 72,
  midnightJitterSeconds: 300,
  tiers: DEFAULT_TIERS,
};

/**
 * Step handlers driven by the goal: "fail-checks:N" makes checks fail while the job's iteration is
 * below N (deterministic, whichever process runs the step); "fail-step:code" fails that step;
 * "slow:MS" makes every step take MS milliseconds (honouring the abort signal).
 */
export function goalDrivenHandlers(): StepHandlers {
  const make =
    (step: 'scaffold' | 'code' | 'deps' | 'checks'): StepHandler =>
    async ({ goal, iteration, signal }) => {
      const slow = /slow:(\d+)/.exec(goal);
      if (slow) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, Number(slow[1]));
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted'));
          });
        });
      }
      if (goal.includes(`fail-step:${step}`)) return { ok: false, reason: `${step} broke` };
      const failChecks = /fail-checks:(\d+)/.exec(goal);
      if (step === 'checks' && failChecks && iteration < Number(failChecks[1])) return { ok: false, reason: `red at ${iteration}` };
      return { ok: true, tokens: { input: 1, output: 1 } };
    };
  return { scaffold: make('scaffold'), code: make('code'), deps: make('deps'), checks: make('checks') };
}

export interface TestRuntime {
  runtime: JobRuntime;
  /** Resolves once this runtime hosts no job (checked as each hosted job ends). */
  idle(): Promise<void>;
  stores: HotStores;
  close(): Promise<void>;
}

/** A runtime (one "process") on the test's Redis prefix and PostgreSQL schema. */
export async function startTestRuntime(options: {
  redis: Redis;
  keys: Keys;
  sql: Sql;
  clock?: Clock;
  config?: Partial<RuntimeConfig>;
  stepHandlers?: StepHandlers;
  extra?: Partial<JobRuntimeOptions>;
  start?: boolean;
  /**
   * Take the hot state as it is (default): tests give runtimes fresh key prefixes on a schema other
   * tests share, which a runtime would otherwise read as "Redis lost its data" and rebuild from
   * everyone's jobs. False: leave the epoch alone, so the runtime rebuilds as a real one would.
   */
  adoptHotState?: boolean;
}): Promise<TestRuntime> {
  const clock = options.clock ?? systemClock;
  const stores = createRedisStores({ redis: options.redis, keys: options.keys, clock });
  const idleWaiters = new Set<() => void>();
  const runtime: JobRuntime = createJobRuntime({
    sql: options.sql,
    stores,
    clock,
    config: { ...TEST_RUNTIME_CONFIG, ...options.config },
    stepHandlers: options.stepHandlers ?? goalDrivenHandlers(),
    pollMs: 200,
    shutdownGraceMs: 2_000,
    ...options.extra,
    onRunOutcome: (jobId, outcome) => {
      options.extra?.onRunOutcome?.(jobId, outcome);
      if (runtime.hostedCount() === 0) for (const resolve of [...idleWaiters]) resolve();
    },
  });
  if (options.adoptHotState !== false && (await stores.epoch.read()) === null) await stores.epoch.write(`test-${randomUUID()}`);
  if (options.start !== false) await runtime.start();
  return {
    runtime,
    idle: () =>
      new Promise<void>((resolve) => {
        if (runtime.hostedCount() === 0) return resolve();
        const done = () => {
          idleWaiters.delete(done);
          resolve();
        };
        idleWaiters.add(done);
      }),
    stores,
    async close() {
      await runtime.stop();
      await stores.close();
    },
  };
}

export interface Seeded {
  users: { id: string; tier: string }[];
  projects: { id: string; ownerId: string }[];
}

/** Users of the given tiers with `projectsEach` projects each. */
export async function seedOwners(sql: Sql, tiers: string[], projectsEach: number, clock: Clock = systemClock): Promise<Seeded> {
  const users = createUsersRepository(sql);
  const projects = createProjectsRepository(sql);
  const seeded: Seeded = { users: [], projects: [] };
  for (const tier of tiers) {
    const id = `u-${tier}-${randomUUID().slice(0, 6)}`;
    await users.upsertUser({ id, tier, now: clock.now() });
    seeded.users.push({ id, tier });
    for (let p = 0; p < projectsEach; p++) {
      const row = await projects.createProject({ ownerId: id, name: `p${p}`, now: clock.now() });
      seeded.projects.push({ id: row.id, ownerId: id });
    }
  }
  return seeded;
}
