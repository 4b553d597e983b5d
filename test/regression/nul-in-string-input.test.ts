/**
 * Regression: a NUL character (\u0000) in a string input reached PostgreSQL, which refuses it in text
 * columns, so `jobs.submit` answered 500 INTERNAL_SERVER_ERROR. It must be a 400 with zod issues naming
 * the offending string's path, for every procedure, and nothing may be stored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

let t: TestApp;
let token: string;
let projectId: string;

interface WireError {
  error: { message: string; data: { code: string; httpStatus: number; issues: { path: (string | number)[]; code: string }[] | null } };
}

async function call(method: 'GET' | 'POST', path: string, input: unknown): Promise<{ status: number; body: WireError }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  const init: RequestInit = { method, headers };
  let url = `${t.url}/trpc/${path}`;
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(input);
  } else {
    url += `?input=${encodeURIComponent(JSON.stringify(input))}`;
  }
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as WireError };
}

async function jobCount(): Promise<number> {
  const [row] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from jobs`;
  return row?.n ?? 0;
}

beforeAll(async () => {
  t = await startTestApp('nul_input', { env: { WARDEN_WORKERS: '0' } });
  token = await t.tokenFor('nina', { tier: 'partner' });
  ({ projectId } = await t.clientFor(token).projects.create.mutate({ name: 'nul' }));
});

describe('a NUL character in a string input', () => {
  it('is a 400 with the path of the string on jobs.submit, and no job is stored', async () => {
    const before = await jobCount();
    const res = await call('POST', 'jobs.submit', { projectId, goal: 'build\u0000it' });
    expect(res.status).toBe(400);
    expect(res.body.error.data.code).toBe('BAD_REQUEST');
    expect(res.body.error.message).toBe('Invalid input');
    expect(res.body.error.data.issues).toEqual([expect.objectContaining({ path: ['goal'] })]);
    expect(await jobCount()).toBe(before);
  });

  it('is a 400 in a query input, in an object key and in the project id', async () => {
    for (const [method, path, input, where] of [
      ['GET', 'jobs.list', { cursor: 'a\u0000' }, ['cursor']],
      ['GET', 'jobs.get', { jobId: '\u0000' }, ['jobId']],
      ['POST', 'jobs.submit', { projectId: `${projectId}\u0000`, goal: 'x' }, ['projectId']],
      ['POST', 'projects.create', { name: 'ok', 'k\u0000': 1 }, ['k\u0000']],
    ] as const) {
      const res = await call(method, path, input);
      expect(res.status, path).toBe(400);
      expect(res.body.error.data.issues?.[0]?.path, path).toEqual(where);
    }
    expect(await jobCount()).toBe(0);
  });

  it('is a BAD_REQUEST on an SSE subscription, including a NUL in Last-Event-ID', async () => {
    for (const [search, headers] of [
      [`input=${encodeURIComponent(JSON.stringify({ jobId: 'a\u0000' }))}`, {}],
      [`input=${encodeURIComponent(JSON.stringify({ jobId: 'a' }))}&lastEventId=${encodeURIComponent('1\u0000')}`, {}],
    ] as const) {
      const res = await fetch(`${t.url}/trpc/jobs.events?${search}`, {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...headers },
      });
      const text = await res.text();
      expect(text).toMatch(/^event: connected\n/);
      expect(text).toContain('event: serialized-error');
      expect(text).toContain('"code":"BAD_REQUEST"');
      expect(text).toContain('must not contain NUL characters');
    }
  });
});
