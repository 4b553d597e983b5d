/**
 * Child process of the `fanout` bench scenario: N typed-client SSE subscribers of one job's events, so
 * that the server (in the parent) does not share its event loop with the subscribers' own parsing.
 *   env: WARDEN_URL, WARDEN_TOKEN, JOB_ID, SUBSCRIBERS
 * Protocol (one JSON line each way): prints {"connected":N} once every subscriber has its first event;
 * reads `go` on stdin (the events that follow are measured), answers {"measuring":true}; prints
 * {"finished":N, "latenciesUs":[…]} (one delivery latency per measured event, µs) once every subscriber
 * has seen the terminal event, then exits. The parent merges the latencies of all its children.
 */
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { createWardenClient } from '../../src/client.js';

const env = z
  .object({ WARDEN_URL: z.string(), WARDEN_TOKEN: z.string(), JOB_ID: z.string(), SUBSCRIBERS: z.coerce.number().int().positive() })
  .parse(process.env);
const subscribers = env.SUBSCRIBERS;
const latenciesUs: number[] = [];
const send = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

let connected = 0;
let finished = 0;
let measuring = false;
const subscriptions: { unsubscribe(): void }[] = [];
const done = new Promise<void>((resolve) => {
  for (let i = 0; i < subscribers; i++) {
    const client = createWardenClient({ url: env.WARDEN_URL, token: env.WARDEN_TOKEN });
    let first = true;
    subscriptions.push(
      client.jobs.events.subscribe(
        { jobId: env.JOB_ID },
        {
          onData: ({ data }) => {
            if (first) {
              first = false;
              if (++connected === subscribers) send({ connected });
            } else if (measuring) {
              latenciesUs.push(Math.max(1, Math.round((Date.now() - Date.parse(data.timestamp)) * 1000)));
            }
            if ((data.status === 'ready' || data.status === 'failed') && ++finished === subscribers) resolve();
          },
        },
      ),
    );
  }
});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'go') return;
  measuring = true;
  send({ measuring: true });
});
// The parent bounds the run in time; closing stdin early stops this process.
lines.on('close', () => process.exit(finished === subscribers ? 0 : 1));

await done;
send({ finished, latenciesUs });
for (const s of subscriptions) s.unsubscribe();
process.exit(0);
