import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll } from 'vitest';
import { createSql, type Sql } from '../../src/db/client.js';
import { TEST_DATABASE_URL } from '../setup/services.js';

export interface TestDb {
  url: string;
  schema: string;
  /** Connections whose search_path is this file's schema. */
  sql: Sql;
  /** Another pool on the same schema (e.g. a second "process"). */
  connect(max?: number): Sql;
}

/**
 * A PostgreSQL schema that belongs to one test file, so files run in parallel on one database. It is
 * created empty (call migrate yourself) and dropped after the file.
 */
export async function useTestDb(label = 'test'): Promise<TestDb> {
  const schema = `t_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomUUID().slice(0, 8)}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin`create schema ${admin(schema)}`;
  const pools: Sql[] = [];
  const connect = (max = 10) => {
    const pool = createSql(TEST_DATABASE_URL, { schema, max });
    pools.push(pool);
    return pool;
  };
  const sql = connect();
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end({ timeout: 5 })));
    await admin`drop schema if exists ${admin(schema)} cascade`;
    await admin.end({ timeout: 5 });
  });
  return { url: TEST_DATABASE_URL, schema, sql, connect };
}
