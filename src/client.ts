import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import { EventSource } from 'eventsource';
import type { AppRouter } from '../router/appRouter.js';
import { MAX_BATCH_SIZE } from './http/wireLimits.js';

export type { AppRouter };
export type WardenClient = TRPCClient<AppRouter>;

export interface WardenClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:3000` (a trailing `/trpc` is accepted too). */
  url: string;
  /** The bearer token (`npm run token`), or a function returning the current one. */
  token?: string | (() => string | Promise<string>);
  /** Longest GET URL before a batch is split; long inputs should go in mutations. Default 8,000. */
  maxURLLength?: number;
}

/**
 * The typed client: queries and mutations are batched over HTTP (one request per tick), subscriptions go
 * over Server-Sent Events. The token travels as `Authorization: Bearer …` on HTTP and as
 * `connectionParams.token` on SSE (EventSource cannot send headers; tRPC puts it in the stream's URL).
 * Node 20 has no global EventSource, so the `eventsource` package provides it.
 */
export function createWardenClient(options: WardenClientOptions): WardenClient {
  const url = `${options.url.replace(/\/+$/, '').replace(/\/trpc$/, '')}/trpc`;
  const token = options.token;
  const currentToken = async (): Promise<string | undefined> =>
    typeof token === 'function' ? await token() : token;

  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          connectionParams: async () => {
            const value = await currentToken();
            return value === undefined ? {} : { token: value };
          },
        }),
        false: httpBatchLink({
          url,
          maxURLLength: options.maxURLLength ?? 8_000,
          maxItems: MAX_BATCH_SIZE,
          headers: async () => {
            const value = await currentToken();
            return value === undefined ? {} : { authorization: `Bearer ${value}` };
          },
        }),
      }),
    ],
  });
}
