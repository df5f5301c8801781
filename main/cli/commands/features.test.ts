import { afterEach, beforeEach, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { INDICATOR_IDS } from '../../../shared/feature-spec.ts';
import { runCliProcess } from '../test-support/run-cli.ts';
import { computeFeatureColumns, parseFeatureSpec } from '../../core/features/pipeline.ts';
import { loadSeriesFile } from '../../core/features/series-file.ts';
import { openDatabase } from '../../core/store/sqlite.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { CandleStore } from '../../core/data/candle-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-features-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SPEC = {
  features: [
    { name: 'rsi', indicator: 'rsi', params: { period: 14 } },
    { name: 'macd', indicator: 'macd' },
    { name: 'bb', indicator: 'bbands', params: { period: 20 } },
    { name: 'atr', indicator: 'atr' },
    { name: 'vwap', indicator: 'vwap', params: { mode: 'session' } },
  ],
};

function writeSpec(value: unknown, name = 'spec.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describeWithData('vantage features (CLI on real candles)', () => {
  const dataFile = testDataPath('crypto', 'frequi', 'pair_candles_btc_1m.json');

  it('lists every indicator with parameters, defaults, outputs and conventions', async () => {
    const result = await runCliProcess(['--json', 'features', 'list']);
    expect(result.code).toBe(0);
    const list = JSON.parse(result.stdout) as {
      id: string;
      outputs: string[];
      params: { name: string; default: unknown }[];
      convention: string;
    }[];
    expect(list.map((i) => i.id)).toEqual([...INDICATOR_IDS]);
    const rsi = list.find((i) => i.id === 'rsi')!;
    expect(rsi.params.find((p) => p.name === 'period')!.default).toBe(14);
    expect(rsi.convention).toContain('Wilder');
    expect(list.find((i) => i.id === 'macd')!.outputs).toEqual(['line', 'signal', 'histogram']);
    const text = await runCliProcess(['features', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('seed=sma (sma|first)');
  });

  it('exports every feature as a full CSV column aligned with the bars, warm-up empty', async () => {
    const out = join(dir, 'features.csv');
    const result = await runCliProcess([
      'features',
      'export',
      '--data',
      dataFile,
      '--spec',
      writeSpec(SPEC),
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      'time,rsi,macd.line,macd.signal,macd.histogram,bb.upper,bb.middle,bb.lower,atr,vwap',
    );
    expect(lines).toHaveLength(501);
    const bars = loadSeriesFile(dataFile);
    const expected = computeFeatureColumns(bars, parseFeatureSpec(SPEC));
    lines.slice(1).forEach((line, i) => {
      const cells = line.split(',');
      expect(Number(cells[0])).toBe(bars.time[i]);
      expected.columns.forEach((column, c) => {
        const x = column[i]!;
        expect(cells[c + 1], `row ${i} ${expected.names[c]}`).toBe(Number.isFinite(x) ? String(x) : '');
      });
    });
    expect(
      lines[1]!
        .split(',')
        .slice(1)
        .every((cell, c) => c === 8 || cell === ''),
    ).toBe(true); // session VWAP starts on bar 0
    expect(lines[34]!.split(',')[3]).not.toBe(''); // macd.signal from bar 33 (TA-Lib)
    expect(lines[33]!.split(',')[3]).toBe('');
  });

  it('exports JSON columns with null warm-up and reads a model card with featureSpec', async () => {
    const out = join(dir, 'features.json');
    const card = writeSpec({ name: 'demo', version: '1', featureSpec: SPEC }, 'card.json');
    const result = await runCliProcess([
      '--json',
      'features',
      'export',
      '--data',
      dataFile,
      '--spec',
      card,
      '--out',
      out,
      '--format',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: 500, format: 'json' });
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      columns: string[];
      rows: number;
      data: Record<string, (number | null)[]>;
    };
    expect(doc.columns[0]).toBe('time');
    expect(doc.columns).toContain('bb.upper');
    expect(doc.data['rsi']!.slice(0, 14).every((v) => v === null)).toBe(true);
    expect(typeof doc.data['rsi']![14]).toBe('number');
    expect(doc.data['time']).toHaveLength(500);
  });

  it('exports a stored series venue:symbol:timeframe from market.db in the data folder', async () => {
    const bars = loadSeriesFile(testDataPath('crypto', 'nostalgiaforinfinity', 'ETH_USDT-1h.json'));
    const market = openDatabase({
      name: 'market.db',
      path: join(dir, 'market.db'),
      migrations: marketMigrations,
      durability: 'normal',
    });
    new CandleStore(market.db).upsert({ venue: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }, bars);
    market.close();
    const out = join(dir, 'eth.csv');
    const result = await runCliProcess([
      '--data-dir',
      dir,
      'features',
      'export',
      '--data',
      'binance:ETH/USDT:1h',
      '--spec',
      writeSpec(SPEC),
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(bars.time.length + 1);
    expect(Number(lines[1]!.split(',')[0])).toBe(bars.time[0]);
    const fromFile = await runCliProcess([
      'features',
      'export',
      '--data',
      testDataPath('crypto', 'nostalgiaforinfinity', 'ETH_USDT-1h.json'),
      '--spec',
      writeSpec(SPEC),
      '--out',
      join(dir, 'file.csv'),
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(readFileSync(join(dir, 'file.csv'), 'utf8')).toBe(readFileSync(out, 'utf8'));
    const unknown = await runCliProcess([
      '--data-dir',
      dir,
      'features',
      'check',
      '--data',
      'binance:BTC/USDT:1h',
      '--spec',
      writeSpec(SPEC),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No stored series binance:BTC/USDT:1h');
    expect(unknown.stderr).toContain('stored: binance:ETH/USDT:1h');
  });

  it('check passes a causal spec on real data and reports it', async () => {
    const all = { features: INDICATOR_IDS.map((id) => ({ name: id, indicator: id })) };
    const result = await runCliProcess([
      '--json',
      'features',
      'check',
      '--spec',
      writeSpec(all),
      '--data',
      dataFile,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      leakingColumns: string[];
      columns: string[];
      cuts: number[];
    };
    expect(report.ok).toBe(true);
    expect(report.leakingColumns).toEqual([]);
    expect(report.columns).toContain('adx.minus_di');
    expect(report.cuts.length).toBe(12);
    const text = await runCliProcess([
      'features',
      'check',
      '--spec',
      writeSpec(SPEC),
      '--data',
      testDataPath('crypto', 'nautilus_trader', 'btc-perp-20211231-20220201_1m.csv'),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('No look-ahead: 9 column(s)');
  });
});

it('features commands fail clearly on a bad spec, a missing file, a stored series and bad usage', async () => {
  const data = join(dir, 'bars.csv');
  writeFileSync(
    data,
    'timestamp,open,high,low,close,volume\n' +
      Array.from(
        { length: 40 },
        (_, i) => `${(i + 1) * 60_000},${100 + i},${101 + i},${99 + i},${100.5 + i},${10 + i}`,
      ).join('\n'),
  );
  const badSpec = await runCliProcess([
    'features',
    'check',
    '--spec',
    writeSpec({ features: [{ name: 'r', indicator: 'rsi', params: { period: 'x' } }] }),
    '--data',
    data,
  ]);
  expect(badSpec.code).toBe(1);
  expect(badSpec.stderr).toContain('rsi.period = "x" is not a number');
  const missing = await runCliProcess([
    'features',
    'check',
    '--spec',
    writeSpec(SPEC),
    '--data',
    join(dir, 'nope.csv'),
  ]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No such series file');
  const stored = await runCliProcess([
    '--data-dir',
    dir,
    'features',
    'export',
    '--spec',
    writeSpec(SPEC),
    '--data',
    'binance:BTC/USDT:1h',
    '--out',
    join(dir, 'x.csv'),
  ]);
  expect(stored.code).toBe(1);
  expect(stored.stderr).toContain('No market data at');
  expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  expect((await runCliProcess(['features', 'check', '--data', data])).code).toBe(2);
  expect(
    (
      await runCliProcess([
        'features',
        'export',
        '--data',
        data,
        '--spec',
        writeSpec(SPEC),
        '--out',
        join(dir, 'o'),
        '--format',
        'xml',
      ])
    ).code,
  ).toBe(2);
  const ok = await runCliProcess([
    'features',
    'export',
    '--data',
    data,
    '--spec',
    writeSpec(SPEC),
    '--out',
    join(dir, 'o.csv'),
  ]);
  expect(ok.code, ok.stderr).toBe(0);
});
