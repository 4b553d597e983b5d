import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HttpRoute } from '../http/createHttpServer.js';

/** Where the page is mounted; it links its assets relatively, so it needs the trailing slash. */
export const INSPECTOR_PATH = '/inspector/';

const ASSETS: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'inspector.js': { file: 'inspector.js', type: 'text/javascript; charset=utf-8' },
  'api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
  'dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  'statechart.js': { file: 'statechart.js', type: 'text/javascript; charset=utf-8' },
  'timeline.js': { file: 'timeline.js', type: 'text/javascript; charset=utf-8' },
  'inspector.css': { file: 'inspector.css', type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * Nothing leaves this origin: no CDN, no font service, no inline script. The page works with the
 * network cut (SPEC §11), and a job message rendered as text can never become script.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * Serves the inspector page and its assets from src/inspector/public/ (read once, at creation). The page
 * itself holds no data: everything it shows comes from the admin-only `inspector.*` procedures.
 */
export function createInspectorRoute(options: { publicDir?: URL } = {}): HttpRoute {
  const dir = options.publicDir ?? new URL('./public/', import.meta.url);
  const assets = new Map<string, Asset>();
  for (const [name, { file, type }] of Object.entries(ASSETS)) {
    const body = readFileSync(new URL(file, dir));
    assets.set(name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
  }

  return {
    path: INSPECTOR_PATH,
    handle(req, res, rest) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
        res.end();
        return;
      }
      const pathname = (req.url ?? '').split('?')[0] ?? '';
      if (!pathname.endsWith('/') && rest === '') {
        res.writeHead(308, { location: INSPECTOR_PATH, 'content-length': 0 });
        res.end();
        return;
      }
      const asset = assets.get(rest);
      if (!asset) {
        const body = '{"error":"not found"}';
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      const headers = { ...SECURITY_HEADERS, etag: asset.etag, 'cache-control': 'no-cache' };
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': asset.type, 'content-length': asset.body.length });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
    },
  };
}
