/**
 * Your first Warden job, from a script. With Warden running (`npm start`) in another terminal:
 *
 *   npm run token -- --user you --tier partner      # prints a token as its last line
 *   TOKEN=<that token> npm run example              # or: npm run example -- <that token>
 *
 * It creates a project, submits a build job, and prints each event of the job as it happens until the
 * job is ready (exit 0) or failed (exit 1). WARDEN_URL points it at another server.
 */
import { TRPCClientError } from '@trpc/client';
import { createWardenClient, type AppRouter } from '../src/client.js';

const url = process.env.WARDEN_URL ?? 'http://127.0.0.1:3000';
const token = process.env.TOKEN ?? process.argv[2];
if (!token) {
  console.error('Usage: TOKEN=<token> npm run example   (get a token with: npm run token -- --user you --tier partner)');
  process.exit(2);
}

// The typed client: queries and mutations over HTTP, subscriptions over Server-Sent Events.
const client = createWardenClient({ url, token });

async function main(): Promise<number> {
  const { projectId } = await client.projects.create.mutate({ name: 'My first project' });
  console.log(`project  ${projectId}`);

  const job = await client.jobs.submit.mutate({ projectId, goal: 'A landing page with a signup form' });
  console.log(`job      ${job.jobId}`);
  console.log(`         ${job.message}  (${job.usage.jobsRemaining} jobs left today)`);
  if (job.status === 'scheduled') {
    // Over today's quota: the job waits in `scheduled` and is queued after midnight UTC.
    console.log(`         It will be queued at ${job.scheduledFor ?? 'the next UTC midnight'}.`);
    return 0;
  }

  console.log('  seq  status   iter  message');
  // Every event from the first one (lastEventId "0"); the stream ends once the job is ready or failed.
  const final = await new Promise<string>((resolve, reject) => {
    client.jobs.events.subscribe(
      { jobId: job.jobId, lastEventId: '0' },
      {
        onData: ({ data: event }) => {
          console.log(`  ${String(event.seq).padStart(3)}  ${event.status.padEnd(9)} ${String(event.iteration).padStart(2)}  ${event.message}`);
          if (event.status === 'ready' || event.status === 'failed') resolve(event.status);
          // checks → checks is the confirmation pause: the checks kept failing, and the owner decides
          // whether to spend more iterations. This script says yes.
          else if (event.status === 'checks' && event.previousStatus === 'checks') {
            console.log('       → confirming another batch of iterations (jobs.confirm)');
            client.jobs.confirm.mutate({ jobId: job.jobId }).catch(reject);
          }
        },
        onError: reject,
      },
    );
  });

  const details = await client.jobs.get.query({ jobId: job.jobId });
  console.log(`done     ${details.status} after ${details.iteration} retries: ${details.message}`);
  return final === 'ready' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const failure = err instanceof TRPCClientError ? (err as TRPCClientError<AppRouter>) : null;
    if (failure?.data?.code === 'UNAUTHORIZED') {
      console.error('The token was refused: make a new one with `npm run token -- --user you --tier partner`.');
    } else if (failure && failure.data === undefined) {
      console.error(`Could not reach Warden at ${url}: is \`npm start\` running? (${failure.message})`);
    } else {
      console.error(err);
    }
    process.exit(1);
  },
);
