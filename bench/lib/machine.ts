import os from 'node:os';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  redis: string;
  postgres: string;
}

/** What the numbers were measured on: cores, Node, and the versions of the servers actually used. */
export async function describeMachine(redisUrl: string, databaseUrl: string): Promise<MachineInfo> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const [{ server_version: pgVersion } = { server_version: 'unknown' }] = await sql<{ server_version: string }[]>`show server_version`;
    return {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      postgres: pgVersion,
    };
  } finally {
    redis.disconnect();
    await sql.end({ timeout: 1 });
  }
}
