/**
 * CPU time by process kind, read from /proc over a measured window: the figure that stays put on a noisy
 * machine (jobs/s moves with whatever else runs; CPU per job mostly does not). Linux only: elsewhere the
 * sample is empty and the scenario reports no CPU figures.
 *
 * Kinds: the Warden (or BullMQ) processes under test by pid, threads included; every `postgres` process
 * (backends plus the WAL writer and checkpointer, which a commit makes work); every `redis-server`.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** utime + stime are in clock ticks; 100 per second on every Linux this runs on (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;

export type CpuKind = 'node' | 'postgres' | 'redis';

export interface CpuSample {
  /** Seconds of CPU per kind, summed over the matching processes alive at the time of the sample. */
  seconds: Record<CpuKind, number>;
  /** Per pid, so a process that exits between samples is not counted as negative time. */
  byPid: Map<number, { kind: CpuKind; seconds: number }>;
}

function readStat(pid: number): { comm: string; seconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces: the fields after it are counted from the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the comm.
    return { comm, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

/** Samples CPU time now: `nodePids` are the processes under test (e.g. worker children, or this process). */
export function sampleCpu(nodePids: readonly number[]): CpuSample {
  const byPid = new Map<number, { kind: CpuKind; seconds: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return { seconds: { node: 0, postgres: 0, redis: 0 }, byPid };
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const kind: CpuKind | null = nodePids.includes(pid) ? 'node' : stat.comm === 'postgres' ? 'postgres' : stat.comm === 'redis-server' ? 'redis' : null;
    if (kind) byPid.set(pid, { kind, seconds: stat.seconds });
  }
  const seconds = { node: 0, postgres: 0, redis: 0 };
  for (const { kind, seconds: s } of byPid.values()) seconds[kind] += s;
  return { seconds, byPid };
}

/**
 * CPU per unit of work (ms) by kind between two samples. Only processes present in both count, except
 * that a process born in the window (a new PostgreSQL backend) counts from zero.
 */
export function cpuMsPer(before: CpuSample, after: CpuSample, units: number): Record<CpuKind | 'total', number> {
  const used = { node: 0, postgres: 0, redis: 0 };
  for (const [pid, now] of after.byPid) used[now.kind] += now.seconds - (before.byPid.get(pid)?.seconds ?? 0);
  const per = (s: number) => (s * 1000) / units;
  return { node: per(used.node), postgres: per(used.postgres), redis: per(used.redis), total: per(used.node + used.postgres + used.redis) };
}
