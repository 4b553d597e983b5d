/**
 * Property-based fuzz of every procedure's input on the wire. The procedures are read from the router at
 * run time and each one's input arbitrary is derived from its zod schema (test/helpers/fuzzInputs.ts),
 * so procedures added later are fuzzed too. Near-valid inputs (real ids) and hostile mutations of them
 * (NUL, lone surrogates, huge numbers, wrong types, unknown fields, deep nesting, long strings), plus
 * arbitrary JSON, go over the fast JSON path in batches (POST for mutations, GET for queries, keep-alive)
 * and subscriptions over SSE with a short abort. Properties: no answer is a 5xx, and a batch whose every
 * call was refused changed no table.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../router/appRouter.js';
import { readRouterInternals } from '../../src/http/routerInternals.js';
import { arbitraryOf, inputJsonSchema, mutationOf, type KnownIds } from '../helpers/fuzzInputs.js';
import { startTestApp, type TestApp } from '../helpers/testApp.js';

/** Cases per run, in total; the batches below add up to at least this many. */
const TOTAL_CASES = 10_000;
const BATCH = 25;
const MUTATION_REQUEST = 5;
const SSE_CASES = 300;
/** GET URLs stay well under Node's 16 KB header limit (a longer one is a 431, not a fuzz case). */
const MAX_URL = 12_000;

type Kind = 'query' | 'mutation' | 'subscription';
interface Target {
  path: string;
  kind: Kind;
  valid: fc.Arbitrary<unknown>;
}
/** One call; the path only, not the Target, so that a failure report does not print arbitraries. */
interface Case {
  path: string;
  input: unknown;
}
interface CallOutcome {
  path: string;
  status: number;
  input: string;
}

let t: TestApp;
let token: string;
let targets: Target[];
let tables: string[];

/** Row counts of every table of this file's schema, in one statement. */
async function tableCounts(): Promise<Record<string, number>> {
  const columns = tables.map((name) => `(select count(*)::int from "${name}") as "${name}"`).join(', ');
  const [row] = await t.db.sql.unsafe<Record<string, number>[]>(`select ${columns}`);
  return row ?? {};
}

const encode = (input: unknown) => (input === undefined ? undefined : JSON.stringify(input));

/** One batched request; the outcome of each of its calls (the batch's own status when there is no body). */
async function sendBatch(kind: 'query' | 'mutation', cases: Case[]): Promise<CallOutcome[]> {
  const paths = cases.map((c) => c.path).join(',');
  const inputs: Record<number, unknown> = {};
  cases.forEach((c, i) => {
    if (c.input !== undefined) inputs[i] = c.input;
  });
  const body = JSON.stringify(inputs);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  const res =
    kind === 'mutation'
      ? await fetch(`${t.url}/trpc/${paths}?batch=1`, { method: 'POST', body, headers: { ...headers, 'content-type': 'application/json' } })
      : await fetch(`${t.url}/trpc/${paths}?batch=1&input=${encodeURIComponent(body)}`, { headers });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Only Node's own refusals (431 for a URL past its header limit) come without a JSON body.
    if (res.status < 400 || res.status >= 500) throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  const items = Array.isArray(parsed) ? (parsed as { error?: { data?: { httpStatus?: number } } }[]) : [];
  return cases.map((c, i) => {
    const item = items[i];
    const status = item === undefined ? res.status : item.error ? (item.error.data?.httpStatus ?? 500) : 200;
    return { path: c.path, status, input: (encode(c.input) ?? 'undefined').slice(0, 300) };
  });
}

/**
 * Splits a batch for sending: mutations in requests of MUTATION_REQUEST calls (small enough that many
 * requests are refused whole, so the "stores nothing" check runs often), queries by GET URL length.
 */
function chunks(kind: 'query' | 'mutation', cases: Case[]): Case[][] {
  if (kind === 'mutation') {
    return Array.from({ length: Math.ceil(cases.length / MUTATION_REQUEST) }, (_, i) =>
      cases.slice(i * MUTATION_REQUEST, (i + 1) * MUTATION_REQUEST),
    );
  }
  const out: Case[][] = [];
  let current: Case[] = [];
  let length = 0;
  for (const c of cases) {
    const size = encodeURIComponent(encode(c.input) ?? '').length + c.path.length + 10;
    if (current.length > 0 && length + size > MAX_URL) {
      out.push(current);
      current = [];
      length = 0;
    }
    current.push(c);
    length += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** One subscription: the HTTP status, and the httpStatus of a streamed error if one came before the abort. */
async function sendSubscription(c: Case): Promise<CallOutcome> {
  const ac = new AbortController();
  const search = c.input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(c.input))}`;
  // Generous until the headers come (a shared, busy machine), then a short look at the stream.
  let timer = setTimeout(() => ac.abort(), 5_000);
  let status = 0;
  try {
    const res = await fetch(`${t.url}/trpc/${c.path}${search}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: ac.signal,
    });
    status = res.status;
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(), 300);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/\ndata: (?!\{\}|\{"reconnectAfterInactivityMs)|serialized-error|event: return/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const streamed = /"httpStatus":(\d+)/.exec(text.includes('serialized-error') ? text : '');
    if (streamed) status = Number(streamed[1]);
    ac.abort();
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  } finally {
    clearTimeout(timer);
  }
  return { path: c.path, status, input: (encode(c.input) ?? 'undefined').slice(0, 300) };
}

beforeAll(async () => {
  t = await startTestApp('wire_fuzz', { env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });
  token = await t.tokenFor('fuzzer', { tier: 'partner', admin: true });
  const client = t.clientFor(token);
  const { projectId } = await client.projects.create.mutate({ name: 'fuzz' });
  const { jobId } = await client.jobs.submit.mutate({ projectId, goal: 'fuzz target' });
  const known: KnownIds = { projectId: [projectId], jobId: [jobId] };
  // Real ids of the other domains, so near-valid inputs reach their procedures past NOT_FOUND.
  const made = await Promise.allSettled([
    client.registers.create.mutate({ title: 'fuzz', subject: 'fuzz' }),
    client.chat.send.mutate({ message: 'hello' }),
  ]);
  for (const m of made) if (m.status === 'fulfilled') collectIds(m.value, known);
  const rows = await t.db.sql<{ table_name: string }[]>`
    select table_name from information_schema.tables
    where table_schema = ${t.db.schema} and table_type = 'BASE TABLE' and table_name <> 'schema_migrations'
    order by table_name`;
  tables = rows.map((r) => r.table_name);

  const { procedures } = readRouterInternals(appRouter);
  targets = Object.entries(procedures).flatMap(([path, proc]) => {
    if (!proc) return [];
    const schema = inputJsonSchema(proc._def.inputs);
    return [{ path, kind: proc._def.type, valid: schema ? arbitraryOf(schema, known) : fc.constantFrom(undefined, {}) }];
  });
});

/** Every string `…Id` field of a result, as a known id of that name (a chat `sessionId` is its `conversationId`). */
function collectIds(value: unknown, known: KnownIds): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && key.endsWith('Id')) {
      for (const name of key === 'sessionId' ? [key, 'conversationId'] : [key]) (known[name] ??= []).push(v);
    } else collectIds(v, known);
  }
}

/** A near-valid input (1 in 4) or a hostile one (3 in 4) for a procedure of that kind. */
function caseOf(kind: Kind): fc.Arbitrary<Case> {
  const ofKind = targets.filter((x) => x.kind === kind);
  return fc.constantFrom(...ofKind).chain((target) =>
    fc
      .oneof({ weight: 1, arbitrary: target.valid }, { weight: 3, arbitrary: mutationOf(target.valid as fc.Arbitrary<never>) })
      .map((input) => ({ path: target.path, input }))
      // A GET (query, subscription) whose input alone passes Node's URL limit is refused by Node (431, or
      // a reset while the client still sends); long inputs are for mutations, whose body limit is Warden's.
      .filter((c) => kind === 'mutation' || encodeURIComponent(encode(c.input) ?? '').length < MAX_URL),
  );
}

describe('wire fuzz', () => {
  it('covers every procedure of the router', () => {
    expect(targets.length).toBeGreaterThan(20);
    for (const kind of ['query', 'mutation', 'subscription'] as const) expect(targets.some((x) => x.kind === kind)).toBe(true);
  });

  it(`answers ${TOTAL_CASES.toLocaleString('en-US')} fuzzed calls without a 5xx, and a refused batch stores nothing`, async () => {
    const outcomes: CallOutcome[] = [];
    const failures: CallOutcome[] = [];
    let unchangedChecks = 0;
    const batchRuns = Math.ceil((TOTAL_CASES - SSE_CASES) / BATCH);
    const batch = fc.constantFrom<'query' | 'mutation'>('query', 'mutation').chain((kind) =>
      fc.array(caseOf(kind), { minLength: BATCH, maxLength: BATCH }).map((cases) => ({ kind, cases })),
    );
    await fc.assert(
      fc.asyncProperty(batch, async ({ kind, cases }) => {
        for (const part of chunks(kind, cases)) {
          const before = kind === 'mutation' ? await tableCounts() : undefined;
          const results = await sendBatch(kind, part);
          outcomes.push(...results);
          failures.push(...results.filter((r) => r.status >= 500));
          if (before && results.every((r) => r.status >= 400)) {
            expect(await tableCounts(), `refused batch changed a table: ${results.map((r) => r.path).join(',')}`).toEqual(before);
            unchangedChecks++;
          }
        }
        expect(failures).toEqual([]);
      }),
      { numRuns: batchRuns, endOnFailure: true },
    );

    const sse = fc.sample(caseOf('subscription'), SSE_CASES);
    for (let i = 0; i < sse.length; i += 10) {
      const results = await Promise.all(sse.slice(i, i + 10).map(sendSubscription));
      outcomes.push(...results);
      failures.push(...results.filter((r) => r.status >= 500 || r.status === 0));
    }
    expect(failures).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(TOTAL_CASES);
    // The fuzz must reach the procedures, not only their parsers, and must check refused batches.
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(TOTAL_CASES / 50);
    expect(outcomes.filter((o) => o.status === 400).length).toBeGreaterThan(TOTAL_CASES / 4);
    expect(unchangedChecks).toBeGreaterThan(100);
  }, 300_000);
});
