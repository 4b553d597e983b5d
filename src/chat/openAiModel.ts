import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { WardenError } from '../errors.js';
import { isWardenError } from '../errors.js';
import { llmUnavailable, parseRetryAfter, type ChatModel, type ModelAnswer, type ModelRequest } from './chatModel.js';

export interface OpenAiModelOptions {
  baseUrl: string;
  /** Optional: many self-hosted OpenAI-compatible servers need none. */
  apiKey: string | undefined;
  model: string;
  /** Longest wait for the response, and between two pieces of a streamed answer. */
  timeoutMs: number;
  /** The answer's length cap (`max_tokens`); null leaves it to the provider. */
  maxAnswerTokens: number | null;
  clock: Clock;
}

// What is read from the provider's replies, checked: the SDK's types are a promise, not a guarantee.
const usageSchema = z
  .object({ prompt_tokens: z.number().int().nonnegative(), completion_tokens: z.number().int().nonnegative() })
  .nullish();
const completionSchema = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }) })).min(1),
  usage: usageSchema,
});
const chunkSchema = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).nullish() })).optional(),
  usage: usageSchema,
});

/**
 * A chat-completions client for any OpenAI-compatible server, on the official `openai` SDK. Streaming
 * asks for usage in the final chunk (`stream_options.include_usage`). The SDK's own retries are off:
 * a 429 or 5xx becomes LLM_UNAVAILABLE at once, with the provider's retry-after, and the caller decides.
 * The timeout is an idle timeout: it restarts with every piece of a streamed answer, so a long answer
 * that keeps coming is not cut, and a stream that stalls midway is.
 */
export function createOpenAiModel(options: OpenAiModelOptions): ChatModel {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    // The SDK refuses to start without a key; a keyless local server ignores the header.
    apiKey: options.apiKey ?? 'none',
    maxRetries: 0,
    timeout: options.timeoutMs,
  });

  return {
    name: options.model,
    local: false,
    async answer(request: ModelRequest): Promise<ModelAnswer> {
      const idle = createIdleTimer(options.timeoutMs, request.signal);
      const base = {
        model: options.model,
        messages: request.messages,
        ...(options.maxAnswerTokens === null ? {} : { max_tokens: options.maxAnswerTokens }),
      };
      try {
        if (!request.onDelta) {
          const raw = await client.chat.completions.create({ ...base, stream: false }, { signal: idle.signal });
          const reply = completionSchema.parse(raw);
          return {
            text: reply.choices[0]?.message.content ?? '',
            model: reply.model ?? options.model,
            usage: toUsage(reply.usage),
          };
        }
        const stream = await client.chat.completions.create(
          { ...base, stream: true, stream_options: { include_usage: true } },
          { signal: idle.signal },
        );
        let text = '';
        let model = options.model;
        let usage: ModelAnswer['usage'] = null;
        for await (const raw of stream) {
          idle.restart();
          const chunk = chunkSchema.parse(raw);
          if (chunk.model) model = chunk.model;
          usage = toUsage(chunk.usage) ?? usage;
          const piece = chunk.choices?.[0]?.delta?.content;
          if (piece) {
            text += piece;
            request.onDelta(piece);
          }
        }
        // The SDK ends an aborted stream quietly, as if it were complete: a cut answer must not be saved.
        if (idle.signal.aborted) throw idle.signal.reason;
        return { text, model, usage };
      } catch (err) {
        throw toLlmError(err, idle.timedOut(), options.timeoutMs, options.clock);
      } finally {
        idle.stop();
      }
    },
  };
}

function toUsage(usage: z.infer<typeof usageSchema>): ModelAnswer['usage'] {
  return usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : null;
}

/** An abort signal that fires after `ms` without a restart, or when `outer` aborts. */
function createIdleTimer(ms: number, outer: AbortSignal | undefined) {
  const controller = new AbortController();
  let fired = false;
  const fire = () => {
    fired = true;
    controller.abort(new Error(`no response from the model for ${ms} ms`));
  };
  let timer = setTimeout(fire, ms);
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  if (outer?.aborted) onOuterAbort();
  return {
    signal: controller.signal,
    restart() {
      clearTimeout(timer);
      timer = setTimeout(fire, ms);
    },
    timedOut: () => fired,
    stop() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** The response headers an APIError carries, typed by what is used of them. */
function headersOf(err: { headers?: unknown }): { get(name: string): string | null } | undefined {
  const headers = err.headers;
  return headers instanceof Headers ? headers : undefined;
}

/** Any failure of a call as LLM_UNAVAILABLE, with the reason a caller can act on. */
function toLlmError(err: unknown, timedOut: boolean, timeoutMs: number, clock: Clock): WardenError {
  if (isWardenError(err)) return err;
  if (timedOut) return llmUnavailable('timeout', `The model did not answer within ${timeoutMs} ms.`, { cause: err });
  if (err instanceof APIUserAbortError) return llmUnavailable('unreachable', 'The model call was aborted.', { cause: err });
  if (err instanceof APIConnectionError) {
    const timeout = err instanceof APIConnectionTimeoutError;
    return llmUnavailable(timeout ? 'timeout' : 'unreachable', timeout ? `The model did not answer within ${timeoutMs} ms.` : 'The model provider could not be reached.', { cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const retryAfterSeconds = parseRetryAfter(headersOf(err as { headers?: unknown }), clock.now());
    if (err.status === 429) {
      return llmUnavailable('rate_limited', 'The model provider is rate limiting Warden; try again later.', { status: 429, retryAfterSeconds, cause: err });
    }
    if (err.status >= 500) {
      return llmUnavailable('server_error', `The model provider failed (HTTP ${err.status}).`, { status: err.status, retryAfterSeconds, cause: err });
    }
    // 4xx other than 429: Warden's request or configuration is wrong (key, model name); not retryable.
    return llmUnavailable('bad_response', `The model provider refused the call (HTTP ${err.status}).`, { status: err.status, cause: err });
  }
  if (err instanceof z.ZodError) return llmUnavailable('bad_response', 'The model provider sent an unreadable reply.', { cause: err });
  // A stream cut mid-way (socket closed, malformed SSE) surfaces as a plain error from the SDK.
  return llmUnavailable('unreachable', 'The connection to the model provider failed.', { cause: err });
}
