/**
 * `npm run token -- --user alice --tier partner [--admin] [--ttl 7d]`: creates or updates the user with
 * that tier in PostgreSQL and prints a bearer token for them as the last line of output, so that
 * `TOKEN=$(npm run -s token -- --user alice --tier partner | tail -n 1)` works. The stored admin flag is
 * set to exactly `--admin`: re-minting without it takes admin rights from the user's older tokens too.
 *
 * `npm run token -- --user alice --revoke [--tier partner]`: revokes every token of the user minted so
 * far (servers refuse them once their few-second user cache expires); with `--tier`, mints a new one.
 *
 * Without DATABASE_URL it uses the embedded PostgreSQL (the one `npm start` runs, started here for the
 * moment if it is not running), and the generated secret that `npm start` uses.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { resolveSecret } from '../auth/resolveSecret.js';
import { parseTtl, secretKey, signToken } from '../auth/tokens.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { createSql } from '../db/client.js';
import { startEmbeddedPostgres } from '../db/embeddedPostgres.js';
import { migrate } from '../db/migrate.js';
import { createUsersRepository } from '../db/usersRepository.js';
import { isTierName, TIER_NAMES } from '../domain/tiers.js';
import { createLogger } from '../log.js';

const USAGE =
  `usage: npm run token -- --user <id> --tier <${TIER_NAMES.join('|')}> [--admin] [--ttl 7d]\n` +
  `       npm run token -- --user <id> --revoke [--tier <tier> ...]   (revoke every earlier token)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      tier: { type: 'string' },
      admin: { type: 'boolean', default: false },
      revoke: { type: 'boolean', default: false },
      ttl: { type: 'string', default: '7d' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const user = values.user?.trim();
  if (!user || user.length > 200) throw new UsageError('--user is required (1–200 characters)');
  const tier = values.tier ?? '';
  const mint = !values.revoke || values.tier !== undefined;
  if (mint && !isTierName(tier)) throw new UsageError(`--tier must be one of ${TIER_NAMES.join(', ')}`);
  const ttlSeconds = parseTtl(values.ttl);

  const config = loadConfig();
  // Logs go to stderr: stdout is for the result, token last.
  const log = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: pino.destination(2) });
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir, log, expectRunning: true });
  const sql = createSql(config.databaseUrl ?? embedded?.url ?? '', { max: 1 });
  try {
    await migrate(sql);
    const clock = systemClock;
    const users = createUsersRepository(sql);
    if (values.revoke) {
      const revoked = await users.revokeTokens(user, clock.now());
      if (!revoked) throw new UsageError(`no user "${user}" to revoke tokens of`);
      process.stdout.write(`tokens of "${user}" revoked (version ${revoked.tokenVersion}); servers refuse them within seconds\n`);
      if (!mint) return;
    }
    const row = await users.upsertUser({ id: user, tier, isAdmin: values.admin, now: clock.now() });
    const secret = await resolveSecret(config);
    const token = await signToken(secretKey(secret), {
      userId: row.id,
      admin: values.admin,
      tokenVersion: row.tokenVersion,
      ttlSeconds,
      clock,
    });
    const expires = new Date(clock.now() + ttlSeconds * 1000).toISOString();
    process.stdout.write(
      `user "${row.id}" saved: tier ${row.tier}${values.admin ? ', admin' : ''}\n` +
        `token expires ${expires}; send it as "Authorization: Bearer <token>"\n` +
        `${token}\n`,
    );
  } finally {
    await sql.end({ timeout: 5 });
    await embedded?.stop();
  }
}

class UsageError extends Error {}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const hint = err instanceof UsageError || (err instanceof TypeError && 'code' in err) ? `\n${USAGE}` : '';
    process.stderr.write(`token: ${message}${hint}\n`);
    process.exit(1);
  },
);
