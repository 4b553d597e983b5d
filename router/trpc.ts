import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import { resolveTier } from '../src/domain/tiers.js';
import { WardenError } from '../src/errors.js';
import { unavailableErrorOf } from '../src/unavailable.js';
import type { AuthUser, Context } from './context.js';
import { issuesOf, toTRPCError, TRPC_CODE_OF, wardenErrorOf, type WireIssue } from './errorMapping.js';
import { findNulPaths, nulInputError } from './nulCharacters.js';
import { reauthenticatedStream } from './reauthenticatedStream.js';
import { createStreamLimiter, releasingStream, type StreamLimiter } from './streamLimiter.js';

/** Per-procedure metadata; `description` is what the inspector and docs show. */
export interface ProcedureMeta {
  description?: string;
}

/** What `data` of every error on the wire holds, beyond tRPC's `code`, `httpStatus` and `path`. */
export interface WardenErrorData {
  /** The stable WardenError code (`QUEUE_FULL`, `NOT_FOUND` …) when the error is one. */
  wardenCode: string | null;
  /** The WardenError's typed details (e.g. `retryAfterMinutes` for QUEUE_FULL). */
  details: unknown;
  /** Zod issues of a rejected input. */
  issues: WireIssue[] | null;
}

const GENERIC_INTERNAL_MESSAGE = 'Internal server error';

/**
 * The one tRPC instance. No transformer: plain JSON on the wire so curl and other languages work; dates
 * travel as ISO strings. The formatter never sends a stack, and hides the message of unexpected errors
 * (they are logged server-side with the stack instead).
 */
const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error }) {
      const warden = wardenErrorOf(error);
      const issues = error.code === 'BAD_REQUEST' ? (issuesOf(error.cause) ?? null) : null;
      const { stack: _stack, ...data } = shape.data;
      const unexpected = error.code === 'INTERNAL_SERVER_ERROR' && !warden;
      const extra: WardenErrorData = {
        wardenCode: warden?.code ?? null,
        details: warden?.details ?? null,
        issues,
      };
      return {
        ...shape,
        message: unexpected ? GENERIC_INTERNAL_MESSAGE : issues ? 'Invalid input' : closeQuote(shape.message, error.code),
        data: { ...data, ...extra },
      };
    },
    sse: {
      // Pings keep proxies from closing a quiet stream; the client reconnects (with lastEventId) only
      // after a long silence. No maxDurationMs: the v11 client leaks an abort listener per reconnect.
      ping: { enabled: true, intervalMs: 10_000 },
      client: { reconnectAfterInactivityMs: 30_000 },
    },
  });

/**
 * tRPC 11 words a 415 as `Unsupported content-type "text/plain` — without the closing quote. Mended
 * here (the one place every error passes) rather than in tRPC; the check makes it a no-op once fixed there.
 */
function closeQuote(message: string, code: string): string {
  return code === 'UNSUPPORTED_MEDIA_TYPE' && /^Unsupported content-type "[^"]*$/.test(message) ? `${message}"` : message;
}

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;

/**
 * A failed call's error as the client should see it: a thrown WardenError becomes the TRPCError of its
 * code (WardenError as `cause`), and the refusal is counted; anything else is left as tRPC made it.
 */
function mapWardenError(ctx: Context, error: TRPCError): TRPCError {
  const warden = wardenErrorOf(error);
  // tRPC wraps a thrown non-TRPCError as INTERNAL_SERVER_ERROR; give it the status its code means.
  if (warden && error.code !== TRPC_CODE_OF[warden.code]) {
    ctx.services.metrics.refusals.inc({ code: warden.code });
    return toTRPCError(warden);
  }
  return error;
}

/**
 * BAD_REQUEST (zod issues, one per offending path) when any string or key of the raw input holds a NUL,
 * which PostgreSQL refuses (a 500 at the database otherwise). Runs before the procedure's own parser.
 */
async function refuseNulCharacters(getRawInput: () => Promise<unknown>): Promise<void> {
  const paths = findNulPaths(await getRawInput());
  if (paths.length > 0) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input', cause: nulInputError(paths) });
}

/** Sits first in every public chain, so it sees what the resolvers throw. */
const mapWardenErrors = t.middleware(async ({ ctx, next, getRawInput }) => {
  await refuseNulCharacters(getRawInput);
  const result = await next();
  if (!result.ok) {
    const mapped = mapWardenError(ctx, result.error);
    if (mapped !== result.error) throw mapped;
  }
  return result;
});

/**
 * Who is calling: a verified token (cached per token) whose subject is a stored user (cached briefly).
 * Missing, forged or expired token, a token for no user, or one minted before its user's tokens were
 * revoked (`npm run token -- --revoke`): UNAUTHORIZED. Admin needs both the token's claim and the stored
 * flag, so re-minting a user without `--admin` ends their old admin tokens' rights within the cache's TTL.
 */
async function authenticate(ctx: Context): Promise<AuthUser> {
  if (ctx.token === null) throw new WardenError('UNAUTHORIZED', 'missing bearer token', {});
  const claims = await ctx.services.tokens.verify(ctx.token);
  const row = await ctx.services.users.get(claims.userId);
  if (!row) throw new WardenError('UNAUTHORIZED', 'unknown user', {});
  if (claims.tokenVersion < row.tokenVersion) throw new WardenError('UNAUTHORIZED', 'revoked token', {});
  return {
    id: row.id,
    role: claims.role === 'admin' && row.isAdmin ? 'admin' : 'user',
    tier: row.tier,
    limits: resolveTier(ctx.services.config.tiers, row.tier),
    tokenBudgetOverride: row.tokenBudgetOverride,
  };
}

/**
 * mapWardenErrors, authenticate and the NUL check as one middleware. Why one: every middleware level makes tRPC copy
 * the call's options twice (object spreads), which profiling put at ~30% of the server's CPU for
 * batched usage.get (bench/scenarios/api.ts); the errors and their mapping are exactly the two's.
 */
/**
 * One stream limiter per app (per services object). Kept here rather than in AppServices because only
 * this middleware uses it, and it must exist for every app, including routers tests mount themselves.
 */
const streamLimiters = new WeakMap<Context['services'], StreamLimiter>();
function streamLimiterOf(ctx: Context): StreamLimiter {
  let limiter = streamLimiters.get(ctx.services);
  if (!limiter) {
    limiter = createStreamLimiter(ctx.services.config.http.maxStreamsPerUser);
    streamLimiters.set(ctx.services, limiter);
  }
  return limiter;
}

const authenticated = t.middleware(async ({ ctx, next, getRawInput, type, signal }) => {
  let user: AuthUser;
  try {
    user = await authenticate(ctx);
  } catch (cause) {
    throw mapWardenError(ctx, getTRPCErrorFromUnknown(cause));
  }
  // After authentication, as the procedure's own input parser: a stranger learns nothing about inputs.
  await refuseNulCharacters(getRawInput);
  // A subscription holds one of its user's stream slots until the stream ends (config.http).
  let release: (() => void) | undefined;
  if (type === 'subscription') {
    const limiter = streamLimiterOf(ctx);
    release = limiter.acquire(user.id);
    if (!release) {
      throw mapWardenError(
        ctx,
        getTRPCErrorFromUnknown(
          new WardenError('TOO_MANY_STREAMS', `Too many open streams (at most ${limiter.max} per user); close one first`, {
            limit: limiter.max,
          }),
        ),
      );
    }
  }
  const result = await next({ ctx: { user } });
  if (!result.ok) {
    release?.();
    const mapped = mapWardenError(ctx, result.error);
    if (mapped !== result.error) throw mapped;
    return result;
  }
  if (!release) return result;
  // A WardenError thrown mid-stream (e.g. NOT_FOUND from a generator), or an unreachable Redis or
  // PostgreSQL (UNAVAILABLE), gets its code too, not a 500. A TRPCError is left alone: a router may have
  // chosen its code on purpose (chat.stream avoids 5xx codes, which make the SSE link reconnect and run
  // the subscription again).
  const mapStreamError = (err: unknown) => {
    if (err instanceof TRPCError) return err;
    const warden = err instanceof WardenError ? err : unavailableErrorOf(err);
    return warden ? mapWardenError(ctx, getTRPCErrorFromUnknown(warden)) : err;
  };
  const { reauthenticateStreamsMs } = ctx.services.config.http;
  const checked = reauthenticatedStream(result.data, () => authenticate(ctx), reauthenticateStreamsMs);
  return { ...result, data: releasingStream(checked, release, signal, mapStreamError) };
});

/** Anyone: health-style procedures. */
export const publicProcedure = t.procedure.use(mapWardenErrors);
/** A known, authenticated user; `ctx.user` is set. */
export const authedProcedure = t.procedure.use(authenticated);
/** An authenticated admin (token with `role: "admin"` for a user whose stored flag says admin). */
export const adminProcedure = authedProcedure.use(async ({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw new WardenError('FORBIDDEN', 'admin only', {});
  const result = await next();
  if (!result.ok) return result;
  // An admin stream (the inspector's) ends once its user is no longer admin, not only when the token goes.
  const stillAdmin = async () => {
    if ((await authenticate(ctx)).role !== 'admin') throw new WardenError('FORBIDDEN', 'admin only', {});
  };
  return { ...result, data: reauthenticatedStream(result.data, stillAdmin, ctx.services.config.http.reauthenticateStreamsMs) };
});
