import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CandleStore } from './candle-store.ts';
import { formatIssue, importCandles, parseCandleText, parseTimestamp } from './import.ts';
import { resampleBars } from './bar-aggregator.ts';
import { openTempMarketDb } from './test-support/market-db.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { AppErrorException } from '../../../shared/errors.ts';

let temp: ReturnType<typeof openTempMarketDb>;
let store: CandleStore;
beforeEach(() => {
  temp = openTempMarketDb();
  store = new CandleStore(temp.market.db);
});
afterEach(() => temp.cleanup());

function importError(fn: () => unknown): AppErrorException {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppErrorException) return err;
    throw err;
  }
  throw new Error('expected the import to fail');
}

describe('timestamps', () => {
  it('reads ms, seconds, µs, ISO dates and zone-less text as UTC', () => {
    const t = Date.UTC(2021, 11, 31, 23, 1);
    expect(parseTimestamp('1640991660000')).toBe(t);
    expect(parseTimestamp('1640991660')).toBe(t);
    expect(parseTimestamp('1640991660000000')).toBe(t);
    expect(parseTimestamp('2021-12-31 23:01:00.000000')).toBe(t);
    expect(parseTimestamp('2021-12-31T23:01:00Z')).toBe(t);
    expect(parseTimestamp('2022-01-01T00:01:00+01:00')).toBe(t);
    expect(parseTimestamp('2006-01-02')).toBe(Date.UTC(2006, 0, 2));
    expect(parseTimestamp('20060102')).toBe(Date.UTC(2006, 0, 2));
    expect(parseTimestamp('2021-02-30')).toBeNull();
    expect(parseTimestamp('yesterday')).toBeNull();
    expect(parseTimestamp('1640991660', 'ms')).toBe(1640991660);
  });
});

describe('validation', () => {
  const header = 'timestamp,open,high,low,close,volume';

  it('reports every bad row with file and line and imports nothing', () => {
    const csv = [
      header,
      '1700000040000,10,11,9,10.5,1', // line 2 ok
      '1700000100000,10,9.5,9,10.5,1', // 3: high below close
      '1700000160000,10,11,10.2,10.5,1', // 4: low above open
      '1700000220000,abc,11,9,10,1', // 5: open not a number
      '1700000280000,10,11,9,10,-1', // 6: negative volume
      '1700000280000,10,11,9,10,1', // 7: time not increasing (same as line 6)
      '1700000340000,10,Infinity,9,10,1', // 8: not finite
      '1700000400000,10,11,9,10', // 9: too few columns
      '', // skipped empty line
      'never,10,11,9,10,1', // 11: bad timestamp
      '1700000460000,10,11,9,10,NaN', // 12
    ].join('\n');
    store.upsert(
      { venue: 'v', symbol: 'S', timeframe: '1m' },
      parseCandleText(`${header}\n1699999980000,1,1,1,1,1`, { fileName: 'x', format: 'csv' }).columns,
    );
    const before = store.listSeries();
    const err = importError(() =>
      importCandles(store, {
        venue: 'v',
        symbol: 'S',
        timeframe: '1m',
        content: csv,
        fileName: 'bad.csv',
        format: 'csv',
      }),
    );
    expect(err.code).toBe('DATA_INVALID');
    const issues = (err.details as { issues: { file: string; line: number; message: string }[] }).issues;
    expect(issues.map((i) => i.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 11, 12]);
    expect(issues.every((i) => i.file === 'bad.csv')).toBe(true);
    expect(formatIssue(issues[0]!)).toBe('bad.csv:3: high 9.5 is below max(open 10, close 10.5)');
    expect(issues[1]!.message).toMatch(/low 10.2 is above min\(open 10, close 10.5\)/);
    expect(issues[2]!.message).toMatch(/open "abc" is not a finite number/);
    expect(issues[3]!.message).toMatch(/volume -1 is negative/);
    expect(issues[4]!.message).toMatch(/not after the previous row/);
    expect(issues[5]!.message).toMatch(/high "Infinity" is not a finite number/);
    expect(issues[6]!.message).toMatch(/5 columns, the header has 6/);
    expect(issues[7]!.message).toMatch(/unreadable timestamp "never"/);
    expect(issues[8]!.message).toMatch(/volume "NaN"/);
    expect(store.listSeries()).toEqual(before);
  });

  it('rejects a header without the needed columns, naming them', () => {
    const err = importError(() =>
      importCandles(store, {
        venue: 'v',
        symbol: 'S',
        content: 'when,price\n1,2',
        fileName: 'h.csv',
        format: 'csv',
      }),
    );
    expect(err.message).toMatch(
      /h\.csv:1: the header "when,price" has no column for timestamp \(or date\), open, high, low, close, volume/,
    );
  });

  it('reports bad JSON rows with their line and row number', () => {
    const json =
      '[\n[1700000040000,10,11,9,10,1],\n[1700000100000,10,11,9,10,-5],\n[1700000160000,10,11,9,10,"x"],\n[1700000220000,10,11,9]\n]';
    const parsed = parseCandleText(json, { fileName: 'f.json', format: 'json', timeframe: '1m' });
    expect(parsed.issues.map(formatIssue)).toEqual([
      'f.json:3: row 2: volume -5 is negative',
      'f.json:4: row 3: volume "\\"x\\"" is not a finite number',
      'f.json:5: row 4: expected [time, open, high, low, close, volume], got [1700000220000,10,11,9]',
    ]);
  });

  it('rejects bars off the timeframe grid', () => {
    const parsed = parseCandleText(`${header}\n1700000030000,10,11,9,10,1`, {
      fileName: 'g.csv',
      format: 'csv',
      timeframe: '1m',
    });
    expect(parsed.issues.map(formatIssue)).toEqual([
      'g.csv:2: time 2023-11-14T22:13:50Z is not on a 1m bar boundary',
    ]);
  });

  it('a file with one bad row among good ones leaves the store unchanged', () => {
    const good = `${header}\n1700000040000,10,11,9,10,1\n1700000100000,10,11,9,10,1`;
    importCandles(store, { venue: 'v', symbol: 'S', content: good, fileName: 'a.csv' });
    const bad = `${header}\n1700000160000,10,11,9,10,1\n1700000220000,10,11,12,10,1`;
    expect(() =>
      importCandles(store, { venue: 'v', symbol: 'S', timeframe: '1m', content: bad, fileName: 'b.csv' }),
    ).toThrow(/b\.csv: 1 bad row/);
    expect(store.getSeries({ venue: 'v', symbol: 'S', timeframe: '1m' })?.barCount).toBe(2);
  });
});

describeWithData('importing real files', () => {
  it('imports Binance 5m Freqtrade JSON and re-importing changes nothing', () => {
    const path = testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json');
    const first = importCandles(store, { venue: 'binance', symbol: 'BTC/USDT', path });
    expect(first).toMatchObject({
      timeframe: '5m',
      barCount: 65_741,
      inserted: 65_741,
      updated: 0,
      unchanged: 0,
      firstMs: Date.UTC(2020, 11, 1),
      lastMs: Date.UTC(2021, 6, 17, 21, 5),
    });
    const again = importCandles(store, { venue: 'binance', symbol: 'BTC/USDT', path });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 65_741 });
    const key = { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m' as const };
    expect(store.getSeries(key)?.barCount).toBe(65_741);
    // The README names 6 outages by the last bar before and the first bar after each.
    const fiveMin = 5 * 60_000;
    const hhmm = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
    const gaps = store.gaps(key).gaps;
    expect(gaps.map((g) => `${hhmm(g.fromMs - fiveMin)}..${hhmm(g.toMs + fiveMin)}`)).toEqual([
      '2020-12-21T14:05..2020-12-21T18:00',
      '2020-12-25T01:55..2020-12-25T03:00',
      '2021-02-11T03:40..2021-02-11T05:00',
      '2021-03-06T01:55..2021-03-06T03:30',
      '2021-04-20T01:55..2021-04-20T04:30',
      '2021-04-25T04:00..2021-04-25T08:45',
    ]);
    const raw = JSON.parse(readFileSync(path, 'utf8')) as number[][];
    const back = store.query(key);
    expect(Array.from(back.close)).toEqual(raw.map((r) => r[4]));
    expect(Array.from(back.volume)).toEqual(raw.map((r) => r[5]));
  });

  it('aggregating Binance BTC 5m to 1h reproduces the exchange 1h file except the 3 hours its README names', () => {
    const five = parseCandleText(
      readFileSync(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'), 'utf8'),
      { fileName: '5m', format: 'json' },
    );
    const hour = parseCandleText(
      readFileSync(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-1h.json'), 'utf8'),
      { fileName: '1h', format: 'json' },
    );
    expect(five.issues).toEqual([]);
    expect(hour.issues).toEqual([]);
    expect(hour.timeframe).toBe('1h');
    const { columns: agg, sourceCounts } = resampleBars(five.columns, '1h');
    const exchange = new Map<number, number>();
    hour.columns.time.forEach((t, i) => exchange.set(t, i));
    let complete = 0;
    const mismatches: { hour: string; fields: string[] }[] = [];
    for (let i = 0; i < agg.time.length; i++) {
      if (sourceCounts[i] !== 12) continue;
      complete++;
      const j = exchange.get(agg.time[i]!);
      expect(j, `exchange has hour ${agg.time[i]}`).toBeDefined();
      const fields = (['open', 'high', 'low', 'close', 'volume'] as const).filter(
        (f) => agg[f][i] !== hour.columns[f][j!],
      );
      // Volumes are sums of 12 decimals: compare them to the 1e-6 BTC the file is written with.
      const realFields = fields.filter(
        (f) => f !== 'volume' || Math.abs(agg.volume[i]! - hour.columns.volume[j!]!) > 1e-6,
      );
      if (realFields.length > 0)
        mismatches.push({ hour: new Date(agg.time[i]!).toISOString().slice(0, 13), fields: realFields });
    }
    expect(complete).toBe(5476);
    expect(mismatches).toEqual([
      { hour: '2021-04-22T02', fields: ['volume'] },
      { hour: '2021-04-23T01', fields: ['volume'] },
      { hour: '2021-04-23T02', fields: ['volume'] },
    ]);
  });

  it('imports the Backtrader/Yahoo ORCL daily CSV (Adj Close ignored) with its date range', () => {
    const report = importCandles(store, {
      venue: 'yahoo',
      symbol: 'ORCL',
      path: testDataPath('backtrader', 'orcl-1995-2014.txt'),
      format: 'csv',
    });
    expect(report).toMatchObject({
      timeframe: '1d',
      barCount: 5036,
      inserted: 5036,
      firstMs: Date.UTC(1995, 0, 3),
      lastMs: Date.UTC(2014, 11, 31),
    });
    const bars = store.query({ venue: 'yahoo', symbol: 'ORCL', timeframe: '1d' }, { limit: 1 });
    expect([bars.open[0], bars.high[0], bars.low[0], bars.close[0], bars.volume[0]]).toEqual([
      2.179012, 2.191358, 2.117284, 2.117284, 36301200,
    ]);
  });

  it('imports the Backtrader OpenInterest layout', () => {
    const report = importCandles(store, {
      venue: 'ref',
      symbol: 'IDX',
      path: testDataPath('refs', 'backtrader', '2006-day-001.txt'),
      format: 'csv',
    });
    expect(report.timeframe).toBe('1d');
    expect(report.firstMs).toBe(Date.UTC(2006, 0, 2));
    expect(report.barCount).toBe(
      readFileSync(testDataPath('refs', 'backtrader', '2006-day-001.txt'), 'utf8')
        .trim()
        .split('\n').length - 1,
    );
  });

  it('imports the FTX 1m CSV with text timestamps, labelled as open or as close times', () => {
    const path = testDataPath('crypto', 'nautilus_trader', 'btc-perp-20211231-20220201_1m.csv');
    const asOpen = importCandles(store, { venue: 'ftx', symbol: 'BTC-PERP', path });
    expect(asOpen).toMatchObject({
      timeframe: '1m',
      barCount: 45_031,
      firstMs: Date.UTC(2021, 11, 31, 23, 1),
      lastMs: Date.UTC(2022, 1, 1, 5, 31),
    });
    expect(store.gaps({ venue: 'ftx', symbol: 'BTC-PERP', timeframe: '1m' }).gapCount).toBe(0);
    const asClose = importCandles(store, {
      venue: 'ftx-close',
      symbol: 'BTC-PERP',
      path,
      timeLabel: 'close',
      timeframe: '1m',
    });
    expect(asClose.firstMs).toBe(Date.UTC(2021, 11, 31, 23, 0));
  });

  it('a copy of a real file with one corrupted row is rejected with that line', () => {
    const lines = readFileSync(
      testDataPath('crypto', 'nautilus_trader', 'btc-perp-20211231-20220201_1m.csv'),
      'utf8',
    ).split('\n');
    lines[1000] = lines[1000]!.replace(/,([\d.]+)$/, ',-3');
    const path = join(temp.dir, 'broken.csv');
    writeFileSync(path, lines.join('\n'));
    const err = importError(() => importCandles(store, { venue: 'ftx', symbol: 'BTC-PERP', path }));
    expect((err.details as { issues: unknown[] }).issues).toEqual([
      { file: path, line: 1001, message: 'volume -3 is negative' },
    ]);
    expect(store.listSeries()).toEqual([]);
  });
});
