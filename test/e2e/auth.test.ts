import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { tracked } from '@trpc/server';
import { EventSource } from 'eventsource';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createContextFactory } from '../../router/context.js';
import { adminProcedure, authedProcedure, router } from '../../router/trpc.js';
import { secretKey, signToken } from '../../src/auth/tokens.js';
import { createManualClock } from '../../src/clock.js';
import { WardenError } from '../../src/errors.js';
import { createHttpServer } from '../../src/http/createHttpServer.js';
import { createRequestErrorLogger } from '../../src/http/requestErrorLog.js';
import { createTrpcHandler } from '../../src/http/trpcHandler.js';
import { createLogger } from '../../src/log.js';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/testApp.js';

const run = promisify(execFile);

/** Every log line the app writes, parsed. */
const logLines: string[] = [];
const log = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });

/**
 * Procedures that exercise the auth and error plumbing with Warden's real context, middlewares, error
 * formatter and HTTP handler — including an SSE subscription, which the app router gains with jobs.
 */
const probeRouter = router({
  whoami: authedProcedure.query(({ ctx }) => ({ id: ctx.user.id, role: ctx.user.role, tier: ctx.user.tier })),
  adminOnly: adminProcedure.query(() => 'admin area'),
  boom: authedProcedure.query((): string => {
    throw new Error('connection to 10.0.0.7 failed: password hunter2 rejected');
  }),
  busy: authedProcedure.mutation((): string => {
    throw new WardenError('QUEUE_FULL', 'Queue is full, retry in 3 minutes', { retryAfterMinutes: 3, queued: 100, cap: 100 });
  }),
  ticks: authedProcedure
    .input(z.strictObject({ lastEventId: z.string().regex(/^\d+$/).nullish() }).optional())
    .subscription(async function* ({ ctx, input }) {
      const from = Number(input?.lastEventId ?? 0);
      for (let n = from + 1; n <= 3; n++) yield tracked(String(n), { n, user: ctx.user.id });
    }),
  /** Emits once, then stays open until the client leaves or the server ends the stream. */
  endless: authedProcedure.subscription(async function* ({ signal }) {
    yield 'open';
    await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
  }),
});
type ProbeRouter = typeof probeRouter;

let t: TestApp;
let probeUrl: string;

function startProbeServer() {
  return createHttpServer({
    log,
    trpc: createTrpcHandler({
      router: probeRouter,
      createContext: createContextFactory(t.app.services),
      onError: createRequestErrorLogger(log),
    }),
  });
}

function probeClient(token: string | undefined, base = probeUrl) {
  const url = `${base}/trpc`;
  return createTRPCClient<ProbeRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url, EventSource, connectionParams: token === undefined ? {} : { token } }),
        false: httpBatchLink({ url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }),
      }),
    ],
  });
}

async function rejection(call: Promise<unknown>): Promise<TRPCClientError<ProbeRouter>> {
  const outcome: unknown = await call.then(
    () => new Error('expected the call to fail'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof TRPCClientError)) throw outcome;
  return outcome as TRPCClientError<ProbeRouter>;
}

/** Collects a subscription until it completes or errors. */
function collect(client: ReturnType<typeof probeClient>, lastEventId?: string) {
  return new Promise<{ ids: (string | undefined)[]; ns: number[]; error?: TRPCClientError<ProbeRouter> }>((resolve) => {
    const ids: (string | undefined)[] = [];
    const ns: number[] = [];
    const sub = client.ticks.subscribe(lastEventId === undefined ? undefined : { lastEventId }, {
      onData: (event) => {
        ids.push(event.id);
        ns.push(event.data.n);
      },
      onError: (error) => {
        sub.unsubscribe();
        resolve({ ids, ns, error });
      },
      onComplete: () => resolve({ ids, ns }),
    });
  });
}

beforeAll(async () => {
  t = await startTestApp('auth', { log });
  const http = startProbeServer();
  t.app.onClose('intake', () => http.close(1_000));
  probeUrl = (await http.listen(0, '127.0.0.1')).url;
});

describe('bearer tokens over HTTP', () => {
  it('lets a valid token through and loads the tier from PostgreSQL', async () => {
    const token = await t.tokenFor('alice', { tier: 'cto_scale' });
    expect(await probeClient(token).whoami.query()).toEqual({ id: 'alice', role: 'user', tier: 'cto_scale' });
    expect(await t.clientFor(token).usage.get.query()).toMatchObject({ jobsRemaining: 200 });
  });

  it('answers UNAUTHORIZED (401) to a missing, forged, tampered or expired token, or an unknown user', async () => {
    const valid = await t.tokenFor('alice');
    const forged = await signToken(secretKey('not-the-server-secret-0123456789'), {
      userId: 'alice',
      admin: true,
      ttlSeconds: 3600,
      clock: createManualClock(Date.now()),
    });
    const [head, , sig] = valid.split('.');
    const tampered = `${head}.${Buffer.from(JSON.stringify({ sub: 'bob', iss: 'warden', exp: 9e9 })).toString('base64url')}.${sig}`;
    const expired = await signToken(secretKey(TEST_SECRET), {
      userId: 'alice',
      ttlSeconds: 60,
      clock: createManualClock(Date.now() - 3_600_000),
    });
    const stranger = await signToken(secretKey(TEST_SECRET), { userId: 'nobody', ttlSeconds: 60, clock: createManualClock(Date.now()) });

    for (const [label, token] of [
      ['missing', undefined],
      ['forged', forged],
      ['tampered', tampered],
      ['expired', expired],
      ['unknown user', stranger],
      ['garbage', 'garbage'],
    ] as const) {
      const err = await rejection(t.clientFor(token).usage.get.query());
      expect(err.data?.code, label).toBe('UNAUTHORIZED');
      expect(err.data?.httpStatus, label).toBe(401);
      const res = await fetch(`${t.url}/trpc/usage.get`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      expect(res.status, label).toBe(401);
    }
  });

  it('keeps admin procedures for admin tokens (FORBIDDEN otherwise)', async () => {
    const user = await t.tokenFor('alice');
    const admin = await t.tokenFor('root', { admin: true });
    expect((await rejection(probeClient(user).adminOnly.query())).data?.code).toBe('FORBIDDEN');
    expect(await probeClient(admin).adminOnly.query()).toBe('admin area');
  });
});

describe('errors on the wire', () => {
  it('maps a WardenError to its tRPC code with wardenCode and details in data', async () => {
    const err = await rejection(probeClient(await t.tokenFor('alice')).busy.mutate());
    expect(err.message).toBe('Queue is full, retry in 3 minutes');
    expect(err.data).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      httpStatus: 429,
      wardenCode: 'QUEUE_FULL',
      details: { retryAfterMinutes: 3, queued: 100, cap: 100 },
    });
  });

  it('hides an unexpected error behind a generic 500 and logs it once, with its stack, server-side', async () => {
    const before = logLines.length;
    const res = await fetch(`${probeUrl}/trpc/boom`, { headers: { authorization: `Bearer ${await t.tokenFor('alice')}` } });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ error: { message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR' } } });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('stack');
    const written = logLines
      .slice(before)
      .map((l) => JSON.parse(l) as { level: number; path?: string; err?: { stack?: string } })
      .filter((l) => l.path === 'boom');
    expect(written).toHaveLength(1);
    expect(written[0]?.level).toBe(50);
    expect(written[0]?.err?.stack).toContain('hunter2');
  });
});

describe('subscriptions over SSE', () => {
  it('accept the token through connectionParams and resume after lastEventId', async () => {
    const token = await t.tokenFor('alice');
    expect(await collect(probeClient(token))).toEqual({ ids: ['1', '2', '3'], ns: [1, 2, 3] });
    expect(await collect(probeClient(token), '1')).toEqual({ ids: ['2', '3'], ns: [2, 3] });
  });

  it('refuse a subscription without a valid token', async () => {
    for (const token of [undefined, 'forged.token.value']) {
      const { ns, error } = await collect(probeClient(token));
      expect(ns).toEqual([]);
      expect(error?.data?.code).toBe('UNAUTHORIZED');
    }
  });
});

describe('shutdown', () => {
  it('ends open SSE streams at once instead of waiting out the grace period', async () => {
    const http = startProbeServer();
    const { url } = await http.listen(0, '127.0.0.1');
    const client = probeClient(await t.tokenFor('alice'), url);
    const opened = new Promise<void>((resolve) => {
      const sub = client.endless.subscribe(undefined, { onData: () => resolve() });
      t.app.onClose('intake', () => Promise.resolve(sub.unsubscribe()));
    });
    await opened;
    const t0 = performance.now();
    await http.close(30_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(http.server.listening).toBe(false);
  });
});

describe('logs', () => {
  it('never contain a token, from headers or from SSE connection params', async () => {
    const token = await t.tokenFor('alice');
    await collect(probeClient(token));
    await rejection(probeClient(token).boom.query());
    await rejection(probeClient(token).busy.mutate());
    await rejection(t.clientFor(`${token}x`).usage.get.query());
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(token.split('.')[2]);
    for (const line of logLines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});

describe('npm run token', () => {
  it('upserts the user with the tier in PostgreSQL and prints a working token as its last line', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: `${t.db.url}?search_path=${t.db.schema}`,
      WARDEN_SECRET: TEST_SECRET,
      LOG_LEVEL: 'warn',
    };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', 'frank', '--tier', 'bootstrapper', '--admin', '--ttl', '1h'], { env });
    const token = stdout.trim().split('\n').at(-1) ?? '';
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await t.app.services.usersRepository.getUser('frank')).toMatchObject({ tier: 'bootstrapper', isAdmin: true });
    expect(await probeClient(token).whoami.query()).toEqual({ id: 'frank', role: 'admin', tier: 'bootstrapper' });

    const refused = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--user', 'frank', '--tier', 'platinum'], { env }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain('--tier must be one of bootstrapper, partner, cto_scale');
  });
});
