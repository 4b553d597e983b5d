/**
 * HTTP hygiene on the wire: slow requests get 408, idle keep-alive connections close, open connections
 * are capped per process, open SSE streams per user. Timeouts are configured tiny and the test waits for
 * the event (an answer, a close), never asserts a duration.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpLimits } from '../../src/http/createHttpServer.js';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

const log = createLogger({ level: 'silent' });

/** A bare Warden HTTP server (no tRPC behind it: the limits live below the handler). */
async function startBareServer(limits: HttpLimits): Promise<number> {
  const http = createHttpServer({
    log,
    limits,
    trpc: (req, res) => {
      req.resume();
      req.once('end', () => res.end('{}'));
    },
    routes: [{ path: '/ok', handle: (_req, res) => void res.end('ok') }],
  });
  afterAll(() => http.close(100));
  return (await http.listen(0, '127.0.0.1')).port;
}

interface RawConnection {
  socket: Socket;
  /** Everything received until the server closed the connection. */
  closed: Promise<string>;
  /** Resolves with what was received once `text` is in it. */
  received(text: string): Promise<string>;
}

async function open(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let data = '';
  const waiters: { text: string; resolve: (all: string) => void }[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
    for (const w of waiters.filter((x) => data.includes(x.text))) w.resolve(data);
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  afterAll(() => void socket.destroy());
  return {
    socket,
    closed,
    received: (text) =>
      data.includes(text) ? Promise.resolve(data) : new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

describe('timeouts', () => {
  let port: number;
  beforeAll(async () => {
    port = await startBareServer({ headersTimeoutMs: 150, requestTimeoutMs: 300, keepAliveTimeoutMs: 150 });
  });

  it('answers 408 and closes when the headers do not arrive in time', async () => {
    const c = await open(port);
    c.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n');
    expect(await c.closed).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('answers 408 and closes when the body does not arrive in time', async () => {
    const c = await open(port);
    c.socket.write('POST /trpc/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    expect(await c.closed).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('closes an idle keep-alive connection after answering on it', async () => {
    const c = await open(port);
    c.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(await c.received('ok')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const all = await c.closed;
    expect(all.match(/HTTP\/1\.1/g)).toHaveLength(1);
  });
});

describe('open connections', () => {
  it('closes connections beyond the cap at once and takes new ones when some close', async () => {
    const port = await startBareServer({ maxConnections: 2 });
    const first = await open(port);
    const second = await open(port);
    for (const c of [first, second]) {
      c.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      await c.received('ok');
    }
    const third = await open(port);
    third.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await third.closed).toBe('');

    first.socket.destroy();
    await first.closed;
    // The server notices the close on its own schedule: retry until a connection is taken again.
    await expect
      .poll(async () => {
        const c = await open(port);
        c.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        return c.closed;
      })
      .toMatch(/^HTTP\/1\.1 200 OK/);
  });
});

describe('open SSE streams per user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('http_limits', {
      env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0', WARDEN_MAX_STREAMS_PER_USER: '2', WARDEN_HTTP_HEADERS_TIMEOUT_MS: '4000' },
    });
  });

  it('applies the configured timeouts to the app server', () => {
    expect(t.app.http.server.headersTimeout).toBe(4000);
    expect(t.app.http.server.maxConnections).toBe(1000);
  });

  it('refuses the stream past the cap with TOO_MANY_REQUESTS / TOO_MANY_STREAMS, and frees the slot on close', async () => {
    const token = await t.tokenFor('sia');
    const client = t.clientFor(token);
    const { projectId } = await client.projects.create.mutate({ name: 'streams' });
    // With no workers the job stays queued, so its stream stays open.
    const { jobId } = await client.jobs.submit.mutate({ projectId, goal: 'hold a stream open' });
    const follow = () => {
      const ac = new AbortController();
      const opened = fetch(`${t.url}/trpc/jobs.events?input=${encodeURIComponent(JSON.stringify({ jobId }))}`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
        signal: ac.signal,
      }).then(async (res) => {
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        let text = '';
        while (!/"status":"queued"|serialized-error/.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        return text;
      });
      return { opened, close: () => ac.abort() };
    };
    const a = follow();
    const b = follow();
    expect(await a.opened).toContain('"status":"queued"');
    expect(await b.opened).toContain('"status":"queued"');

    const refused = follow();
    const text = await refused.opened;
    expect(text).toContain('event: serialized-error');
    expect(text).toContain('"code":"TOO_MANY_REQUESTS"');
    expect(text).toContain('"wardenCode":"TOO_MANY_STREAMS"');
    refused.close();

    a.close();
    await expect
      .poll(async () => {
        const next = follow();
        const answer = await next.opened;
        next.close();
        return answer.includes('"status":"queued"');
      })
      .toBe(true);
    b.close();
  });
});
