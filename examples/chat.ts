/**
 * Talk to Warden's co-founder assistant from a script. With Warden running (`npm start`) elsewhere:
 *
 *   npm run token -- --user you --tier partner      # prints a token as its last line
 *   TOKEN=<that token> npx tsx examples/chat.ts "How do I validate my idea?"
 *
 * It sends the question (chat.send, a new session), streams a follow-up in the same session
 * (chat.stream: the answer's text as it is generated, then the result), and prints the session's history.
 * With nothing configured, the answers come from Warden's local deterministic model, and say so.
 */
import { TRPCClientError } from '@trpc/client';
import { createWardenClient, type AppRouter } from '../src/client.js';

const url = process.env.WARDEN_URL ?? 'http://127.0.0.1:3000';
const token = process.env.TOKEN;
const question = process.argv[2] ?? 'How do I validate my idea?';
if (!token) {
  console.error('Usage: TOKEN=<token> npx tsx examples/chat.ts "<question>"   (token: npm run token -- --user you --tier partner)');
  process.exit(2);
}

const client = createWardenClient({ url, token });

async function main(): Promise<void> {
  const first = await client.chat.send.mutate({ message: question });
  console.log(`session  ${first.sessionId}  (${first.model}, ${first.usage.totalTokens} tokens, ${first.latencyMs} ms)`);
  console.log(`answer   ${first.answer}`);

  process.stdout.write('stream   ');
  const result = await new Promise<{ usage: { totalTokens: number } }>((resolve, reject) => {
    client.chat.stream.subscribe(
      { conversationId: first.sessionId, message: 'What should I do first?' },
      {
        // Events come numbered ({ id, data }); data is a piece of text, or the turn's result at the end.
        onData: ({ data: event }) => {
          if (event.type === 'delta') process.stdout.write(event.text);
          else resolve(event.result);
        },
        onError: reject,
      },
    );
  });
  console.log(`\n         (${result.usage.totalTokens} tokens)`);

  const history = await client.chat.history.query({ conversationId: first.sessionId });
  console.log(`history  ${history.items.map((m) => m.role).join(', ')}`);
  const usage = await client.usage.get.query();
  console.log(`tokens   ${usage.tokensUsed} used today of ${usage.tokenBudget === -1 ? 'unlimited' : usage.tokenBudget}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // Typed refusals carry a stable code: TOKEN_BUDGET, NOT_FOUND, LLM_UNAVAILABLE, …
    if (err instanceof TRPCClientError) {
      const data = (err as TRPCClientError<AppRouter>).data;
      console.error(`refused  ${data?.wardenCode ?? data?.code ?? 'error'}: ${err.message}`);
    } else {
      console.error(err);
    }
    process.exit(1);
  },
);
