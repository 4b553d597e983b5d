import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
  transformTRPCResponse,
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
  type TRPCErrorShape,
} from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import { readRouterInternals } from './routerInternals.js';

/** Called once per failed call, like tRPC's own `onError`. */
export type FastErrorHandler = (opts: {
  error: TRPCError;
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  input: unknown;
  req: IncomingMessage;
}) => void;

export interface FastTrpcHandlerOptions {
  router: AnyTRPCRouter;
  createContext: (req: IncomingMessage, res: ServerResponse) => unknown;
  onError?: FastErrorHandler;
  maxBodySize: number;
  maxBatchSize: number;
}

/**
 * Answers a request, or returns false (having touched nothing) so that the stock adapter answers it.
 */
export type FastTrpcHandler = (req: IncomingMessage, res: ServerResponse, path: string, search: string) => boolean;

type CallResult = { result: { data: unknown } } | { error: TRPCErrorShape };

/**
 * tRPC's HTTP protocol for plain JSON queries and mutations (single or batched), without the Fetch API
 * round trip of the stock Node adapter.
 *
 * Why: the stock adapter turns every IncomingMessage into a WHATWG Request (with an AbortSignal.any, a
 * ReadableStream body), answers with a Response, and pipes that body through a WritableStream into a
 * chunked reply. Profiling (bench/scenarios/api.ts) put more than half the server's CPU there, not in
 * the procedure. This path reads the input directly, calls the very same procedures (same middlewares,
 * same error formatter via getTRPCErrorShape), and writes one `res.end(body)` with a Content-Length.
 *
 * Anything else — subscriptions (SSE), `trpc-accept: application/jsonl` streams, other content types,
 * unknown paths, wrong methods, `connectionParams` — returns false and goes to the stock adapter, which
 * stays the reference: test/e2e/server.test.ts sends the same requests through both and compares.
 */
export function createFastTrpcHandler(options: FastTrpcHandlerOptions): FastTrpcHandler {
  const { maxBodySize, maxBatchSize } = options;
  const { config, procedures, plainJson } = readRouterInternals(options.router);
  const serialize = (json: CallResult | CallResult[]) =>
    JSON.stringify(plainJson ? json : transformTRPCResponse(config, json));

  return (req, res, path, search) => {
    const method = req.method;
    const type = method === 'GET' ? 'query' : method === 'POST' ? 'mutation' : undefined;
    if (type === undefined) return false;
    const headers = req.headers;
    if (headers['trpc-accept'] !== undefined || headers.accept?.includes('application/jsonl')) return false;
    if (type === 'mutation' && !isJsonContentType(headers['content-type'])) return false;

    const params = new URLSearchParams(search);
    if (params.has('connectionParams')) return false;
    const isBatch = params.get('batch') === '1';
    const paths = isBatch ? path.split(',') : [path];
    if (paths.length > maxBatchSize) return false;
    const procs: AnyTRPCProcedure[] = [];
    for (const p of paths) {
      const proc = procedures[p];
      if (typeof proc !== 'function' || proc._def.type !== type) return false;
      procs.push(proc);
    }

    const respond = async (rawInput: string | undefined, inputError: TRPCError | undefined) => {
      const ctx = await options.createContext(req, res);
      const inputs = inputError ? undefined : parseInputs(rawInput, isBatch, paths.length);
      const results: CallResult[] = [];
      const errors: (TRPCError | undefined)[] = [];
      // Calls of a batch run concurrently, as in the stock adapter.
      await Promise.all(
        procs.map(async (proc, index) => {
          const callPath = paths[index] ?? '';
          const input = inputs instanceof TRPCError ? undefined : inputs?.[index];
          try {
            const failure = inputError ?? (inputs instanceof TRPCError ? inputs : undefined);
            if (failure) throw failure;
            const data: unknown = await proc({
              path: callPath,
              getRawInput: () => Promise.resolve(input),
              ctx,
              type,
              signal: undefined,
              batchIndex: index,
            });
            if (isStreamLike(data)) {
              throw new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Cannot stream over a plain JSON call' });
            }
            results[index] = { result: { data } };
          } catch (cause) {
            const error = getTRPCErrorFromUnknown(cause);
            errors[index] = error;
            options.onError?.({ error, path: callPath, type, input, req });
            results[index] = {
              error: getTRPCErrorShape({ config, error, type, path: callPath, input, ctx }) as TRPCErrorShape,
            };
          }
        }),
      );
      const json = isBatch ? results : (results[0] as CallResult);
      // `errors` stays aligned with `results` (holes for successes), as getHTTPStatusCode indexes it.
      const status = getHTTPStatusCode(json, errors);
      const body = serialize(json);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        vary: 'trpc-accept, accept',
      });
      res.end(body);
    };

    const fail = (err: unknown) => {
      // Only reachable if createContext or serialisation throws; answer like the stock adapter would.
      if (!res.headersSent) {
        const body = JSON.stringify({ error: { message: 'Internal server error', code: -32603 } });
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy(err instanceof Error ? err : undefined);
      }
    };

    if (type === 'query') {
      respond(params.get('input') ?? undefined, undefined).catch(fail);
    } else {
      readBody(req, maxBodySize).then(
        (text) => respond(text, undefined),
        (err: unknown) => respond(undefined, getTRPCErrorFromUnknown(err)),
      ).catch(fail);
    }
    return true;
  };
}

/** Media types are case-insensitive and may carry parameters (`application/json; charset=utf-8`). */
function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

/**
 * The inputs by batch index, or the TRPCError every call of the request answers with when the JSON is
 * malformed (as the stock adapter does: BAD_REQUEST with the parser's message).
 */
function parseInputs(raw: string | undefined, isBatch: boolean, count: number): unknown[] | TRPCError | undefined {
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    return new TRPCError({ code: 'BAD_REQUEST', message: cause instanceof Error ? cause.message : 'Invalid input', cause });
  }
  if (!isBatch) return [parsed];
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return new TRPCError({ code: 'BAD_REQUEST', message: '"input" needs to be an object when doing a batch call' });
  }
  const byIndex = parsed as Record<string, unknown>;
  return Array.from({ length: count }, (_, i) => byIndex[i]);
}

/** The request body as text, refusing (PAYLOAD_TOO_LARGE) past `limit` bytes without buffering the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function isStreamLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
