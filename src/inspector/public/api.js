// Talking to Warden: tRPC's HTTP protocol spoken directly — GET /trpc/<path>?input=… for queries, an
// EventSource for subscriptions, whose admin token travels in `connectionParams` (as tRPC's own client
// sends it: EventSource cannot set headers). The token is kept in sessionStorage only.

const TOKEN_KEY = 'warden.inspector.token';

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A tRPC query; throws ApiError with the tRPC error code. */
export async function query(path, input) {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await fetch(`/trpc/${path}${qs}`, { headers: { authorization: `Bearer ${token.get() ?? ''}` } });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`HTTP ${res.status}`, 'HTTP', res.status);
  }
  if (body.error) throw new ApiError(body.error.message, body.error.data?.code ?? 'ERROR', res.status);
  return body.result.data;
}

/** A tRPC subscription over SSE; returns a close function. EventSource reconnects by itself. */
export function subscribe(path, input, { onData, onState, onError }) {
  const params = new URLSearchParams();
  if (input !== undefined) params.set('input', JSON.stringify(input));
  params.set('connectionParams', JSON.stringify({ token: token.get() ?? '' }));
  const es = new EventSource(`/trpc/${path}?${params}`);
  es.addEventListener('connected', () => onState('live'));
  es.addEventListener('message', (e) => {
    onState('live');
    onData(JSON.parse(e.data));
  });
  es.addEventListener('serialized-error', (e) => {
    const err = JSON.parse(e.data);
    es.close();
    onError(new ApiError(err.message ?? 'stream error', err.data?.code ?? 'ERROR', err.data?.httpStatus ?? 0));
  });
  es.addEventListener('return', () => es.close());
  es.onerror = () => onState(es.readyState === EventSource.CLOSED ? 'error' : 'reconnecting');
  return () => es.close();
}

export const isAuthError = (err) => err instanceof ApiError && (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN');
