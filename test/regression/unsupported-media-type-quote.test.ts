/**
 * A mutation sent with a content type Warden does not read was refused 415 with the message
 * `Unsupported content-type "text/plain` — tRPC's own wording, one closing quote short.
 */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/testApp.js';

const t = await startTestApp('media_type_quote', { env: { WARDEN_WORKERS: '0', WARDEN_RISK_SCAN_SECONDS: '0' } });

describe('a mutation in text/plain', () => {
  it('is refused 415 with the content type quoted on both sides', async () => {
    const token = await t.tokenFor('alice');
    const res = await fetch(`${t.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error).toMatchObject({ message: 'Unsupported content-type "text/plain"', data: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });
});
