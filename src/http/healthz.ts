import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../clock.js';

/** A dependency check: resolves true when the dependency answers; must not hang (use a timeout). */
export type HealthCheck = () => Promise<boolean>;

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean; latencyMs: number }>;
  uptimeSeconds: number;
}

/** Runs every check concurrently; a check that throws counts as down. */
export async function checkHealth(checks: Record<string, HealthCheck>, clock: Clock, startedAt: number): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const t0 = performance.now();
      const ok = await check().catch(() => false);
      return [name, { ok, latencyMs: Math.round((performance.now() - t0) * 10) / 10 }] as const;
    }),
  );
  const report = Object.fromEntries(entries);
  return {
    status: entries.every(([, r]) => r.ok) ? 'ok' : 'degraded',
    checks: report,
    uptimeSeconds: Math.floor((clock.now() - startedAt) / 1000),
  };
}

/** GET /healthz: 200 with the report when everything answers, 503 with it otherwise. */
export function createHealthzRoute(checks: Record<string, HealthCheck>, clock: Clock) {
  const startedAt = clock.now();
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const report = await checkHealth(checks, clock, startedAt);
    const body = JSON.stringify(report);
    res.writeHead(report.status === 'ok' ? 200 : 503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  };
}

/** A check that answers false when `probe` takes longer than `timeoutMs`. */
export function withTimeout(probe: () => Promise<unknown>, timeoutMs: number): HealthCheck {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([probe().then(() => true, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
