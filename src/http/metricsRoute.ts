import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WardenMetrics } from '../metrics.js';

/** GET /metrics: the Prometheus text exposition of this process's registry. */
export function createMetricsRoute(metrics: WardenMetrics) {
  return async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await metrics.render();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}
