import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createProjectsRepository, type ProjectRow } from '../../src/db/projectsRepository.js';
import { createUsersRepository } from '../../src/db/usersRepository.js';
import { isWardenError } from '../../src/errors.js';
import { useTestDb } from '../helpers/testDb.js';

const db = await useTestDb('projects_repo');
await migrate(db.sql);
const projects = createProjectsRepository(db.sql);
const users = createUsersRepository(db.sql);
const T0 = Date.parse('2026-03-01T10:00:00Z');
for (const id of ['alice', 'bob', 'pager']) await users.upsertUser({ id, tier: 'partner', now: T0 });

async function allPages(ownerId: string, limit: number, between?: () => Promise<void>): Promise<ProjectRow[]> {
  const seen: ProjectRow[] = [];
  let cursor: string | null = null;
  do {
    const page = await projects.listProjects(ownerId, { limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    seen.push(...page.items);
    cursor = page.nextCursor;
    await between?.();
  } while (cursor);
  return seen;
}

describe('projectsRepository', () => {
  it('creates a project and answers another owner exactly like a missing project', async () => {
    const p = await projects.createProject({ ownerId: 'alice', name: 'Shop', now: T0 });
    expect(p).toMatchObject({ ownerId: 'alice', name: 'Shop', lastDecisionAt: null });
    expect(p.createdAt).toBe('2026-03-01T10:00:00.000Z');
    expect(p.lastActivityAt).toBe(p.createdAt);
    expect(await projects.getProject('alice', p.id)).toEqual(p);
    expect(await projects.getProject('bob', p.id)).toBeNull();
    expect(await projects.getProject('alice', randomUUID())).toBeNull();
    expect(await projects.getProject('alice', 'not-a-uuid')).toBeNull();
  });

  it('refuses a project for an owner with no user row as NOT_FOUND', async () => {
    const err = await projects.createProject({ ownerId: 'ghost', name: 'x', now: T0 }).catch((e: unknown) => e);
    expect(isWardenError(err, 'NOT_FOUND') && err.details).toEqual({ entity: 'user', id: 'ghost' });
  });

  it('pages newest first with no duplicate and no gap, also across equal times and inserts between pages', async () => {
    const original: ProjectRow[] = [];
    // Groups of three share a created_at, so the id tiebreak matters.
    for (let i = 0; i < 23; i++) {
      original.push(await projects.createProject({ ownerId: 'pager', name: `p${i}`, now: T0 + Math.floor(i / 3) * 1000 }));
    }
    const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
    const expected = [...original].sort((a, b) => desc(a.createdAt, b.createdAt) || desc(a.id, b.id));
    expect((await allPages('pager', 5)).map((p) => p.id)).toEqual(expected.map((p) => p.id));

    // Newer and equal-time projects inserted while paging must not shift the pages of the original set.
    let n = 0;
    const seen = await allPages('pager', 4, async () => {
      n += 1;
      await projects.createProject({ ownerId: 'pager', name: `late${n}`, now: T0 + 3_600_000 + n });
    });
    const seenOriginal = seen.filter((p) => !p.name.startsWith('late')).map((p) => p.id);
    expect(seenOriginal).toEqual(expected.map((p) => p.id));
    expect(new Set(seen.map((p) => p.id)).size).toBe(seen.length);
    expect((await projects.listProjects('bob')).items).toEqual([]);
  });

  it('refuses a cursor it did not make', async () => {
    const err = await projects.listProjects('alice', { cursor: 'garbage' }).catch((e: unknown) => e);
    expect(isWardenError(err, 'INVALID_CURSOR')).toBe(true);
  });

  it('moves activity and decision times forward only, for the owner only', async () => {
    const p = await projects.createProject({ ownerId: 'alice', name: 'Times', now: T0 });
    const later = await projects.recordActivity('alice', p.id, T0 + 5_000);
    expect(later?.lastActivityAt).toBe(new Date(T0 + 5_000).toISOString());
    const notBack = await projects.recordActivity('alice', p.id, T0 + 1_000);
    expect(notBack?.lastActivityAt).toBe(new Date(T0 + 5_000).toISOString());

    const decided = await projects.recordDecision('alice', p.id, '2026-03-02T00:00:00Z');
    expect(decided?.lastDecisionAt).toBe('2026-03-02T00:00:00.000Z');
    expect((await projects.recordDecision('alice', p.id, T0))?.lastDecisionAt).toBe('2026-03-02T00:00:00.000Z');

    expect(await projects.recordActivity('bob', p.id, T0 + 99_000)).toBeNull();
    expect(await projects.recordDecision('bob', p.id, T0 + 99_000)).toBeNull();
    expect((await projects.getProject('alice', p.id))?.lastActivityAt).toBe(new Date(T0 + 5_000).toISOString());
  });
});
