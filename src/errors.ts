/**
 * One error type with a stable machine-readable code. Callers branch on `code`, never on message text;
 * the tRPC error formatter copies `code` and `details` into the wire error's `data`.
 */
export interface WardenErrorDetails {
  QUEUE_FULL: { retryAfterMinutes: number; queued: number; cap: number };
  DAILY_LIMIT: { used: number; limit: number; resetsAt: string };
  TOKEN_BUDGET: { used: number; limit: number; resetsAt: string };
  NOT_AWAITING_CONFIRMATION: { jobId: string; status: string };
  ITERATION_CAP: { jobId: string; iteration: number; cap: number };
  INVALID_TRANSITION: { jobId?: string; from: string; event: string; reason?: string };
  NOT_FOUND: { entity: string; id: string };
  UNKNOWN_MACHINE_VERSION: { jobId: string; version: number; supported: number[] };
  INVALID_SNAPSHOT: { jobId: string; issues: string[] };
  CONFLICT: { entity: string; id: string; reason: string };
  INVALID_CURSOR: { cursor: string };
  UNAUTHORIZED: Record<string, never>;
  FORBIDDEN: Record<string, never>;
  SERVICE_UNAVAILABLE: { service: string };
  /** The caller already has the most open subscription streams allowed (WARDEN_MAX_STREAMS_PER_USER). */
  TOO_MANY_STREAMS: { limit: number };
  /** Redis or PostgreSQL is unreachable: the call changed nothing and may be retried after the delay. */
  UNAVAILABLE: { service: 'redis' | 'postgres'; retryAfterSeconds: number };
  /** A critical subscriber of the risk event bus failed, so the event was not published. */
  PUBLISH_FAILED: { eventType: string; subscriber: string };
  /** A risk register import was refused; nothing was stored. Every problem, with its Markdown line. */
  IMPORT_REFUSED: { problems: { line: number | null; message: string }[] };
  /** The chat model failed (429, 5xx, timeout, unreachable); `retryAfterSeconds` is the provider's when it sent one. */
  LLM_UNAVAILABLE: {
    reason: 'rate_limited' | 'server_error' | 'timeout' | 'unreachable' | 'bad_response';
    status: number | null;
    retryAfterSeconds: number | null;
  };
  /** A chat message that alone does not fit the model's context budget. */
  PROMPT_TOO_LONG: { tokens: number; budget: number };
}

export type WardenErrorCode = keyof WardenErrorDetails;

export class WardenError<C extends WardenErrorCode = WardenErrorCode> extends Error {
  override readonly name = 'WardenError';
  readonly code: C;
  readonly details: WardenErrorDetails[C];

  constructor(code: C, message: string, details: WardenErrorDetails[C], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isWardenError<C extends WardenErrorCode>(err: unknown, code?: C): err is WardenError<C> {
  return err instanceof WardenError && (code === undefined || err.code === code);
}

export function notFound(entity: string, id: string): WardenError<'NOT_FOUND'> {
  return new WardenError('NOT_FOUND', `${entity} not found`, { entity, id });
}
