/**
 * The contract between the harness (bench/run.ts) and a scenario (bench/scenarios/*.ts). A scenario runs
 * against the real Redis and PostgreSQL named in the context, bounds every loop in count and time, cleans
 * up what it created, and returns named numbers (plus units) for the table, the JSON and the chart.
 */
export interface BenchContext {
  redisUrl: string;
  databaseUrl: string;
  /** Short progress line shown while the scenario runs. */
  progress(message: string): void;
  /** Scale factor from `--quick` (e.g. 0.1) so CI-like runs stay short; 1 for the real run. */
  scale: number;
}

export interface Metric {
  name: string;
  value: number;
  unit: string;
  /** Which way is better, for the chart and the target check. */
  better?: 'higher' | 'lower';
  /** The target from the issue, when there is one (checked in the table, never in tests). */
  target?: { op: '>=' | '<='; value: number; label?: string };
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Metric[]>;
}

/** A duration metric in milliseconds (lower is better); a missing value shows as NaN, not as 0. */
export function msMetric(name: string, value: number | undefined, target?: Metric['target']): Metric {
  return { name, value: value ?? Number.NaN, unit: 'ms', better: 'lower', ...(target ? { target } : {}) };
}

/** Lets a scenario file run alone: `npx tsx bench/scenarios/x.ts`. */
export async function runStandalone(scenario: Scenario): Promise<void> {
  const ctx: BenchContext = {
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    progress: (m) => process.stderr.write(`[${scenario.name}] ${m}\n`),
    scale: Number(process.env.BENCH_SCALE ?? '1'),
  };
  const metrics = await scenario.run(ctx);
  for (const m of metrics) console.log(`${m.name.padEnd(44)} ${formatValue(m.value).padStart(14)} ${m.unit}`);
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

/** True when `import.meta.url` is the entry script (a scenario run alone). */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && importMetaUrl === new URL(`file://${entry}`).href;
}
