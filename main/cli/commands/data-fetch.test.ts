import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { CLI_ENTRY, type CliResult } from '../test-support/run-cli.ts';
import { runCli } from '../program.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { BinanceTestServer, type CandleRow } from '../../../tests/binance-server/server.ts';
import { loadCandleRows } from '../../../tests/binance-server/recording.ts';
import { openDatabase } from '../../core/store/sqlite.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { CandleStore } from '../../core/data/candle-store.ts';
import { columnsToCandles } from '../../../shared/market.ts';

let candles: CandleRow[];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(): Promise<{ server: BinanceTestServer; dataDir: string; env: Record<string, string> }> {
  const server = await new BinanceTestServer({ candles: new Map([['BTCUSDT 5m', candles]]) }).start();
  const dataDir = mkdtempSync(join(tmpdir(), 'vantage-fetch-'));
  cleanups.push(
    () => server.close(),
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  return { server, dataDir, env: { VANTAGE_VENUE_URL_BINANCE: server.httpUrl } };
}

function storedBars(
  dataDir: string,
): { time: number; open: number; high: number; low: number; close: number; volume: number }[] {
  const market = openDatabase({
    name: 'market.db',
    path: join(dataDir, 'market.db'),
    migrations: marketMigrations,
    durability: 'normal',
  });
  try {
    return columnsToCandles(
      new CandleStore(market.db).query({ venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m' }),
    );
  } finally {
    market.close();
  }
}

/**
 * Runs the real CLI program in this process (same parsing, error mapping and exit codes as the
 * binary, without a second ccxt start-up per run).
 */
async function runCliProcess(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<CliResult> {
  const savedEnv = { ...process.env };
  Object.assign(process.env, { CI: '1', ...options.env });
  let stdout = '';
  let stderr = '';
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

describeWithData('vantage data fetch', () => {
  beforeAll(() => {
    candles = loadCandleRows(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'));
  });

  it('resumes after being killed mid-download and ends with exactly the venue bars', async () => {
    const { server, dataDir, env } = await setup();
    const args = [
      '--data-dir',
      dataDir,
      'data',
      'fetch',
      '--venue',
      'binance',
      '--symbol',
      'BTC/USDT',
      '--timeframe',
      '5m',
    ];
    const range = ['--since', iso(candles[0]![0]), '--until', iso(candles[2600]![0])];

    // First run: killed (SIGKILL, no chance to clean up) while its third page is in flight.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let klineCount = 0;
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', CLI_ENTRY, ...args, ...range],
      {
        env: { ...process.env, CI: '1', ...env },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    server.setRequestGate((request) => {
      if (request.path !== '/api/v3/klines' || ++klineCount < 3) return Promise.resolve();
      child.kill('SIGKILL');
      return held;
    });
    expect(await exited).toBe(null);
    server.setRequestGate(null);
    release();
    expect(storedBars(dataDir)).toHaveLength(2000);

    // Second run: fetches only the missing tail.
    const before = server.requests.length;
    const second = await runCliProcess(['--json', ...args, ...range], { env });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout) as {
      resumedAfterMs: number;
      fetchedBars: number;
      storedBars: number;
    };
    expect(result).toMatchObject({ resumedAfterMs: candles[1999]![0], fetchedBars: 600, storedBars: 2600 });
    const tailRequests = server.requests.slice(before).filter((r) => r.path === '/api/v3/klines');
    expect(tailRequests.map((r) => Number(r.query.startTime))).toEqual([candles[2000]![0]]);

    const expected = candles
      .slice(0, 2600)
      .map(([time, open, high, low, close, volume]) => ({ time, open, high, low, close, volume }));
    expect(storedBars(dataDir)).toEqual(expected);

    // Third run: nothing left to fetch, no candle request sent.
    const afterSecond = server.requests.length;
    const third = await runCliProcess([...args, ...range], { env });
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('already up to date (2600 bars stored');
    expect(server.requests.slice(afterSecond).some((r) => r.path === '/api/v3/klines')).toBe(false);
  });

  it('refuses an unknown venue, timeframe or symbol with a usage error', async () => {
    const { dataDir, env } = await setup();
    const base = ['--data-dir', dataDir, 'data', 'fetch', '--since', '2021-01-01'];
    const venue = await runCliProcess(
      [...base, '--venue', 'nosuchvenue', '--symbol', 'BTC/USDT', '--timeframe', '5m'],
      { env },
    );
    expect(venue.code).toBe(2);
    expect(venue.stderr).toContain('Unknown venue "nosuchvenue"');
    const timeframe = await runCliProcess(
      [...base, '--venue', 'binance', '--symbol', 'BTC/USDT', '--timeframe', '7m'],
      { env },
    );
    expect(timeframe.code).toBe(2);
    expect(timeframe.stderr).toContain('Unknown timeframe "7m"');
    const symbol = await runCliProcess(
      [...base, '--venue', 'binance', '--symbol', 'DOGE/EUR', '--timeframe', '5m'],
      { env },
    );
    expect(symbol.code).toBe(2);
    expect(symbol.stderr).toContain('binance has no market "DOGE/EUR"');
  });

  it('reports an unreachable venue as VENUE_UNREACHABLE', async () => {
    const { server, dataDir } = await setup();
    const url = server.httpUrl;
    await server.close();
    const run = await runCliProcess(
      [
        '--data-dir',
        dataDir,
        'data',
        'fetch',
        '--venue',
        'binance',
        '--symbol',
        'BTC/USDT',
        '--timeframe',
        '1h',
        '--since',
        '2021-01-01',
        '--retries',
        '1',
      ],
      { env: { VANTAGE_VENUE_URL_BINANCE: url } },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[VENUE_UNREACHABLE]');
    expect(run.stderr).toContain('binance is unreachable');
  });
});
