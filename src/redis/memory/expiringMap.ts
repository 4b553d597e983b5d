import type { Clock } from '../../clock.js';

interface Slot<V> {
  value: V;
  /** ms since the epoch; undefined: never. */
  expiresAt: number | undefined;
}

/** Expired entries are swept on every this-many writes, so a long-lived process does not grow forever. */
const SWEEP_EVERY = 1024;

/**
 * A Map whose entries can expire at an instant of the injected clock: the stand-in's version of Redis
 * key expiry. An entry is gone from the moment `clock.now() >= expiresAt`.
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, Slot<V>>();
  readonly #clock: Clock;
  #writes = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get(key: string): V | undefined {
    return this.#live(key)?.value;
  }

  /** Sets the value and keeps the entry's expiry (as INCR and HSET do in Redis). */
  set(key: string, value: V): void {
    const entry = this.#live(key);
    if (entry) entry.value = value;
    else this.#entries.set(key, { value, expiresAt: undefined });
    this.#wrote();
  }

  /** Sets the expiry only when the entry has none (PEXPIREAT … NX). */
  expireAtIfNone(key: string, expiresAt: number): void {
    const entry = this.#live(key);
    if (entry && entry.expiresAt === undefined) entry.expiresAt = expiresAt;
  }

  /** Sets the expiry unconditionally (PEXPIREAT). */
  expireAt(key: string, expiresAt: number): void {
    const entry = this.#live(key);
    if (entry) entry.expiresAt = expiresAt;
  }

  /** The entry's expiry (PEXPIRETIME): undefined when the entry is missing or never expires. */
  expiresAt(key: string): number | undefined {
    return this.#live(key)?.expiresAt;
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  #live(key: string): Slot<V> | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && this.#clock.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #wrote(): void {
    if (++this.#writes % SWEEP_EVERY !== 0) return;
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== undefined && now >= entry.expiresAt) this.#entries.delete(key);
    }
  }
}

/**
 * restoreCounter.lua on the stand-in: raises a dated counter to the recorded count (never lowers it)
 * and gives it its expiry if it has none.
 */
export function restoreCounter(counters: ExpiringMap<number>, key: string, count: number, expiresAt: number): void {
  if ((counters.get(key) ?? 0) < count) counters.set(key, count);
  counters.expireAtIfNone(key, expiresAt);
}
