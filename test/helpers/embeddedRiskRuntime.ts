import { afterAll } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { migrate } from '../../src/db/migrate.js';
import { DEFAULT_TIERS } from '../../src/domain/tiers.js';
import { createMemoryStores } from '../../src/redis/memory/createMemoryStores.js';
import type { HotStores } from '../../src/redis/hotStores.js';
import { createRiskRuntime, type RiskRuntime, type RiskRuntimeOptions } from '../../src/risk/riskRuntime.js';
import { useTestDb, type TestDb } from './testDb.js';

/**
 * The risk runtime as the embedded mode runs it — no Redis: the stand-in's TokenStore and the in-process
 * bus — on a migrated schema of its own and a manual clock; closed after the file. Call at the top level
 * of a test file (its cleanup hook must be registered on the file).
 */
export async function useEmbeddedRiskRuntime(options: {
  label: string;
  /** Where the manual clock starts (ISO). */
  startAt: string;
  /** Warnings and errors the runtime logs land here (default: dropped). */
  logged?: string[];
  scanThreads?: number;
  factRetentionDays?: number;
}): Promise<{ db: TestDb; clock: ManualClock; stores: HotStores; runtime: RiskRuntime }> {
  const db = await useTestDb(options.label);
  await migrate(db.sql);
  const clock = createManualClock(options.startAt);
  const stores = createMemoryStores({ clock });
  const log = (_fields: unknown, message: string) => void options.logged?.push(message);
  const runtimeOptions: RiskRuntimeOptions = {
    sql: db.sql,
    clock,
    tiers: DEFAULT_TIERS,
    logger: { warn: log, error: log },
    tokens: stores.tokens,
    scanThreads: options.scanThreads ?? 0,
    ...(options.factRetentionDays === undefined ? {} : { factRetentionDays: options.factRetentionDays }),
  };
  const runtime = await createRiskRuntime(runtimeOptions);
  afterAll(async () => {
    await runtime.close();
    await stores.close();
  });
  return { db, clock, stores, runtime };
}
