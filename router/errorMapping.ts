import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { WardenError, type WardenErrorCode } from '../src/errors.js';
import { unavailableErrorOf } from '../src/unavailable.js';

/**
 * The tRPC code (hence HTTP status) of each WardenError code. A Record, so that a code added to
 * errors.ts does not compile until it is given a status here.
 */
export const TRPC_CODE_OF: Readonly<Record<WardenErrorCode, TRPC_ERROR_CODE_KEY>> = {
  QUEUE_FULL: 'TOO_MANY_REQUESTS',
  DAILY_LIMIT: 'TOO_MANY_REQUESTS',
  TOKEN_BUDGET: 'TOO_MANY_REQUESTS',
  NOT_AWAITING_CONFIRMATION: 'CONFLICT',
  INVALID_TRANSITION: 'CONFLICT',
  CONFLICT: 'CONFLICT',
  ITERATION_CAP: 'PRECONDITION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  UNKNOWN_MACHINE_VERSION: 'INTERNAL_SERVER_ERROR',
  INVALID_SNAPSHOT: 'INTERNAL_SERVER_ERROR',
  INVALID_CURSOR: 'BAD_REQUEST',
  IMPORT_REFUSED: 'BAD_REQUEST',
  PUBLISH_FAILED: 'INTERNAL_SERVER_ERROR',
  LLM_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  PROMPT_TOO_LONG: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  TOO_MANY_STREAMS: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/** A WardenError as the TRPCError that carries it: the fitting code, its message, itself as `cause`. */
export function toTRPCError(err: WardenError): TRPCError {
  return new TRPCError({ code: TRPC_CODE_OF[err.code], message: err.message, cause: err });
}

/** The WardenError behind a TRPCError, if there is one (tRPC wraps thrown errors as `cause`). */
export function wardenErrorOf(error: unknown): WardenError | undefined {
  if (error instanceof WardenError) return error;
  if (error instanceof TRPCError && error.cause instanceof WardenError) return error.cause;
  // An unreachable Redis or PostgreSQL is a typed, retryable refusal, not an internal error.
  return unavailableErrorOf(error instanceof TRPCError ? error.cause : error);
}

/** A validation issue as it goes on the wire: where, what rule, what was wrong. */
export interface WireIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/**
 * Zod (and any Standard Schema) failures carry an `issues` array; only path, code and message are sent,
 * never the rejected input (which may be a 1 MB string).
 */
export function issuesOf(cause: unknown): WireIssue[] | undefined {
  if (typeof cause !== 'object' || cause === null || !('issues' in cause)) return undefined;
  const { issues } = cause;
  if (!Array.isArray(issues)) return undefined;
  return issues.map((raw: unknown) => {
    const issue = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const path = Array.isArray(issue.path)
      ? issue.path.map((p: unknown) => (typeof p === 'number' ? p : String(p)))
      : [];
    return {
      path,
      code: typeof issue.code === 'string' ? issue.code : 'invalid',
      message: typeof issue.message === 'string' ? issue.message : 'invalid value',
    };
  });
}
