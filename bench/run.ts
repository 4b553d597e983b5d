/**
 * `npm run bench [-- name ...] [--quick]`: runs the named scenarios (all by default) against the real
 * Redis and PostgreSQL, shows progress, prints a table, and writes JSON and an SVG chart to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { renderChart, type ChartRow } from './lib/chart.js';
import { describeMachine } from './lib/machine.js';
import { formatValue, type Metric, type Scenario } from './lib/scenario.js';

const ORDER = ['jobs', 'rows', 'latency', 'admission', 'scan', 'api', 'fanout', 'memory', 'peer'];

async function loadScenarios(): Promise<Scenario[]> {
  const dir = new URL('./scenarios/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
  const loaded: Scenario[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
    // A module may export the same scenario twice (named and default): keep one.
    for (const scenario of Object.values(mod).filter(isScenario)) if (!loaded.includes(scenario)) loaded.push(scenario);
  }
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return loaded.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

function isScenario(value: unknown): value is Scenario {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Scenario>;
  return typeof v.name === 'string' && typeof v.run === 'function';
}

function targetMark(m: Metric): string {
  if (!m.target) return '';
  const met = m.target.op === '>=' ? m.value >= m.target.value : m.value <= m.target.value;
  return `${met ? 'met' : 'NOT met'} (${m.target.op} ${formatValue(m.target.value)})`;
}

/**
 * The peer comparison needs both numbers from the same run: Warden's best jobs/s (1 or 2 processes)
 * over BullMQ's, for trivial jobs and for jobs reporting progress 6 times (target ≥ 1, stretch 1.5).
 */
function addPeerRatios(results: { scenario: string; metrics: Metric[] }[]): void {
  const jobs = results.find((r) => r.scenario === 'jobs')?.metrics ?? [];
  const peer = results.find((r) => r.scenario === 'peer');
  // Two processes: the configuration the throughput target is set for (≥ 0.35× BullMQ with 6 progress updates).
  const warden = jobs.find((m) => m.name === 'jobs/s to terminal (2 processes)')?.value ?? Number.NaN;
  if (!peer || !Number.isFinite(warden)) return;
  for (const m of [...peer.metrics]) {
    if (!m.name.startsWith('bullmq jobs/s')) continue;
    const progress = m.name.includes('progress');
    peer.metrics.push({
      name: `warden (2 processes) ÷ ${m.name.replace(' jobs/s', '')}`,
      value: warden / m.value,
      unit: '×',
      better: 'higher',
      ...(progress ? { target: { op: '>=' as const, value: 0.35 } } : {}),
    });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { quick: { type: 'boolean', default: false } } });
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const all = await loadScenarios();
  const unknown = positionals.filter((p) => !all.some((s) => s.name === p));
  if (unknown.length > 0) {
    console.error(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${all.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  const selected = positionals.length > 0 ? all.filter((s) => positionals.includes(s.name)) : all;
  const machine = await describeMachine(redisUrl, databaseUrl);
  console.log(`Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}, PostgreSQL ${machine.postgres}`);

  const results: { scenario: string; description: string; seconds: number; metrics: Metric[]; error?: string }[] = [];
  for (const [i, scenario] of selected.entries()) {
    const started = performance.now();
    const prefix = `[${i + 1}/${selected.length} ${scenario.name}]`;
    const progress = (msg: string) => {
      const elapsed = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${prefix} ${elapsed}s ${msg}` : `${prefix} ${elapsed}s ${msg}\n`);
    };
    progress('starting');
    try {
      const metrics = await scenario.run({ redisUrl, databaseUrl, progress, scale: values.quick ? 0.1 : 1 });
      results.push({ scenario: scenario.name, description: scenario.description, seconds: (performance.now() - started) / 1000, metrics });
    } catch (err) {
      results.push({ scenario: scenario.name, description: scenario.description, seconds: (performance.now() - started) / 1000, metrics: [], error: String(err) });
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
  }

  addPeerRatios(results);
  const rows = results.flatMap((r) =>
    r.error ? [[r.scenario, 'ERROR', r.error, '', '']] : r.metrics.map((m) => [r.scenario, m.name, formatValue(m.value), m.unit, targetMark(m)]),
  );
  const header = ['scenario', 'metric', 'value', 'unit', 'target'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 2 ? x.padStart(widths[c] ?? 0) : x.padEnd(widths[c] ?? 0))).join(' | ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}`);
  for (const r of rows) console.log(line(r));

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = new URL('./results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  const json = { date: new Date().toISOString(), command: `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, machine, results };
  writeFileSync(new URL(`bench-${stamp}.json`, outDir), JSON.stringify(json, null, 2));
  writeFileSync(new URL('latest.json', outDir), JSON.stringify(json, null, 2));
  const chartRows: ChartRow[] = results.flatMap((r) => r.metrics.map((metric) => ({ scenario: r.scenario, metric })));
  const svg = renderChart(chartRows, `Warden bench ${json.date.slice(0, 10)} — ${machine.cpus} cores, Node ${machine.node}`);
  writeFileSync(new URL(`bench-${stamp}.svg`, outDir), svg);
  writeFileSync(new URL('latest.svg', outDir), svg);
  console.log(`\nWrote bench/results/bench-${stamp}.json and .svg (also latest.json / latest.svg)`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

await main();
// Exits after the table even if a client library left a handle open (a bench must never hang CI or a shell).
process.exit();
