import fc from 'fast-check';
import { encodeChat } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import type { PromptMessage } from '../../src/chat/chatModel.js';
import { buildPrompt, HISTORY_MESSAGES, messageTokens, TOKENS_REPLY_PRIMING } from '../../src/chat/chatPrompt.js';
import { isWardenError } from '../../src/errors.js';

const SYSTEM = 'You are a helpful co-founder.';

/** A chronological history of `turns` turns: user "question i", assistant "answer i". */
function turns(count: number): PromptMessage[] {
  return Array.from({ length: count }, (_, i) => [
    { role: 'user' as const, content: `question ${i + 1}` },
    { role: 'assistant' as const, content: `answer ${i + 1}: ${'detail '.repeat(i % 4)}` },
  ]).flat();
}

describe('buildPrompt', () => {
  it('sends the system prompt, the newest 10 messages oldest first, then the new message', () => {
    const history = turns(25);
    const prompt = buildPrompt({ systemPrompt: SYSTEM, history, message: 'question 26', budget: 100_000 });
    expect(prompt.messages).toEqual([{ role: 'system', content: SYSTEM }, ...history.slice(40), { role: 'user', content: 'question 26' }]);
    expect(prompt.messages[1]).toEqual({ role: 'user', content: 'question 21' });
    expect(prompt.historySent).toBe(HISTORY_MESSAGES);
  });

  it('counts tokens as the real tokenizer encodes the chat (gpt-4o format)', () => {
    const prompt = buildPrompt({ systemPrompt: SYSTEM, history: turns(3), message: 'What now? 🚀', budget: 100_000 });
    expect(prompt.tokens).toBe(encodeChat(prompt.messages, 'gpt-4o').length);
  });

  it('drops the oldest first: a budget that fits exactly the newest 4 sends exactly those', () => {
    const history = turns(5);
    const message = 'question 6';
    const fixed = messageTokens({ role: 'system', content: SYSTEM }) + messageTokens({ role: 'user', content: message }) + TOKENS_REPLY_PRIMING;
    const newest4 = history.slice(-4).reduce((sum, m) => sum + messageTokens(m), 0);
    const fifth = messageTokens(history.at(-5) ?? { role: 'user', content: '' });
    for (const budget of [fixed + newest4, fixed + newest4 + fifth - 1]) {
      const prompt = buildPrompt({ systemPrompt: SYSTEM, history, message, budget });
      expect(prompt.messages.slice(1, -1)).toEqual(history.slice(-4));
      expect(prompt.tokens).toBe(fixed + newest4);
    }
    expect(buildPrompt({ systemPrompt: SYSTEM, history, message, budget: fixed + newest4 + fifth }).historySent).toBe(5);
    expect(buildPrompt({ systemPrompt: SYSTEM, history, message, budget: fixed }).messages).toHaveLength(2);
  });

  it('refuses a message that alone does not fit: PROMPT_TOO_LONG with the counts', () => {
    const message = 'word '.repeat(200).trim();
    let caught: unknown;
    try {
      buildPrompt({ systemPrompt: SYSTEM, history: turns(2), message, budget: 100 });
    } catch (err) {
      caught = err;
    }
    expect(isWardenError(caught, 'PROMPT_TOO_LONG')).toBe(true);
    expect(isWardenError(caught, 'PROMPT_TOO_LONG') && caught.details.budget).toBe(100);
    expect(isWardenError(caught, 'PROMPT_TOO_LONG') && caught.details.tokens).toBeGreaterThan(100);
  });

  it('always keeps the longest suffix of the newest 10 that fits, within budget (property)', () => {
    const message = fc.record({ role: fc.constantFrom('user' as const, 'assistant' as const), content: fc.string({ maxLength: 80 }) });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), fc.string({ minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 400 }), (history, text, extra) => {
        const fixed = messageTokens({ role: 'system', content: SYSTEM }) + messageTokens({ role: 'user', content: text }) + TOKENS_REPLY_PRIMING;
        const budget = fixed + extra;
        const prompt = buildPrompt({ systemPrompt: SYSTEM, history, message: text, budget });
        const kept = prompt.messages.slice(1, -1);
        const candidates = history.slice(-HISTORY_MESSAGES);
        expect(kept).toEqual(candidates.slice(candidates.length - kept.length));
        expect(prompt.tokens).toBeLessThanOrEqual(budget);
        const nextOlder = candidates[candidates.length - kept.length - 1];
        if (nextOlder) expect(prompt.tokens + messageTokens(nextOlder)).toBeGreaterThan(budget);
      }),
    );
  });
});
