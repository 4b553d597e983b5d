/** The arithmetic of `npm run soak`: pure, so it is unit-tested on its own. */

/** Least-squares slope of y over x (y units per x unit); 0 with fewer than two distinct x. */
export function linearSlope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The q-quantile (0..1) by nearest rank of unsorted values; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Bytes per hour from samples (ms, bytes), ignoring those before `fromMs`. */
export function bytesPerHour(samples: readonly { atMs: number; bytes: number }[], fromMs: number): number {
  const points = samples.filter((s) => s.atMs >= fromMs).map((s) => ({ x: s.atMs / 3_600_000, y: s.bytes }));
  return linearSlope(points);
}
