/**
 * `npm run inspect -- <jobId> [--url http://127.0.0.1:3000] [--token <admin token>]`: follows one job live
 * in the terminal — its state, iteration and every inspection record (events, transitions, snapshots
 * with context diffs) — until it ends (ready or failed), then prints the durable transition log.
 *
 * The token is an admin token (`npm run token -- --user you --tier cto_scale --admin`), from --token or
 * WARDEN_TOKEN; the URL defaults to WARDEN_URL, else this machine's configured HOST and PORT.
 * Exit codes: 0 the job ended (or had ended), 1 an error (not found, not admin, server unreachable), 130 Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { createWardenClient } from '../client.js';
import { loadConfig } from '../config.js';
import { ansi, formatActorLine, formatRecord, formatTransition, plain, type Paint } from '../inspector/formatRecord.js';
import type { LiveActor } from '../inspector/inspectionRecord.js';
import type { InspectorMessage, JobHistory } from '../inspector/inspectorService.js';

const USAGE = 'usage: npm run inspect -- <jobId> [--url http://127.0.0.1:3000] [--token <admin token>]';

class UsageError extends Error {}

function defaultUrl(): string {
  if (process.env.WARDEN_URL) return process.env.WARDEN_URL;
  const config = loadConfig();
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const jobId = positionals[0]?.trim();
  if (!jobId || positionals.length > 1) throw new UsageError('one job id is required');
  const token = values.token ?? process.env.WARDEN_TOKEN;
  if (!token) throw new UsageError('an admin token is required (--token or WARDEN_TOKEN)');
  const url = values.url ?? defaultUrl();
  const paint: Paint = process.stdout.isTTY && !process.env.NO_COLOR ? ansi : plain;
  const out = (line: string) => process.stdout.write(`${line}\n`);

  const client = createWardenClient({ url, token });
  return new Promise<number>((resolve) => {
    let lastLine = '';
    let ended = false;
    const actorLine = (actor: LiveActor) => {
      const line = formatActorLine(actor, paint);
      if (line !== lastLine) out(line);
      lastLine = line;
    };
    const finish = (code: number, history?: JobHistory) => {
      if (ended) return;
      ended = true;
      if (history && history.transitions.length > 0) {
        out(paint.dim(`── durable transition log (${history.transitions.length})`));
        for (const row of history.transitions) out(formatTransition(row, paint));
      }
      // Callbacks run on later ticks, after the subscription below exists.
      subscription.unsubscribe();
      resolve(code);
    };
    const endIfFinished = async () => {
      const history = await client.inspector.history.query({ jobId });
      if (history.finished && !history.live) finish(0, history);
    };
    const onMessage = (message: InspectorMessage) => {
      switch (message.type) {
        case 'history': {
          const { history } = message;
          const job = history.job;
          out(paint.bold(`job ${jobId}`) + (job ? paint.dim(`  owner ${job.ownerId}  project ${job.projectId}  tier ${job.tier}`) : ''));
          if (job) out(paint.dim(`stored: ${job.status}, iteration ${job.iteration}${job.awaitingConfirmation ? ', awaiting confirmation' : ''}, seq ${job.seq}`));
          for (const record of history.records) out(formatRecord(record, paint));
          if (history.live) actorLine(history.live);
          if (history.finished && !history.live) finish(0, history);
          else if (!history.live) out(paint.dim('not hosted by any process now: waiting for it to move…'));
          return;
        }
        case 'records':
          for (const record of message.records) {
            out(formatRecord(record, paint));
            if (record.kind === 'snapshot' && record.status === 'done') void endIfFinished().catch(() => {});
          }
          return;
        case 'actor':
          actorLine(message.actor);
          return;
        case 'gone':
          out(paint.dim(`── released by ${message.gone.host} (${message.gone.reason})`));
          lastLine = '';
          void endIfFinished().catch(() => {});
          return;
        default:
          return;
      }
    };
    const subscription = client.inspector.events.subscribe(
      { jobId },
      {
        onData: onMessage,
        onError: (error) => {
          const code = (error as { data?: { code?: string } }).data?.code;
          process.stderr.write(`inspect: ${code === 'FORBIDDEN' ? 'an admin token is required' : error.message}\n`);
          finish(1);
        },
      },
    );
    process.once('SIGINT', () => finish(130));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const hint = err instanceof UsageError || (err instanceof TypeError && 'code' in err) ? `\n${USAGE}` : '';
    process.stderr.write(`inspect: ${message}${hint}\n`);
    process.exit(1);
  },
);
