import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { createRiskFact } from '../../src/domain/riskFact.js';
import { isWardenError } from '../../src/errors.js';
import { createSubscriber } from '../../src/redis/client.js';
import { createEventBus, type EventBus } from '../../src/risk/eventBus.js';
import { createRedisRiskTransport } from '../../src/risk/redisRiskTransport.js';
import type { RiskEvent, RiskScope } from '../../src/risk/riskEvent.js';
import type { RiskLogger } from '../../src/risk/riskLogger.js';
import { useTestRedis } from '../helpers/testRedis.js';

const redis = useTestRedis('riskbus');

function recorder(): RiskLogger & { warns: string[]; errors: string[] } {
  const warns: string[] = [];
  const errors: string[] = [];
  return { warns, errors, warn: (_o, msg) => warns.push(msg), error: (_o, msg) => errors.push(msg) };
}

const event = (scope: RiskScope, riskType = 'BUILD_FAILURES'): RiskEvent => ({
  type: 'RISK_DETECTED',
  scope,
  fact: createRiskFact({ riskType, severity: '0.80' }),
});

/** Resolves with the first event a handler gets; how cross-process tests wait (no sleeping). */
function nextEvent(bus: EventBus, scope: RiskScope): Promise<RiskEvent> {
  return new Promise((resolve) => {
    const off = bus.subscribe({ scope }, (e) => {
      off();
      resolve(e);
    });
  });
}

describe('in-process bus: scopes', () => {
  it('delivers platform events to platform subscribers only', async () => {
    const bus = await createEventBus({ logger: recorder() });
    const got: string[] = [];
    bus.subscribe({ scope: { kind: 'platform' } }, () => void got.push('platform'));
    bus.subscribe({ scope: { kind: 'platform' }, select: () => true }, () => void got.push('platform+all'));
    bus.subscribe({ scope: { kind: 'user', id: 'u1' } }, () => void got.push('u1'));
    await bus.publish(event({ kind: 'platform' }));
    expect(got.sort()).toEqual(['platform', 'platform+all']);
  });

  it('delivers a scoped event to that scope and to the platform subscribers that selected it', async () => {
    const bus = await createEventBus({ logger: recorder() });
    const got: string[] = [];
    bus.subscribe({ scope: { kind: 'user', id: 'u1' } }, () => void got.push('u1'));
    bus.subscribe({ scope: { kind: 'user', id: 'u2' } }, () => void got.push('u2'));
    bus.subscribe({ scope: { kind: 'project', id: 'u1' } }, () => void got.push('project u1'));
    bus.subscribe({ scope: { kind: 'platform' } }, () => void got.push('platform, none selected'));
    bus.subscribe({ scope: { kind: 'platform' }, select: (s) => s.kind === 'user' }, () => void got.push('platform users'));
    bus.subscribe({ scope: { kind: 'platform' }, select: (s) => s.kind === 'project' }, () => void got.push('platform projects'));
    await bus.publish(event({ kind: 'user', id: 'u1' }));
    expect(got.sort()).toEqual(['platform users', 'u1']);
  });

  it('hands every subscriber the same frozen, validated event', async () => {
    const bus = await createEventBus({ logger: recorder() });
    const seen: RiskEvent[] = [];
    bus.subscribe({ scope: { kind: 'project', id: 'p1' } }, (e) => void seen.push(e));
    bus.subscribe({ scope: { kind: 'platform' }, select: () => true }, (e) => void seen.push(e));
    const published = event({ kind: 'project', id: 'p1' });
    await bus.publish(published);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(Object.isFrozen(seen[0]?.scope)).toBe(true);
    expect(seen[0]?.fact.riskId).toBe(published.fact.riskId);
  });

  it('refuses an event with a bad scope, and select on a non-platform subscriber', async () => {
    const bus = await createEventBus({ logger: recorder() });
    await expect(bus.publish(event({ kind: 'user', id: '' }))).rejects.toBeInstanceOf(ZodError);
    expect(() => bus.subscribe({ scope: { kind: 'user', id: 'u' }, select: () => true }, () => {})).toThrow(TypeError);
  });

  it('stops delivering after unsubscribe', async () => {
    const bus = await createEventBus({ logger: recorder() });
    let count = 0;
    const off = bus.subscribe({ scope: { kind: 'user', id: 'u1' } }, () => void count++);
    await bus.publish(event({ kind: 'user', id: 'u1' }));
    off();
    await bus.publish(event({ kind: 'user', id: 'u1' }));
    expect(count).toBe(1);
  });
});

describe('in-process bus: failures', () => {
  it('fails the publish when a critical subscriber fails, and the event goes no further', async () => {
    const logger = recorder();
    const bus = await createEventBus({ logger });
    let others = 0;
    bus.subscribe({ scope: { kind: 'user', id: 'u1' }, critical: true, name: 'audit' }, () => {
      throw new Error('disk full');
    });
    bus.subscribe({ scope: { kind: 'user', id: 'u1' } }, () => void others++);
    const err: unknown = await bus.publish(event({ kind: 'user', id: 'u1' })).catch((e: unknown) => e);
    expect(isWardenError(err, 'PUBLISH_FAILED')).toBe(true);
    expect(isWardenError(err, 'PUBLISH_FAILED') && err.details).toEqual({ eventType: 'RISK_DETECTED', subscriber: 'audit' });
    expect(others).toBe(0);
  });

  it('logs a non-critical failure and goes on delivering', async () => {
    const logger = recorder();
    const bus = await createEventBus({ logger });
    const got: string[] = [];
    bus.subscribe({ scope: { kind: 'user', id: 'u1' }, name: 'flaky' }, async () => {
      await Promise.resolve();
      throw new Error('nope');
    });
    bus.subscribe({ scope: { kind: 'user', id: 'u1' }, critical: true }, () => void got.push('critical'));
    bus.subscribe({ scope: { kind: 'user', id: 'u1' } }, () => void got.push('after'));
    await expect(bus.publish(event({ kind: 'user', id: 'u1' }))).resolves.toBeUndefined();
    expect(got).toEqual(['critical', 'after']);
    expect(logger.warns).toEqual(['risk subscriber failed; delivery goes on']);
  });
});

describe('across processes over Redis', () => {
  const buses: EventBus[] = [];
  const redisBus = async (logger = recorder()) => {
    const transport = createRedisRiskTransport({
      publisher: redis.redis,
      subscriber: createSubscriber(redis.url),
      keys: redis.keys,
      ownsSubscriber: true,
    });
    const bus = await createEventBus({ transport, logger });
    buses.push(bus);
    return bus;
  };
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
  });

  it('delivers between two buses on their own connections, once each, scope kept', async () => {
    const a = await redisBus();
    const b = await redisBus();
    const localCount = { a: 0 };
    a.subscribe({ scope: { kind: 'project', id: 'p9' } }, () => void localCount.a++);
    const arrived = nextEvent(b, { kind: 'project', id: 'p9' });
    const sent = event({ kind: 'project', id: 'p9' });
    await a.publish(sent);
    const received = await arrived;
    expect(received.fact.riskId).toBe(sent.fact.riskId);
    expect(received.fact.severity.toFixed(2)).toBe('0.80');
    expect(received.scope).toEqual({ kind: 'project', id: 'p9' });
    // A's own subscriber got it once, locally, not again from Redis: a later event proves the echo is gone.
    const second = nextEvent(a, { kind: 'user', id: 'ux' });
    await b.publish(event({ kind: 'user', id: 'ux' }));
    await second;
    expect(localCount.a).toBe(1);
  });

  it('logs, not throws, when a critical subscriber fails on an event from another process', async () => {
    const logger = recorder();
    const a = await redisBus();
    const b = await redisBus(logger);
    b.subscribe({ scope: { kind: 'user', id: 'u5' }, critical: true }, () => {
      throw new Error('boom');
    });
    const delivered = nextEvent(b, { kind: 'user', id: 'u5' });
    await a.publish(event({ kind: 'user', id: 'u5' }));
    await delivered;
    await expect.poll(() => logger.errors).toEqual(['critical risk subscriber failed on a remote event']);
  });

  it('drops and logs a malformed message from the channel', async () => {
    const logger = recorder();
    const b = await redisBus(logger);
    await redis.redis.publish(redis.keys.riskEvents('bus'), JSON.stringify({ origin: 'x', event: { type: 'NOPE' } }));
    await expect.poll(() => logger.warns).toEqual(['dropped a malformed risk event from another process']);
    await b.close();
  });

  const fixture = fileURLToPath(new URL('../fixtures/riskBusProcess.ts', import.meta.url));
  const child = (mode: 'publish' | 'receive', id: string) =>
    spawn(process.execPath, ['--import', 'tsx', fixture, redis.url, redis.prefix, mode, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = (proc: ReturnType<typeof child>, onLine: (line: string) => void) => {
    let buffer = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        onLine(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
    });
  };

  it('receives an event published by a child process', async () => {
    const bus = await redisBus();
    const arrived = nextEvent(bus, { kind: 'user', id: 'child-user' });
    const proc = child('publish', 'child-user');
    const printed = new Promise<string>((resolve) => lines(proc, resolve));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    const received = await arrived;
    expect(await exited).toBe(0);
    expect(JSON.parse(await printed)).toMatchObject({ fact: { riskId: received.fact.riskId, severity: '0.91' } });
  });

  it('reaches a subscriber in a child process', async () => {
    const bus = await redisBus();
    const proc = child('receive', 'child-project');
    const received: string[] = [];
    const ready = new Promise<void>((resolve) =>
      lines(proc, (line) => (line === 'ready' ? resolve() : void received.push(line))),
    );
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    await ready;
    const sent = event({ kind: 'project', id: 'child-project' }, 'STALE_PROJECT');
    await bus.publish(sent);
    expect(await exited).toBe(0);
    expect(received.map((l) => (JSON.parse(l) as { fact: { riskId: string } }).fact.riskId)).toEqual([sent.fact.riskId]);
  });
});
