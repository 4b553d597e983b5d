import { countTokens } from 'gpt-tokenizer';
import { WardenError } from '../errors.js';
import type { PromptMessage } from './chatModel.js';

/** How many stored messages a prompt may carry at most (SPEC §8), before the token budget cuts more. */
export const HISTORY_MESSAGES = 10;

/**
 * Chat-format overhead: each message costs `<|im_start|>role<|im_sep|> … <|im_end|>` = 4 tokens beyond
 * its content, and the reply is primed with 3 more. These are what gpt-tokenizer's encodeChat adds for
 * the gpt-4o family; counting them here keeps the budget independent of the provider's model name.
 */
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_REPLY_PRIMING = 3;

export const DEFAULT_SYSTEM_PROMPT =
  'You are Warden, a pragmatic technical co-founder. Help the user plan, build and ship their project: ' +
  'be concrete, short, and honest about risks and trade-offs.';

/** Tokens of a text (o200k_base, the encoding of OpenAI's current models). */
export function textTokens(text: string): number {
  return countTokens(text);
}

/** Tokens one message takes in a prompt: its content plus the chat-format overhead. */
export function messageTokens(message: PromptMessage): number {
  return textTokens(message.content) + TOKENS_PER_MESSAGE;
}

export interface BuiltPrompt {
  messages: PromptMessage[];
  /** Prompt tokens as counted here (the provider's own count, when it reports one, is what is charged). */
  tokens: number;
  /** How many history messages were sent (≤ HISTORY_MESSAGES). */
  historySent: number;
}

/**
 * The prompt of a turn: the system prompt, then the newest history messages oldest first, then the new
 * message — cut to `budget` tokens by dropping the oldest history first. `history` is the session's
 * messages in chronological order (any number; only the newest HISTORY_MESSAGES are candidates). When
 * the system prompt and the new message alone exceed the budget: PROMPT_TOO_LONG (a BAD_REQUEST).
 */
export function buildPrompt(options: {
  systemPrompt: string;
  history: readonly PromptMessage[];
  message: string;
  budget: number;
}): BuiltPrompt {
  const system: PromptMessage = { role: 'system', content: options.systemPrompt };
  const next: PromptMessage = { role: 'user', content: options.message };
  const fixed = messageTokens(system) + messageTokens(next) + TOKENS_REPLY_PRIMING;
  if (fixed > options.budget) {
    throw new WardenError(
      'PROMPT_TOO_LONG',
      `The message is too long for the model's context (${fixed} tokens with the system prompt; the budget is ${options.budget}).`,
      { tokens: fixed, budget: options.budget },
    );
  }
  // Walk back from the newest message while it fits; what is kept is a suffix of the history, so
  // dropping the oldest first is by construction (a long old message never lets an older one in).
  const candidates = options.history.slice(-HISTORY_MESSAGES);
  let tokens = fixed;
  let first = candidates.length;
  while (first > 0) {
    const candidate = candidates[first - 1];
    if (!candidate) break;
    const cost = messageTokens(candidate);
    if (tokens + cost > options.budget) break;
    tokens += cost;
    first -= 1;
  }
  const kept = candidates.slice(first);
  return { messages: [system, ...kept, next], tokens, historySent: kept.length };
}
