import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';
import { z } from 'zod';

/**
 * A small chat-completions server for tests: it speaks the protocol an OpenAI-compatible provider
 * speaks (POST /v1/chat/completions; a JSON reply, or SSE chunks with usage in the final chunk when
 * `stream_options.include_usage` is asked; error statuses with Retry-After), and records every request
 * it received, so tests assert on what Warden actually sent rather than on Warden's own variables.
 */
export const chatRequestSchema = z.object({
  model: z.string(),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean() }).nullish(),
  max_tokens: z.number().optional(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** How the server answers one request. */
export type FakeReply =
  | { kind: 'answer'; text: string; usage?: { prompt: number; completion: number } }
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Streams `before`, then stops sending (the connection stays open): a stall mid-stream. */
  | { kind: 'stall'; before: string }
  /** Streams `before`, then closes the connection without finishing the stream. */
  | { kind: 'cut'; before: string };

export interface FakeLlmServer {
  /** Base URL for WARDEN_LLM_BASE_URL, ending in /v1. */
  url: string;
  requests: ChatRequest[];
  /** Decides the reply to each request; default: echo the last message, usage 11 + 7. */
  reply: (request: ChatRequest, index: number) => FakeReply;
  close(): Promise<void>;
}

/** The default reply: names the last user message, so each answer is tied to its question. */
export function echoReply(request: ChatRequest): FakeReply {
  return { kind: 'answer', text: `answer to: ${request.messages.at(-1)?.content ?? ''}`, usage: { prompt: 11, completion: 7 } };
}

export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const open = new Set<ServerResponse>();
  const fake: FakeLlmServer = {
    url: '',
    requests: [],
    reply: echoReply,
    close: () => new Promise((resolve) => {
      for (const res of open) res.destroy();
      server.close(() => resolve());
    }),
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const request = chatRequestSchema.parse(JSON.parse(body));
    const index = fake.requests.push(request) - 1;
    const reply = fake.reply(request, index);
    open.add(res);
    res.once('close', () => open.delete(res));

    if (reply.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter;
      res.writeHead(reply.status, headers).end(JSON.stringify({ error: { message: `status ${reply.status}`, type: 'test' } }));
      return;
    }
    const id = `chatcmpl-${index}`;
    const model = `${request.model}-fake`;
    if (!request.stream) {
      if (reply.kind !== 'answer') {
        // A non-streaming stall: headers never come.
        if (reply.kind === 'cut') res.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        id, object: 'chat.completion', created: 0, model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: 'stop' }],
        usage: reply.usage ? usageOf(reply.usage) : undefined,
      }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (content: string) =>
      send({ id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    const text = reply.kind === 'answer' ? reply.text : reply.before;
    for (const piece of text.match(/\S+\s*/g) ?? []) chunk(piece);
    if (reply.kind === 'stall') return;
    if (reply.kind === 'cut') {
      res.destroy();
      return;
    }
    send({ id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (request.stream_options?.include_usage && reply.usage) {
      send({ id, object: 'chat.completion.chunk', created: 0, model, choices: [], usage: usageOf(reply.usage) });
    }
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  afterAll(() => fake.close());
  return fake;
}

function usageOf(usage: { prompt: number; completion: number }) {
  return { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion };
}
