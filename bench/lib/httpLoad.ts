import { Agent, request } from 'node:http';

export interface HttpLoadOptions {
  url: string;
  headers?: Record<string, string>;
  /** Requests in flight at once, each on its own keep-alive connection. */
  concurrency: number;
  /** Stop after this long … */
  durationMs: number;
  /** … or after this many requests, whichever comes first. */
  maxRequests?: number;
}

export interface HttpLoadResult {
  requests: number;
  /** Answers other than 2xx, and transport errors. */
  failures: number;
  requestsPerSecond: number;
}

/**
 * A closed-loop load generator: `concurrency` keep-alive connections, each sending the next GET as soon
 * as the previous answer is read. Bounded in time and count. Plain node:http so that its own cost is small
 * and the same for every server it is pointed at.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const url = new URL(options.url);
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const deadline = performance.now() + options.durationMs;
  let started = 0;
  let requests = 0;
  let failures = 0;

  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname + url.search, agent, headers: options.headers },
        (res) => {
          res.resume();
          res.on('end', () => {
            requests++;
            if (!res.statusCode || res.statusCode >= 300) failures++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        requests++;
        failures++;
        resolve();
      });
      req.end();
    });

  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline && started < maxRequests) {
        started++;
        await once();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return { requests, failures, requestsPerSecond: requests / seconds };
}
