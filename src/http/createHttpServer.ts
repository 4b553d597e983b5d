import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { pathOnly } from '../log.js';
import type { TrpcHandler } from './trpcHandler.js';

/** A plain HTTP route: `/healthz`, `/metrics`, later `/inspector`. `rest` is the path after `prefix`. */
export interface HttpRoute {
  /** An exact path (`/healthz`) or, ending in `/`, a prefix (`/inspector/`). */
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, rest: string): void | Promise<void>;
}

/** Connection hygiene (WardenConfig.http); each default is Node's own when the field is omitted. */
export interface HttpLimits {
  keepAliveTimeoutMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** 0 = no cap. */
  maxConnections?: number;
}

export interface HttpServerOptions {
  trpc: TrpcHandler;
  routes?: HttpRoute[];
  log: Logger;
  limits?: HttpLimits;
}

export interface WardenHttpServer {
  readonly server: Server;
  /** Adds a route (e.g. the inspector's) before or after listen(). */
  addRoute(route: HttpRoute): void;
  /** Resolves with the bound address once listening (port 0 picks a free port). */
  listen(port: number, host: string): Promise<{ host: string; port: number; url: string }>;
  /**
   * Stops accepting connections, ends open SSE streams (clients reconnect elsewhere with lastEventId),
   * lets in-flight requests finish for up to `graceMs`, then cuts what remains.
   */
  close(graceMs?: number): Promise<void>;
}

const TRPC_PREFIX = '/trpc/';

/** One node:http server for the whole API: /trpc/*, then the plain routes, else a JSON 404. */
export function createHttpServer(options: HttpServerOptions): WardenHttpServer {
  const routes = [...(options.routes ?? [])];
  const streams = new Set<ServerResponse>();
  const { log } = options;

  const notFound = (res: ServerResponse) => {
    const body = '{"error":"not found"}';
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const serverError = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    log.error({ err, method: req.method, path: pathOnly(req.url) }, 'route failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = '{"error":"internal server error"}';
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const limits = options.limits ?? {};
  const server = createServer(serverOptions(limits), (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname.startsWith(TRPC_PREFIX)) {
      // EventSource asks for text/event-stream: such a response stays open and is ended on close().
      if (req.headers.accept?.includes('text/event-stream')) {
        streams.add(res);
        res.once('close', () => streams.delete(res));
      }
      options.trpc(req, res, pathname.slice(TRPC_PREFIX.length), q === -1 ? '' : url.slice(q + 1));
      return;
    }
    for (const route of routes) {
      const matches = route.path.endsWith('/')
        ? pathname.startsWith(route.path) || pathname === route.path.slice(0, -1)
        : pathname === route.path;
      if (!matches) continue;
      try {
        const done = route.handle(req, res, pathname.slice(route.path.length));
        if (done) done.catch((err: unknown) => serverError(req, res, err));
      } catch (err) {
        serverError(req, res, err);
      }
      return;
    }
    notFound(res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed or too slow HTTP (not malformed JSON, which tRPC answers): a status and close, as Node
    // would answer, but logged. Replacing Node's handler means choosing the status: 408 for a request
    // not received within the headers or request timeout, 431 for oversized headers, else 400.
    // As Node does, only a socket that has sent nothing yet gets a status line: after an answer (keep-alive)
    // one more would be read as the answer to a request the client may not have sent.
    log.debug({ err: err.message, code: err.code }, 'client error');
    const sent = 'bytesWritten' in socket && typeof socket.bytesWritten === 'number' ? socket.bytesWritten : 0;
    if (err.code === 'ECONNRESET' || !socket.writable || sent > 0) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\n\r\n`);
  });
  if (limits.maxConnections) {
    // Past the cap Node closes the new connection before reading a byte (no HTTP answer is possible
    // without reading); logged at most every 10 s so a flood does not become a log flood.
    server.maxConnections = limits.maxConnections;
    let lastDropLog = 0;
    server.on('drop', () => {
      const now = Date.now();
      if (now - lastDropLog < 10_000) return;
      lastDropLog = now;
      log.warn({ maxConnections: limits.maxConnections }, 'connection refused: too many open connections');
    });
  }

  let closing: Promise<void> | undefined;
  return {
    server,
    addRoute(route) {
      routes.push(route);
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({ host: address.address, port: address.port, url: `http://${shownHost}:${address.port}` });
        });
      });
    },
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
        // destroy, not end: tRPC may still be writing, and a write after end() would emit an unhandled error.
        for (const res of streams) res.destroy();
        streams.clear();
      });
      return closing;
    },
  };
}

/** Node's server options for the limits; its connection sweep runs often enough for short timeouts. */
function serverOptions(limits: HttpLimits): ServerOptions {
  const options: ServerOptions = {};
  if (limits.keepAliveTimeoutMs !== undefined) options.keepAliveTimeout = limits.keepAliveTimeoutMs;
  if (limits.headersTimeoutMs !== undefined) options.headersTimeout = limits.headersTimeoutMs;
  if (limits.requestTimeoutMs !== undefined) options.requestTimeout = limits.requestTimeoutMs;
  // Headers and request timeouts are enforced by a sweep every connectionsCheckingInterval (30 s by
  // default), so a 10 s timeout could take 40 s: sweep at a quarter of the shortest, at most every 1 s.
  const shortest = Math.min(limits.headersTimeoutMs ?? Infinity, limits.requestTimeoutMs ?? Infinity);
  if (Number.isFinite(shortest)) options.connectionsCheckingInterval = Math.max(10, Math.min(1_000, Math.floor(shortest / 4)));
  return options;
}

function clientErrorStatus(code: string | undefined): string {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  return '400 Bad Request';
}
