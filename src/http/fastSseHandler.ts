import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  isTrackedEnvelope,
  TRPCError,
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
  type TRPCErrorShape,
} from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { FastErrorHandler } from './fastTrpcHandler.js';
import { readRouterInternals } from './routerInternals.js';

export interface FastSseHandlerOptions {
  router: AnyTRPCRouter;
  createContext: (req: IncomingMessage, connectionParams: Record<string, string> | null) => unknown;
  onError?: FastErrorHandler;
}

/** Answers an SSE subscription request, or returns false (having touched nothing) for the stock adapter. */
export type FastSseHandler = (req: IncomingMessage, res: ServerResponse, path: string, search: string) => boolean;

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
  vary: 'trpc-accept, accept',
};

/**
 * tRPC's SSE subscription protocol (httpSubscriptionLink), written straight to the socket: one
 * `res.write` per event.
 *
 * Why: the stock adapter streams each event through a ReadableStream, a TransformStream (four string
 * chunks per event), a TextEncoderStream and a WritableStream before it reaches `res.write`, each step
 * a few promises. With 1,000 subscribers of one job (bench/scenarios/fanout.ts) that machinery, and its
 * garbage, took most of the server's CPU, and each event took ~0.4 s to reach everyone. This writes the
 * same bytes (tRPC's sseStreamProducer: `connected`, `ping`, tracked ids, `restore-id`, `return`,
 * `serialized-error`), calls the very same procedure, and honours backpressure and disconnects.
 *
 * Only the plain case is taken: a GET for one subscription procedure, well-formed JSON input and
 * connection params, no transformer, no `maxDurationMs` or `emitAndEndImmediately`. Anything else
 * returns false and the stock adapter answers; test/e2e/server.test.ts compares both byte for byte.
 */
export function createFastSseHandler(options: FastSseHandlerOptions): FastSseHandler {
  const { config, procedures, plainJson } = readRouterInternals(options.router);
  const sse = config.sse ?? {};
  const supported =
    plainJson && sse.enabled !== false && !sse.maxDurationMs && !sse.emitAndEndImmediately;
  const pingMs = sse.ping?.enabled && sse.ping.intervalMs !== Infinity && (sse.ping.intervalMs ?? 1_000) > 0
    ? (sse.ping.intervalMs ?? 1_000)
    : 0;
  const connectedFrame = frame('connected', JSON.stringify(sse.client ?? {}), undefined);

  return (req, res, path, search) => {
    if (!supported || req.method !== 'GET' || !req.headers.accept?.includes('text/event-stream')) return false;
    if (req.headers['trpc-accept'] !== undefined || req.headers.accept.includes('application/jsonl')) return false;
    const proc = procedures[path];
    if (typeof proc !== 'function' || proc._def.type !== 'subscription') return false;
    const params = new URLSearchParams(search);
    if (params.get('batch') === '1') return false;
    const rawInput = params.get('input');
    const input = rawInput ? parseJson(rawInput) : undefined;
    if (input === INVALID) return false;
    const rawConnectionParams = params.get('connectionParams');
    const connectionParams = rawConnectionParams === null ? null : parseConnectionParams(rawConnectionParams);
    if (connectionParams === INVALID) return false;
    const lastEventId = headerValue(req.headers['last-event-id']) ?? params.get('lastEventId') ?? params.get('Last-Event-Id');

    // Only a failure to format an error lands here: cut the stream, as the stock adapter would.
    stream(req, res, path, proc, input, connectionParams, lastEventId).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : undefined);
    });
    return true;
  };

  async function stream(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    proc: AnyTRPCProcedure,
    input: unknown,
    connectionParams: Record<string, string> | null,
    lastEventIdParam: string | null,
  ): Promise<void> {
    // Aborted when the client goes away, as the stock adapter's request signal is.
    const abort = new AbortController();
    let iterator: AsyncIterator<unknown> | undefined;
    let returned = false;
    const stopIterator = () => {
      if (returned || !iterator?.return) return;
      returned = true;
      // Queued behind a pending next(): the procedure's generator ends (and cleans up) as it wakes.
      void Promise.resolve(iterator.return()).catch(() => {});
    };
    const onClose = () => {
      abort.abort();
      stopIterator();
    };
    res.once('close', onClose);
    let ctx: unknown;
    const fail = (error: TRPCError) => {
      options.onError?.({ error, path, type: 'subscription', input, req });
      return getTRPCErrorShape({ config, error, type: 'subscription', path, input, ctx }) as TRPCErrorShape;
    };

    let callError: TRPCError | undefined;
    try {
      ctx = options.createContext(req, connectionParams);
      let rawInput = input;
      if (lastEventIdParam) {
        if (typeof rawInput === 'object' && rawInput !== null && !Array.isArray(rawInput)) {
          rawInput = { ...rawInput, lastEventId: lastEventIdParam };
        } else {
          rawInput ??= { lastEventId: lastEventIdParam };
        }
      }
      const data: unknown = await proc({
        path,
        getRawInput: () => Promise.resolve(rawInput),
        ctx,
        type: 'subscription',
        signal: abort.signal,
        batchIndex: 0,
      });
      if (isObservable(data)) iterator = observableToAsyncIterable(data, abort.signal)[Symbol.asyncIterator]();
      else if (isAsyncIterable(data)) iterator = data[Symbol.asyncIterator]();
      else {
        callError = new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: `Subscription ${path} did not return an observable or a AsyncGenerator`,
        });
      }
    } catch (cause) {
      callError = getTRPCErrorFromUnknown(cause);
      // The stock adapter reports a failed call once when it fails and once when it streams the error.
      options.onError?.({ error: callError, path, type: 'subscription', input, req });
    }

    res.writeHead(200, SSE_HEADERS);
    const open = () => !res.destroyed && !res.writableEnded;
    const write = async (chunk: string) => {
      if (!open()) return;
      if (res.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      });
    };

    let pingTimer: NodeJS.Timeout | undefined;
    const armPing = () => {
      if (pingMs === 0) return;
      clearTimeout(pingTimer);
      pingTimer = setTimeout(() => {
        if (!open()) return;
        res.write(frame('ping', '', undefined));
        armPing();
      }, pingMs);
    };
    try {
      await write(connectedFrame);
      if (callError) {
        await write(frame('serialized-error', JSON.stringify(fail(callError)), undefined));
        return;
      }
      if (!iterator) return;
      let lastEventId = lastEventIdParam && !/[\0\n\r]/.test(lastEventIdParam) ? lastEventIdParam : null;
      try {
        armPing();
        // Stops pulling once the client is gone, even from a generator that ignores the signal.
        while (!abort.signal.aborted) {
          const step = await iterator.next();
          if (step.done) break;
          const value: unknown = step.value;
          if (isTrackedEnvelope(value)) {
            lastEventId = value[0];
            await write(frame(undefined, JSON.stringify(value[1]), value[0]));
          } else if (lastEventId === null) {
            await write(frame(undefined, JSON.stringify(value), undefined));
          } else {
            await write(frame(undefined, JSON.stringify(value), '') + frame('restore-id', '', lastEventId));
          }
          armPing();
        }
        await write(frame('return', '', undefined));
      } catch (cause) {
        if (isAbortError(cause)) return;
        await write(frame('serialized-error', JSON.stringify(fail(getTRPCErrorFromUnknown(cause))), undefined));
      }
    } finally {
      clearTimeout(pingTimer);
      res.off('close', onClose);
      // However the stream stopped (ended, failed, client gone), the procedure's signal says so: a
      // generator still waiting for its next value (a stream ended from outside) wakes and cleans up.
      abort.abort();
      stopIterator();
      if (open()) res.end();
    }
  }
}

/** One SSE message as tRPC's producer writes it: each field on its line, then a blank line (and one more). */
function frame(event: string | undefined, data: string, id: string | undefined): string {
  let out = event === undefined ? '' : `event: ${event}\n`;
  out += `data: ${data}\n`;
  if (id !== undefined) out += `id: ${id}\n`;
  return `${out}\n\n`;
}

const INVALID = Symbol('invalid');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID;
  }
}

function parseConnectionParams(text: string): Record<string, string> | null | typeof INVALID {
  const parsed = parseJson(text);
  if (parsed === null || parsed === INVALID) return parsed;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return INVALID;
  const entries = Object.entries(parsed);
  return entries.every(([, value]) => typeof value === 'string') ? (parsed as Record<string, string>) : INVALID;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'AbortError';
}
