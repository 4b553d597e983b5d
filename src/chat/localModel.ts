import { createHash } from 'node:crypto';
import type { ChatModel, ModelAnswer, ModelRequest } from './chatModel.js';
import { llmUnavailable } from './chatModel.js';

export const LOCAL_MODEL_NAME = 'warden-local';

/** Every local answer starts with this, so nobody mistakes it for a real model's advice. */
export const LOCAL_ANSWER_PREFIX = '[Warden local model]';

const SUGGESTIONS = [
  'Write down the one outcome this week must produce, then cut everything that does not serve it.',
  'Ship the smallest version a real user can try, and watch them use it.',
  'List the three riskiest assumptions and test the cheapest one first.',
  'Decide what you will not build yet; say it out loud to the team.',
  'Put a date on the next decision, or it will not be made.',
];

/**
 * The embedded default's model: no network, no key, the same answer for the same prompt. It says what it
 * is (SPEC §8), echoes the question, shows how much history it was given, and streams word by word so
 * chat.stream behaves as it does against a real provider.
 */
export function createLocalModel(): ChatModel {
  return {
    name: LOCAL_MODEL_NAME,
    local: true,
    async answer(request: ModelRequest): Promise<ModelAnswer> {
      const text = localAnswer(request);
      if (request.onDelta) {
        // Words with their following space, so the pieces join back into exactly `text`.
        for (const piece of text.match(/\S+\s*/g) ?? []) {
          if (request.signal?.aborted) throw llmUnavailable('unreachable', 'the local model call was aborted');
          request.onDelta(piece);
          // One turn of the event loop per piece: a reader sees the answer arrive in parts.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      return { text, model: LOCAL_MODEL_NAME, usage: null };
    },
  };
}

/** The local model's answer to a prompt: deterministic in the prompt's content. */
export function localAnswer(request: Pick<ModelRequest, 'messages'>): string {
  const last = request.messages.at(-1)?.content ?? '';
  const history = request.messages.filter((m) => m.role !== 'system').length - 1;
  const digest = createHash('sha256').update(JSON.stringify(request.messages)).digest();
  const suggestion = SUGGESTIONS[(digest[0] ?? 0) % SUGGESTIONS.length] ?? '';
  const quoted = last.length > 120 ? `${last.slice(0, 117)}...` : last;
  return (
    `${LOCAL_ANSWER_PREFIX} This answer comes from Warden's built-in local model, not an LLM ` +
    `(set WARDEN_LLM_BASE_URL to use one). You said: "${quoted}". ` +
    `I was given ${history} earlier message${history === 1 ? '' : 's'} of this conversation. ${suggestion}`
  );
}
