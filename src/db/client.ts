import postgres, { type TransactionSql as PgTransactionSql } from 'postgres';

export interface SqlOptions {
  /** Every connection gets this search_path, so a test file can own a schema. */
  schema?: string;
  max?: number;
  /**
   * PostgreSQL's plan_cache_mode for these connections. The commit statement's pool uses
   * 'force_generic_plan': under the default, a statement taking arrays is re-planned on almost every
   * execution (the array lengths change the estimates), and planning cost more than running it.
   */
  planCacheMode?: 'auto' | 'force_generic_plan' | 'force_custom_plan';
  /** Called with each statement's text as it is sent (tests count round trips; tracing). */
  onQuery?: (query: string) => void;
}

/** BIGINT (oid 20) as a JS number: seq, counters and epoch-ms values never near 2^53. */
const bigintAsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number) => String(value),
  parse: (value: string) => Number(value),
};

export function createSql(url: string, options: SqlOptions = {}) {
  return postgres(url, {
    max: options.max ?? 10,
    // Fail fast when PostgreSQL is unreachable: the caller gets a typed UNAVAILABLE, not a 30 s hang.
    // postgres.js' default backoff between reconnects grows to 20 s, and queries wait for it: capped at
    // half a second, a call during an outage still answers within ~2 s.
    connect_timeout: 2,
    backoff: (retries: number) => Math.min(0.1 * retries, 0.5),
    // NOTICEs ("relation already exists, skipping") are expected during idempotent migrations.
    onnotice: () => {},
    connection: {
      ...(options.schema ? { search_path: options.schema } : {}),
      ...(options.planCacheMode ? { plan_cache_mode: options.planCacheMode } : {}),
    },
    types: { bigint: bigintAsNumber },
    transform: { undefined: null },
    ...(options.onQuery ? { debug: (_connection: number, query: string) => options.onQuery?.(query) } : {}),
  });
}

export type Sql = ReturnType<typeof createSql>;

/**
 * The job runtime's commit connections: as many as its commit lanes, so a commit never queues behind a
 * read, with generic plans for the array-taking commit statement.
 */
export function createCommitSql(url: string, options: Pick<SqlOptions, 'schema' | 'onQuery'> = {}): Sql {
  return createSql(url, { ...options, max: 2, planCacheMode: 'force_generic_plan' });
}

/** The `sql` handed to `sql.begin(tx => …)`: same custom types as Sql. */
export type TransactionSql = PgTransactionSql<{ bigint: number }>;
