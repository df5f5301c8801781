import { afterEach, expect, it, describe } from 'vitest';
import { WebSocket } from 'ws';
import { BinanceTestServer, type CandleRow } from '../../../../tests/binance-server/server.ts';

// The local Binance stand-in is shared by many tests; these pin the Binance behaviour it claims.

const FIVE_MIN = 300_000;
const T0 = 1_606_780_800_000;
const rows: CandleRow[] = Array.from({ length: 2500 }, (_, i) => [
  T0 + i * FIVE_MIN,
  100 + i,
  101 + i,
  99 + i,
  100.5 + i,
  10 + i,
]);

const servers: BinanceTestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

async function start(
  options: ConstructorParameters<typeof BinanceTestServer>[0] = {},
): Promise<BinanceTestServer> {
  const server = await new BinanceTestServer({
    candles: new Map([['BTCUSDT 5m', rows]]),
    ...options,
  }).start();
  servers.push(server);
  return server;
}

async function get(
  server: BinanceTestServer,
  path: string,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${server.httpUrl}${path}`);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

function nextMessage(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve) =>
    socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
  );
}

async function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return socket;
}

describe('local Binance server', () => {
  it('pages klines like Binance: startTime inclusive, endTime inclusive, default 500, max 1000', async () => {
    const server = await start();
    const first = await get(
      server,
      `/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime=${T0 + FIVE_MIN}&limit=1000`,
    );
    const bars = first.body as unknown[][];
    expect(bars).toHaveLength(1000);
    expect(bars[0]!.slice(0, 7)).toEqual([
      T0 + FIVE_MIN,
      '101.00000000',
      '102.00000000',
      '100.00000000',
      '101.50000000',
      '11.00000000',
      T0 + 2 * FIVE_MIN - 1,
    ]);
    const bounded = await get(
      server,
      `/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime=${T0}&endTime=${T0 + 2 * FIVE_MIN}`,
    );
    expect((bounded.body as unknown[][]).map((b) => b[0])).toEqual([T0, T0 + FIVE_MIN, T0 + 2 * FIVE_MIN]);
    const latest = await get(server, '/api/v3/klines?symbol=BTCUSDT&interval=5m');
    expect((latest.body as unknown[][]).map((b) => b[0])).toEqual(rows.slice(-500).map((r) => r[0]));
    expect((await get(server, '/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=1001')).body).toEqual({
      code: -1130,
      msg: "Data sent for parameter 'limit' is not valid.",
    });
    expect((await get(server, '/api/v3/klines?symbol=DOGEUSDT&interval=5m')).body).toEqual({
      code: -1121,
      msg: 'Invalid symbol.',
    });
    expect((await get(server, '/api/v3/klines?symbol=BTCUSDT&interval=7m')).body).toEqual({
      code: -1120,
      msg: 'Invalid interval.',
    });
  });

  it('counts request weight and answers 429 with -1003 and Retry-After past the limit or on demand', async () => {
    const server = await start({ weightLimitPerMinute: 25 });
    const info = await get(server, '/api/v3/exchangeInfo');
    expect(info.headers.get('x-mbx-used-weight-1m')).toBe('20');
    expect(
      (await get(server, '/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=5')).headers.get(
        'x-mbx-used-weight-1m',
      ),
    ).toBe('22');
    await get(server, '/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=5');
    const limited = await get(server, '/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=5');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: -1003 });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const fresh = await start({ rejectFirstRequests: 2 });
    expect((await get(fresh, '/api/v3/time')).status).toBe(429);
    expect((await get(fresh, '/api/v3/time')).status).toBe(429);
    expect((await get(fresh, '/api/v3/time')).status).toBe(200);
    expect(fresh.requests.map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('serves streams by SUBSCRIBE, by /ws/<stream> and combined /stream?streams= (wrapped)', async () => {
    const server = await start();
    const raw = await open(`${server.wsUrl}/ws`);
    raw.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 7 }));
    expect(await nextMessage(raw)).toEqual({ result: null, id: 7 });
    raw.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 8 }));
    expect(await nextMessage(raw)).toEqual({ result: ['btcusdt@trade'], id: 8 });
    const single = await open(`${server.wsUrl}/ws/btcusdt@kline_5m`);
    const combined = await open(`${server.wsUrl}/stream?streams=btcusdt@trade/ethusdt@trade`);
    await server.waitForSubscribers(['btcusdt@trade', 'btcusdt@kline_5m', 'ethusdt@trade']);

    const trade = { e: 'trade', E: 1, s: 'BTCUSDT', t: 1, p: '1.0', q: '2.0', T: 1, m: true, M: true };
    const rawGot = nextMessage(raw);
    const combinedGot = nextMessage(combined);
    expect(server.publish('btcusdt@trade', trade)).toBe(2);
    expect(await rawGot).toEqual(trade);
    expect(await combinedGot).toEqual({ stream: 'btcusdt@trade', data: trade });
    const klineGot = nextMessage(single);
    server.publishKline('BTCUSDT', '5m', rows[0]!, true);
    expect(await klineGot).toMatchObject({
      e: 'kline',
      s: 'BTCUSDT',
      k: { t: T0, i: '5m', x: true, c: '100.50000000' },
    });

    const closed = new Promise((resolve) => raw.once('close', resolve));
    expect(server.dropConnections()).toBe(3);
    await closed;
    expect(server.subscriptions.map((s) => s.stream)).toEqual([
      'btcusdt@trade',
      'btcusdt@kline_5m',
      'btcusdt@trade',
      'ethusdt@trade',
    ]);
  });
});
