import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DepthSnapshot, RecordedEvent, Recording } from './recording.ts';

/**
 * A local stand-in for Binance spot's public API on 127.0.0.1 (random port), for tests only.
 * REST: /api/v3/time, exchangeInfo, depth, klines (Binance's pagination and limits), with
 * request weight headers and Binance's 429 behaviour. WebSocket: /ws, /ws/<stream>, /stream?streams=
 * with SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS, fed by recorded traffic or by explicit publishes.
 * Every HTTP request and every subscription is recorded so tests can assert what a client did.
 */

/** Freqtrade/Binance candle row: [openTimeMs, open, high, low, close, volume]. */
export type CandleRow = [number, number, number, number, number, number];

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** Request weight counted in the minute window after this request. */
  usedWeight: number;
}

export interface BinanceServerOptions {
  /** Candles served by /api/v3/klines, keyed `SYMBOL interval` (e.g. `BTCUSDT 5m`). */
  candles?: Map<string, CandleRow[]>;
  /** Recordings whose snapshots /api/v3/depth serves and whose events replay() publishes. */
  recordings?: Recording[];
  /** Binance's spot IP limit is 6000 weight per minute; beyond it the server answers 429. */
  weightLimitPerMinute?: number;
  /** The first N REST requests get HTTP 429 (as rejectNextRequests(N) right after start). */
  rejectFirstRequests?: number;
  /** Server time; defaults to the wall clock. */
  nowMs?: () => number;
}

export const INTERVAL_MS: Record<string, number> = {
  '1s': 1_000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
  '1w': 604_800_000,
};

interface Connection {
  socket: WebSocket;
  /** Combined-stream connections (/stream) wrap every event as {stream, data}. */
  isCombined: boolean;
  streams: Set<string>;
  path: string;
}

const RATE_LIMIT_MESSAGE =
  'Too much request weight used; current limit is %LIMIT% request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.';

export class BinanceTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Every SUBSCRIBE (and URL-given) stream name, in order, with the connection path. */
  readonly subscriptions: { path: string; stream: string }[] = [];
  private readonly http = createServer((req, res) => this.handleHttp(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<Connection>();
  private readonly sockets = new Set<Socket>();
  private readonly candles: Map<string, CandleRow[]>;
  /** Each symbol's book as of the last replayed depth diff (what /api/v3/depth serves). */
  private readonly books = new Map<string, LiveBook>();
  private readonly recordings = new Map<string, Recording>();
  private readonly replayPositions = new Map<string, number>();
  private readonly nowMs: () => number;
  private weightLimit: number;
  private weightWindow = { startMs: 0, used: 0 };
  private rejectRemaining = 0;
  private klineLimitMs = Infinity;
  private isWsAccepting = true;
  private readonly subscriptionWaiters: { streams: string[]; resolve: () => void }[] = [];
  private portValue = 0;
  private requestGate: ((request: RecordedRequest) => Promise<void>) | null = null;

  constructor(options: BinanceServerOptions = {}) {
    this.candles = options.candles ?? new Map();
    for (const recording of options.recordings ?? []) {
      this.books.set(recording.symbol, new LiveBook(recording.snapshot));
      this.recordings.set(recording.symbol, recording);
      this.replayPositions.set(recording.symbol, 0);
    }
    this.nowMs = options.nowMs ?? (() => Date.now());
    this.weightLimit = options.weightLimitPerMinute ?? 6000;
    this.rejectRemaining = options.rejectFirstRequests ?? 0;
    this.http.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.http.on('upgrade', (req, socket, head) => {
      if (!this.isWsAccepting) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.acceptSocket(ws, req));
    });
  }

  /** Starts listening on 127.0.0.1 and a free port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => resolve());
    });
    this.portValue = (this.http.address() as AddressInfo).port;
    return this;
  }

  get port(): number {
    return this.portValue;
  }

  /** Origin to put in place of https://api.binance.com. */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.portValue}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.portValue}`;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** The next n REST requests get HTTP 429 with Binance's -1003 error and a Retry-After header. */
  rejectNextRequests(n: number): void {
    this.rejectRemaining = n;
  }

  setWeightLimitPerMinute(limit: number): void {
    this.weightLimit = limit;
  }

  /** Klines are served only up to (and including) bars opening at or before this time: "now" on the venue. */
  setKlineLimitMs(openTimeMs: number): void {
    this.klineLimitMs = openTimeMs;
  }

  /**
   * Holds each REST request until the returned promise settles (the request is recorded at once):
   * lets a test act while a client waits on a response, e.g. kill it mid-download.
   */
  setRequestGate(gate: ((request: RecordedRequest) => Promise<void>) | null): void {
    this.requestGate = gate;
  }

  /** Upgrades fail with 503 while false (the venue's stream host is down). */
  setWsAccepting(isAccepting: boolean): void {
    this.isWsAccepting = isAccepting;
  }

  /** Abruptly closes every websocket (like a network drop: no close frame). */
  dropConnections(): number {
    const n = this.connections.size;
    for (const c of this.connections) c.socket.terminate();
    this.connections.clear();
    return n;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Resolves once every listed stream has a live subscriber. */
  waitForSubscribers(streams: string[]): Promise<void> {
    if (streams.every((s) => this.hasSubscriber(s))) return Promise.resolve();
    return new Promise((resolve) => this.subscriptionWaiters.push({ streams, resolve }));
  }

  hasSubscriber(stream: string): boolean {
    for (const c of this.connections) if (c.streams.has(stream)) return true;
    return false;
  }

  /** Sends one event to every connection subscribed to `stream`; returns how many got it. */
  publish(stream: string, data: unknown): number {
    let sent = 0;
    for (const c of this.connections) {
      if (!c.streams.has(stream)) continue;
      c.socket.send(JSON.stringify(c.isCombined ? { stream, data } : data));
      sent++;
    }
    return sent;
  }

  /** Publishes a kline event (Binance's `<sym>@kline_<interval>` payload) for one candle row. */
  publishKline(symbol: string, interval: string, row: CandleRow, isClosed: boolean): number {
    const stream = `${symbol.toLowerCase()}@kline_${interval}`;
    const intervalMs = INTERVAL_MS[interval]!;
    const [t, o, h, l, c, v] = row;
    return this.publish(stream, {
      e: 'kline',
      E: t + (isClosed ? intervalMs : intervalMs / 2),
      s: symbol,
      k: {
        t,
        T: t + intervalMs - 1,
        s: symbol,
        i: interval,
        f: 100,
        L: 200,
        o: decimal(o),
        c: decimal(c),
        h: decimal(h),
        l: decimal(l),
        v: decimal(v),
        n: 100,
        x: isClosed,
        q: decimal(v * c),
        V: '0.00000000',
        Q: '0.00000000',
        B: '0',
      },
    });
  }

  /** Events of the loaded recording for `symbol`, and how far replay() has got. */
  recording(symbol: string): { events: readonly RecordedEvent[]; position: number } {
    const rec = this.recordings.get(symbol);
    if (!rec) throw new Error(`no recording for ${symbol}`);
    return { events: rec.events, position: this.replayPositions.get(symbol)! };
  }

  /**
   * Publishes the recording's events from the current position up to (excluding) `endIndex`, in
   * recorded order, as fast as the sockets drain: batches of `batchSize`, yielding to the event loop
   * between batches so a client reads them as a stream rather than one giant buffer.
   * Events on streams nobody subscribed to are skipped, as Binance would. Depth diffs also update the
   * book /api/v3/depth serves, so a client that resyncs mid-replay gets a snapshot of that moment.
   */
  async replay(
    symbol: string,
    endIndex?: number,
    options: { batchSize?: number; isLost?: boolean } = {},
  ): Promise<void> {
    const rec = this.recordings.get(symbol);
    if (!rec) throw new Error(`no recording for ${symbol}`);
    const book = this.books.get(symbol)!;
    const end = Math.min(endIndex ?? rec.events.length, rec.events.length);
    const batchSize = options.batchSize ?? 64;
    let position = this.replayPositions.get(symbol)!;
    while (position < end) {
      const stop = Math.min(end, position + batchSize);
      for (; position < stop; position++) {
        const event = rec.events[position]!;
        if (event.data.e === 'depthUpdate') book.apply(event.data as unknown as DepthDiff);
        // isLost: the venue moves on but these messages never reach the clients (a network loss).
        if (!options.isLost) this.publish(event.stream, event.data);
      }
      this.replayPositions.set(symbol, position);
      await this.drain();
    }
  }

  private async drain(): Promise<void> {
    // Wait until the kernel took what we wrote, so a slow reader never sees an unbounded burst.
    for (;;) {
      let buffered = 0;
      for (const c of this.connections) buffered += c.socket.bufferedAmount;
      await new Promise((resolve) => setImmediate(resolve));
      if (buffered < 1 << 16) return;
    }
  }

  private acceptSocket(socket: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const connection: Connection = {
      socket,
      isCombined: path.startsWith('/stream'),
      streams: new Set(),
      path,
    };
    // Binance: /ws/<stream> and /stream?streams=a/b subscribe from the URL; /ws alone waits for SUBSCRIBE.
    const fromUrl: string[] = [];
    const streamsParam = url.searchParams.get('streams');
    if (streamsParam) fromUrl.push(...streamsParam.split('/').filter(Boolean));
    const wsMatch = /^\/ws\/([a-z0-9]+@[a-z0-9_@]+)$/.exec(path);
    if (wsMatch) fromUrl.push(wsMatch[1]!);
    this.connections.add(connection);
    for (const s of fromUrl) this.addStream(connection, s);
    socket.on('close', () => {
      this.connections.delete(connection);
    });
    socket.on('message', (raw) => this.handleWsMessage(connection, raw.toString()));
  }

  private handleWsMessage(connection: Connection, text: string): void {
    let message: { method?: unknown; params?: unknown; id?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      connection.socket.send(
        JSON.stringify({ error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } }),
      );
      return;
    }
    const id = message.id ?? null;
    const params = Array.isArray(message.params)
      ? message.params.filter((p): p is string => typeof p === 'string')
      : [];
    switch (message.method) {
      case 'SUBSCRIBE':
        // Reply first: ccxt registers the subscription (and asks for the depth snapshot) on this reply.
        connection.socket.send(JSON.stringify({ result: null, id }));
        for (const s of params) this.addStream(connection, s);
        return;
      case 'UNSUBSCRIBE':
        for (const s of params) connection.streams.delete(s);
        connection.socket.send(JSON.stringify({ result: null, id }));
        return;
      case 'LIST_SUBSCRIPTIONS':
        connection.socket.send(JSON.stringify({ result: [...connection.streams], id }));
        return;
      default:
        connection.socket.send(
          JSON.stringify({
            error: { code: 2, msg: `Invalid request: unknown method ${String(message.method)}` },
            id,
          }),
        );
    }
  }

  private addStream(connection: Connection, stream: string): void {
    connection.streams.add(stream);
    this.subscriptions.push({ path: connection.path, stream });
    for (let i = this.subscriptionWaiters.length - 1; i >= 0; i--) {
      const waiter = this.subscriptionWaiters[i]!;
      if (waiter.streams.every((s) => this.hasSubscriber(s))) {
        this.subscriptionWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: 0,
      usedWeight: 0,
    };
    this.requests.push(record);
    const gate = this.requestGate;
    if (gate === null) this.respondHttp(req, res, url, query, record);
    else void gate(record).then(() => this.respondHttp(req, res, url, query, record));
  }

  private respondHttp(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    query: Record<string, string>,
    record: RecordedRequest,
  ): void {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const nowMs = this.nowMs();
    if (nowMs - this.weightWindow.startMs >= 60_000)
      this.weightWindow = { startMs: nowMs - (nowMs % 60_000), used: 0 };
    const retryAfterSec = String(Math.max(1, Math.ceil((this.weightWindow.startMs + 60_000 - nowMs) / 1000)));
    if (this.rejectRemaining > 0) {
      this.rejectRemaining--;
      reply(
        429,
        { code: -1003, msg: RATE_LIMIT_MESSAGE.replace('%LIMIT%', String(this.weightLimit)) },
        { 'retry-after': retryAfterSec },
      );
      return;
    }
    const route = ROUTES[url.pathname];
    if (req.method !== 'GET' || route === undefined) {
      reply(404, { code: -1, msg: `Unknown endpoint ${req.method ?? ''} ${url.pathname}` });
      return;
    }
    const weight = route.weight(query);
    this.weightWindow.used += weight;
    record.usedWeight = this.weightWindow.used;
    const weightHeaders = {
      'x-mbx-used-weight': String(this.weightWindow.used),
      'x-mbx-used-weight-1m': String(this.weightWindow.used),
    };
    if (this.weightWindow.used > this.weightLimit) {
      reply(
        429,
        { code: -1003, msg: RATE_LIMIT_MESSAGE.replace('%LIMIT%', String(this.weightLimit)) },
        { ...weightHeaders, 'retry-after': retryAfterSec },
      );
      return;
    }
    const result = route.handle(this, query, nowMs);
    reply(result.status, result.body, weightHeaders);
  }

  /** @internal used by ROUTES */
  klines(query: Record<string, string>): { status: number; body: unknown } {
    const symbol = query.symbol;
    if (!symbol)
      return badRequest(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (!SYMBOLS.some((s) => s.symbol === symbol)) return badRequest(-1121, 'Invalid symbol.');
    const interval = query.interval;
    if (!interval)
      return badRequest(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.");
    const intervalMs = INTERVAL_MS[interval];
    if (intervalMs === undefined) return badRequest(-1120, 'Invalid interval.');
    const limit = query.limit === undefined ? 500 : Number(query.limit);
    // Binance: default 500, max 1000; a larger limit is an invalid parameter, not clamped.
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return badRequest(-1130, "Data sent for parameter 'limit' is not valid.");
    const startTime = query.startTime === undefined ? undefined : Number(query.startTime);
    const endTime = query.endTime === undefined ? undefined : Number(query.endTime);
    if (
      (startTime !== undefined && !Number.isFinite(startTime)) ||
      (endTime !== undefined && !Number.isFinite(endTime))
    ) {
      return badRequest(-1100, 'Illegal characters found in a parameter.');
    }
    if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
      return badRequest(-1023, 'Start time is greater than end time.');
    }
    const rows = (this.candles.get(`${symbol} ${interval}`) ?? []).filter((r) => r[0] <= this.klineLimitMs);
    let from: number;
    let to: number;
    if (startTime !== undefined) {
      // Binance: bars whose open time is >= startTime, oldest first, at most `limit`, not past endTime.
      from = lowerBound(rows, startTime);
      to = Math.min(rows.length, from + limit);
      if (endTime !== undefined) to = Math.min(to, upperBound(rows, endTime));
    } else {
      // Without startTime Binance answers the most recent `limit` bars (up to endTime when given).
      to = endTime === undefined ? rows.length : upperBound(rows, endTime);
      from = Math.max(0, to - limit);
    }
    const body = rows
      .slice(from, Math.max(from, to))
      .map(([t, o, h, l, c, v]) => [
        t,
        decimal(o),
        decimal(h),
        decimal(l),
        decimal(c),
        decimal(v),
        t + intervalMs - 1,
        decimal(v * c),
        100,
        '0.00000000',
        '0.00000000',
        '0',
      ]);
    return { status: 200, body };
  }

  /** @internal used by ROUTES: the most recent trades the replay has reached (GET /api/v3/trades). */
  recentTrades(query: Record<string, string>): { status: number; body: unknown } {
    const symbol = query.symbol;
    if (!symbol)
      return badRequest(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (!SYMBOLS.some((s) => s.symbol === symbol)) return badRequest(-1121, 'Invalid symbol.');
    const limit = query.limit === undefined ? 500 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return badRequest(-1130, "Data sent for parameter 'limit' is not valid.");
    const rec = this.recordings.get(symbol);
    const trades: unknown[] = [];
    if (rec) {
      for (let i = this.replayPositions.get(symbol)! - 1; i >= 0 && trades.length < limit; i--) {
        const d = rec.events[i]!.data as {
          e?: string;
          t: number;
          p: string;
          q: string;
          T: number;
          m: boolean;
          M: boolean;
        };
        if (d.e !== 'trade') continue;
        const quoteQty = (Number(d.p) * Number(d.q)).toFixed(8);
        trades.push({
          id: d.t,
          price: d.p,
          qty: d.q,
          quoteQty,
          time: d.T,
          isBuyerMaker: d.m,
          isBestMatch: d.M,
        });
      }
    }
    return { status: 200, body: trades.reverse() };
  }

  /** @internal used by ROUTES */
  depth(query: Record<string, string>): { status: number; body: unknown } {
    const symbol = query.symbol;
    if (!symbol)
      return badRequest(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (!SYMBOLS.some((s) => s.symbol === symbol)) return badRequest(-1121, 'Invalid symbol.');
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000)
      return badRequest(-1130, "Data sent for parameter 'limit' is not valid.");
    const book = this.books.get(symbol);
    return { status: 200, body: book ? book.snapshot(limit) : { lastUpdateId: 1, bids: [], asks: [] } };
  }
}

interface DepthDiff {
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

/** A symbol's book on the venue: the recorded snapshot plus every diff replayed since. */
class LiveBook {
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();
  private lastUpdateId: number;
  private readonly original: DepthSnapshot;
  private isChanged = false;

  constructor(snapshot: DepthSnapshot) {
    this.original = snapshot;
    for (const [p, q] of snapshot.bids) this.bids.set(p, q);
    for (const [p, q] of snapshot.asks) this.asks.set(p, q);
    this.lastUpdateId = snapshot.lastUpdateId;
  }

  apply(diff: DepthDiff): void {
    // Diffs logged before the snapshot (u <= lastUpdateId) are already in it.
    if (diff.u <= this.lastUpdateId) return;
    for (const [side, levels] of [
      [this.bids, diff.b],
      [this.asks, diff.a],
    ] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, q);
      }
    }
    this.lastUpdateId = diff.u;
    this.isChanged = true;
  }

  snapshot(limit: number): DepthSnapshot {
    if (!this.isChanged) {
      return {
        lastUpdateId: this.original.lastUpdateId,
        bids: this.original.bids.slice(0, limit),
        asks: this.original.asks.slice(0, limit),
      };
    }
    const side = (m: Map<string, string>, isDescending: boolean): [string, string][] =>
      [...m.entries()]
        .sort((x, y) => (isDescending ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0])))
        .slice(0, limit);
    return { lastUpdateId: this.lastUpdateId, bids: side(this.bids, true), asks: side(this.asks, false) };
  }
}

interface Route {
  weight(query: Record<string, string>): number;
  handle(
    server: BinanceTestServer,
    query: Record<string, string>,
    nowMs: number,
  ): { status: number; body: unknown };
}

// Weights are Binance spot's documented request weights (GET /api/v3/...).
const ROUTES: Record<string, Route> = {
  '/api/v3/ping': { weight: () => 1, handle: () => ({ status: 200, body: {} }) },
  '/api/v3/time': {
    weight: () => 1,
    handle: (_s, _q, nowMs) => ({ status: 200, body: { serverTime: nowMs } }),
  },
  '/api/v3/exchangeInfo': {
    weight: () => 20,
    handle: (_s, _q, nowMs) => ({ status: 200, body: exchangeInfo(nowMs) }),
  },
  '/api/v3/klines': { weight: () => 2, handle: (s, q) => s.klines(q) },
  '/api/v3/trades': { weight: () => 25, handle: (s, q) => s.recentTrades(q) },
  '/api/v3/depth': {
    weight: (q) => {
      const limit = Number(q.limit ?? 100);
      return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    },
    handle: (s, q) => s.depth(q),
  },
};

function badRequest(code: number, msg: string): { status: number; body: unknown } {
  return { status: 400, body: { code, msg } };
}

/** Binance prints prices and quantities with 8 decimals. */
function decimal(x: number): string {
  return x.toFixed(8);
}

function lowerBound(rows: CandleRow[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]![0] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(rows: CandleRow[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]![0] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const SYMBOLS = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    tickSize: '0.01000000',
    stepSize: '0.00001000',
    minQty: '0.00001000',
    maxQty: '9000.00000000',
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    tickSize: '0.01000000',
    stepSize: '0.00010000',
    minQty: '0.00010000',
    maxQty: '9000.00000000',
  },
];

/** Shaped like Binance spot's GET /api/v3/exchangeInfo (2024), trimmed to two symbols. */
function exchangeInfo(nowMs: number): unknown {
  return {
    timezone: 'UTC',
    serverTime: nowMs,
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: SYMBOLS.map((s) => ({
      symbol: s.symbol,
      status: 'TRADING',
      baseAsset: s.base,
      baseAssetPrecision: 8,
      quoteAsset: 'USDT',
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: [
        'LIMIT',
        'LIMIT_MAKER',
        'MARKET',
        'STOP_LOSS',
        'STOP_LOSS_LIMIT',
        'TAKE_PROFIT',
        'TAKE_PROFIT_LIMIT',
      ],
      icebergAllowed: true,
      ocoAllowed: true,
      otoAllowed: true,
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: true,
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: s.tickSize,
          maxPrice: '1000000.00000000',
          tickSize: s.tickSize,
        },
        { filterType: 'LOT_SIZE', minQty: s.minQty, maxQty: s.maxQty, stepSize: s.stepSize },
        { filterType: 'ICEBERG_PARTS', limit: 10 },
        {
          filterType: 'MARKET_LOT_SIZE',
          minQty: '0.00000000',
          maxQty: '100.00000000',
          stepSize: '0.00000000',
        },
        {
          filterType: 'TRAILING_DELTA',
          minTrailingAboveDelta: 10,
          maxTrailingAboveDelta: 2000,
          minTrailingBelowDelta: 10,
          maxTrailingBelowDelta: 2000,
        },
        {
          filterType: 'PERCENT_PRICE_BY_SIDE',
          bidMultiplierUp: '5',
          bidMultiplierDown: '0.2',
          askMultiplierUp: '5',
          askMultiplierDown: '0.2',
          avgPriceMins: 5,
        },
        {
          filterType: 'NOTIONAL',
          minNotional: '5.00000000',
          applyMinToMarket: true,
          maxNotional: '9000000.00000000',
          applyMaxToMarket: false,
          avgPriceMins: 5,
        },
        { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
      ],
      permissions: [],
      permissionSets: [['SPOT', 'MARGIN', 'TRD_GRP_004', 'TRD_GRP_005', 'TRD_GRP_006']],
      defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
      allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    })),
  };
}
