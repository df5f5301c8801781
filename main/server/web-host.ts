import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { servePort, type Dispatcher, type StreamBus } from '../core/host.ts';
import type { Scheduler } from '../core/clock.ts';
import type { PortLike } from '../../shared/protocol.ts';
import { encodeHostMessage } from '../../shared/binary-message.ts';
import type { Logger } from '../core/telemetry/logger.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/** Largest WebSocket message accepted from a browser (bytes). */
export const MAX_WS_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface WebHostOptions {
  dispatcher: Dispatcher;
  bus: StreamBus;
  scheduler: Scheduler;
  /** Folder with the built renderer (index.html + assets). */
  staticDir: string;
  host?: string;
  port?: number;
  /** Fixed token (tests); a random 256-bit token otherwise. */
  token?: string;
  logger?: Logger;
}

export interface WebHost {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `vantage serve`: the engine's contract over a WebSocket plus the built renderer over HTTP,
 * on 127.0.0.1 only. Every HTTP request and WebSocket connection must carry the token
 * (query `token` on first load, then an HttpOnly SameSite=Strict cookie). Same validation as every host.
 */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    throw new Error(`vantage serve binds to loopback only (got ${host}).`);
  }
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticDir = resolve(options.staticDir);
  const cookieName = 'vantage_token';

  const isTokenValid = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const tokenFrom = (req: IncomingMessage): string | null => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams.get('token');
    if (q) return q;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    const cookie = req.headers.cookie ?? '';
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === cookieName) return decodeURIComponent(v.join('='));
    }
    return null;
  };
  const isHostAllowed = (req: IncomingMessage): boolean => {
    // Defeats DNS rebinding: only loopback Host headers are served.
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    return hostHeader === '127.0.0.1' || hostHeader === 'localhost' || hostHeader === '[::1]';
  };

  const server: Server = createServer((req, res) => {
    if (!isHostAllowed(req)) return deny(res, 403, 'Forbidden host');
    if (!isTokenValid(tokenFrom(req)))
      return deny(res, 401, 'Missing or invalid token. Open the URL printed by `vantage serve`.');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.searchParams.has('token')) {
      res.setHeader(
        'Set-Cookie',
        `${cookieName}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      );
    }
    serveStatic(staticDir, url.pathname, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const isOriginOk = origin === undefined || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(origin);
    if (url.pathname !== '/ws' || !isHostAllowed(req) || !isOriginOk || !isTokenValid(tokenFrom(req))) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const attach = (ws: WebSocket): void => {
    const port = webSocketPort(ws);
    servePort(port, {
      dispatcher: options.dispatcher,
      bus: options.bus,
      scheduler: options.scheduler,
      origin: 'websocket',
      ...(options.logger ? { logger: options.logger } : {}),
    });
  };

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://${host}:${port}/?token=${token}`;
  return {
    url,
    token,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

/**
 * The contract over a WebSocket, as a PortLike: JSON text frames, except host messages that carry
 * typed arrays (candle columns), which go as binary frames (shared/binary-message.ts).
 * Unparsable frames from the client become a message the host rejects as malformed.
 */
export function webSocketPort(ws: WebSocket): PortLike {
  return {
    postMessage(message) {
      if (ws.readyState === ws.OPEN) ws.send(encodeHostMessage(message));
    },
    onMessage(listener) {
      const handler = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => {
        if (isBinary) return listener({ malformed: 'binary frame' });
        let parsed: unknown;
        try {
          parsed = JSON.parse(data.toString());
        } catch {
          parsed = { malformed: 'invalid JSON' };
        }
        listener(parsed);
      };
      ws.on('message', handler);
      return () => ws.off('message', handler);
    },
    onClose(listener) {
      ws.on('close', listener);
      return () => ws.off('close', listener);
    },
    close() {
      ws.close();
    },
  };
}

function deny(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(message);
}

function serveStatic(root: string, pathname: string, res: ServerResponse): void {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    return deny(res, 400, 'Bad path');
  }
  if (relative === '/' || relative === '') relative = '/index.html';
  const filePath = normalize(join(root, relative));
  if (!filePath.startsWith(root + sep)) return deny(res, 403, 'Forbidden');
  let target = filePath;
  if (!existsSync(target) || !statSync(target).isFile()) {
    // Single-page app: unknown paths without an extension get index.html.
    if (extname(relative) === '') target = join(root, 'index.html');
    else return deny(res, 404, 'Not found');
  }
  if (!existsSync(target)) return deny(res, 404, 'The renderer is not built. Run `npm run build:web`.');
  res.writeHead(200, {
    'Content-Type': MIME[extname(target)] ?? 'application/octet-stream',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  createReadStream(target).pipe(res);
}
