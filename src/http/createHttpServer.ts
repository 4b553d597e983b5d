import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

export interface HttpServerOptions {
  trpc: TrpcHandler;
  routes?: HttpRoute[];
  log: Logger;
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

  const server = createServer((req, res) => {
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
  server.on('clientError', (err, socket) => {
    // Malformed HTTP (not malformed JSON, which tRPC answers): 400 and close, as Node would, but logged.
    log.debug({ err: err.message }, 'client error');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

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
