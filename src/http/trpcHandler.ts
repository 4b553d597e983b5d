import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyTRPCRouter, TRPCError } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { Context, ContextSource } from '../../router/context.js';
import { createFastSseHandler } from './fastSseHandler.js';
import { createFastTrpcHandler } from './fastTrpcHandler.js';
import { MAX_BATCH_SIZE, MAX_BODY_BYTES } from './wireLimits.js';

/** One failed call, as the request-error log line describes it (never the input or the token). */
export interface TrpcCallError {
  error: TRPCError;
  path: string | undefined;
  type: string;
  method: string | undefined;
}

export interface TrpcHandlerOptions {
  /** The app router; any router whose context is Warden's Context works (tests mount their own). */
  router: AnyTRPCRouter;
  createContext: (source: ContextSource) => Context;
  onError: (failure: TrpcCallError) => void;
  /** Larger bodies get PAYLOAD_TOO_LARGE; above 1 MB so that a 1 MB string reaches zod and gets its issues. */
  maxBodySize?: number;
  maxBatchSize?: number;
  /** Off: every request takes the stock adapter (the bench compares both). */
  fastPath?: boolean;
}

/** Handles `/trpc/<path>`; `path` is the part after the prefix, `search` the query string without `?`. */
export type TrpcHandler = (req: IncomingMessage, res: ServerResponse, path: string, search: string) => void;

/**
 * The tRPC endpoint: plain JSON queries and mutations take the fast path (fastTrpcHandler.ts), plain SSE
 * subscriptions theirs (fastSseHandler.ts); everything unusual goes through tRPC's stock Node adapter.
 */
export function createTrpcHandler(options: TrpcHandlerOptions): TrpcHandler {
  const maxBodySize = options.maxBodySize ?? MAX_BODY_BYTES;
  const maxBatchSize = options.maxBatchSize ?? MAX_BATCH_SIZE;
  const fast =
    options.fastPath === false
      ? undefined
      : createFastTrpcHandler({
          router: options.router,
          createContext: (req) => options.createContext({ req }),
          onError: ({ error, path, type, req }) => options.onError({ error, path, type, method: req.method }),
          maxBodySize,
          maxBatchSize,
        });

  const fastSse =
    options.fastPath === false
      ? undefined
      : createFastSseHandler({
          router: options.router,
          createContext: (req, connectionParams) => options.createContext({ req, info: { connectionParams } }),
          onError: ({ error, path, type, req }) => options.onError({ error, path, type, method: req.method }),
        });

  return (req, res, path, search) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      decoded = path;
    }
    if (fast?.(req, res, decoded, search)) return;
    if (fastSse?.(req, res, decoded, search)) return;
    void nodeHTTPRequestHandler({
      router: options.router,
      req,
      res,
      path: decoded,
      maxBodySize,
      maxBatchSize,
      createContext: ({ req: nodeReq, info }) => options.createContext({ req: nodeReq, info }),
      onError: ({ error, path: callPath, type }) =>
        options.onError({ error, path: callPath, type, method: req.method }),
    });
  };
}
