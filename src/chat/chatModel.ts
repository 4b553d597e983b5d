import { WardenError } from '../errors.js';

/** One message of a prompt, in the chat-completions roles. */
export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelRequest {
  messages: PromptMessage[];
  /** Called with each piece of the answer as it is generated; absent = one non-streaming call. */
  onDelta?: (text: string) => void;
  /** Aborts the call (the caller went away, the server is closing). */
  signal?: AbortSignal;
}

export interface ModelAnswer {
  text: string;
  /** The model that answered, as the provider names it. */
  model: string;
  /** From the provider when it reports usage; null when it does not (the caller counts them itself). */
  usage: { promptTokens: number; completionTokens: number } | null;
}

/**
 * The model a chat turn talks to (SPEC §8). Two implementations: an OpenAI-compatible HTTP client
 * (openAiModel.ts) and the deterministic local model of the embedded default (localModel.ts). A failed
 * call throws LLM_UNAVAILABLE; nothing is saved or charged for it.
 */
export interface ChatModel {
  /** What the model is, for the banner and the answer's `model` before the provider names one. */
  readonly name: string;
  /** True for the local model: its answers say where they come from. */
  readonly local: boolean;
  answer(request: ModelRequest): Promise<ModelAnswer>;
}

export type LlmFailure = 'rate_limited' | 'server_error' | 'timeout' | 'unreachable' | 'bad_response';

/** The typed error of a failed model call: why, the provider's status, and its retry-after if sent. */
export function llmUnavailable(
  reason: LlmFailure,
  message: string,
  options: { status?: number | null; retryAfterSeconds?: number | null; cause?: unknown } = {},
): WardenError<'LLM_UNAVAILABLE'> {
  return new WardenError(
    'LLM_UNAVAILABLE',
    message,
    { reason, status: options.status ?? null, retryAfterSeconds: options.retryAfterSeconds ?? null },
    { cause: options.cause },
  );
}

/**
 * A Retry-After header (RFC 9110: delay-seconds or an HTTP date) or OpenAI's `retry-after-ms`, as whole
 * seconds from `now`; null when absent or unreadable.
 */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now: number): number | null {
  if (!headers) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.max(0, Math.ceil(Number(ms) / 1000));
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
