import { describe, expect, it } from 'vitest';
import { createLogger, pathOnly } from '../../src/log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { log, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line', () => {
    const { log, lines } = capture();
    log.info({ path: 'usage.get' }, 'request refused');
    expect(lines).toEqual([expect.objectContaining({ level: 30, service: 'warden', path: 'usage.get', msg: 'request refused' })]);
  });

  it('censors tokens wherever they sit: headers, connection params, token fields', () => {
    const { log, lines } = capture();
    const secret = 'eyJhbGciOiJIUzI1NiJ9.payload.signature';
    log.warn({
      authorization: `Bearer ${secret}`,
      token: secret,
      req: { headers: { authorization: `Bearer ${secret}`, host: 'x' } },
      headers: { authorization: `Bearer ${secret}` },
      info: { connectionParams: { token: secret } },
      call: { token: secret },
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    expect(lines[0]).toMatchObject({ req: { headers: { host: 'x' } } });
  });
});

describe('pathOnly', () => {
  it('drops the query string, where SSE carries connectionParams', () => {
    expect(pathOnly('/trpc/jobs.events?connectionParams=%7B%22token%22%3A%22abc%22%7D&input=1')).toBe('/trpc/jobs.events');
    expect(pathOnly('/healthz')).toBe('/healthz');
    expect(pathOnly(undefined)).toBe('/');
  });
});
