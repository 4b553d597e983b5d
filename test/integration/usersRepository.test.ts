import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('users_repo');
await migrate(db.sql);
const users = createUsersRepository(db.sql);
const T0 = Date.parse('2026-03-01T10:00:00Z');

describe('usersRepository', () => {
  it('creates a user with defaults and reads it back', async () => {
    const created = await users.upsertUser({ id: 'alice', tier: 'partner', now: T0 });
    expect(created).toEqual({
      id: 'alice',
      tier: 'partner',
      tokenBudgetOverride: null,
      isAdmin: false,
      tokenVersion: 0,
      createdAt: '2026-03-01T10:00:00.000Z',
      updatedAt: '2026-03-01T10:00:00.000Z',
    });
    expect(await users.getUser('alice')).toEqual(created);
    expect(await users.getUser('nobody')).toBeNull();
  });

  it('updates the tier, keeps omitted fields, and clears the override only when given null', async () => {
    await users.upsertUser({ id: 'bob', tier: 'bootstrapper', tokenBudgetOverride: 1_000, isAdmin: true, now: T0 });
    const upgraded = await users.upsertUser({ id: 'bob', tier: 'cto_scale', now: T0 + 60_000 });
    expect(upgraded).toMatchObject({ tier: 'cto_scale', tokenBudgetOverride: 1_000, isAdmin: true });
    expect(upgraded.createdAt).toBe('2026-03-01T10:00:00.000Z');
    expect(upgraded.updatedAt).toBe('2026-03-01T10:01:00.000Z');

    const cleared = await users.upsertUser({ id: 'bob', tier: 'cto_scale', tokenBudgetOverride: null, isAdmin: false, now: T0 });
    expect(cleared).toMatchObject({ tokenBudgetOverride: null, isAdmin: false });
  });

  it('stores -1 (unlimited) and large budgets as numbers, and refuses below -1', async () => {
    expect((await users.upsertUser({ id: 'carol', tier: 'partner', tokenBudgetOverride: -1, now: T0 })).tokenBudgetOverride).toBe(-1);
    const big = 9_000_000_000;
    expect((await users.upsertUser({ id: 'carol', tier: 'partner', tokenBudgetOverride: big, now: T0 })).tokenBudgetOverride).toBe(big);
    await expect(users.upsertUser({ id: 'carol', tier: 'partner', tokenBudgetOverride: -2, now: T0 })).rejects.toThrow();
  });
});
