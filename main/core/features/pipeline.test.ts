import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { AppErrorException } from '../../../shared/errors.ts';
import { INDICATOR_IDS, type FeatureSpecInput } from '../../../shared/feature-spec.ts';
import { listIndicators } from './catalog.ts';
import {
  buildModelInputs,
  completeRows,
  computeFeatureColumns,
  FeaturePipeline,
  fitNormalisation,
  modelInputShape,
  parseFeatureSpec,
} from './pipeline.ts';
import { checkLookAhead, checkSpecLookAhead } from './look-ahead.ts';
import { loadSeriesFile } from './series-file.ts';
import { computeFeatureColumnsParallel, MIN_PARALLEL_BARS } from './parallel.ts';
import { SeededRandom } from '../random.ts';
import type { CandleColumns } from './types.ts';

/** One feature per indicator with non-default parameters where it matters. */
const ALL_FEATURES: FeatureSpecInput['features'] = [
  ...INDICATOR_IDS.map((id) => ({ name: id, indicator: id, params: {} })),
  { name: 'ema_pandas', indicator: 'ema', params: { period: 12, seed: 'first' } },
  { name: 'ema_adjusted', indicator: 'ema', params: { period: 12, seed: 'first', adjust: true } },
  { name: 'vwap_session', indicator: 'vwap', params: { mode: 'session' } },
  { name: 'macd_signal', indicator: 'macd', output: 'signal', params: {} },
];

function errorOf(fn: () => unknown): AppErrorException {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppErrorException) return error;
    throw error;
  }
  throw new Error('expected an AppErrorException');
}

const barAt = (bars: CandleColumns, i: number) => ({
  time: bars.time[i]!,
  open: bars.open[i]!,
  high: bars.high[i]!,
  low: bars.low[i]!,
  close: bars.close[i]!,
  volume: bars.volume[i]!,
});

describeWithData('feature pipeline on real BTC/USDT 1h candles', () => {
  const bars = loadSeriesFile(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-1h.json'));
  const n = bars.close.length;

  it('names multi-output columns <name>.<output> and single picks by the feature name', () => {
    const spec = parseFeatureSpec({ features: ALL_FEATURES });
    const { names, columns } = computeFeatureColumns(bars, spec);
    expect(names).toContain('macd.line');
    expect(names).toContain('bbands.upper');
    expect(names).toContain('stoch.d');
    expect(names).toContain('adx.plus_di');
    expect(names).toContain('macd_signal');
    expect(columns).toHaveLength(names.length);
    expect(columns[names.indexOf('macd_signal')]).toEqual(columns[names.indexOf('macd.signal')]);
    expect(modelInputShape(spec, 7)).toEqual([7, names.length]);
  });

  for (const layout of [{ kind: 'tabular' }, { kind: 'window', windowBars: 24 }] as const) {
    it(`builds the same ${layout.kind} inputs streaming bar by bar as in batch (bit for bit, normalised)`, () => {
      const raw = parseFeatureSpec({ features: ALL_FEATURES, layout });
      const { columns } = computeFeatureColumns(bars, raw);
      const spec = parseFeatureSpec({
        features: ALL_FEATURES,
        layout,
        normalisation: fitNormalisation(columns, layout.kind === 'window' ? 'minmax' : 'zscore', 0, 3000),
      });
      const rows = completeRows(columns, spec);
      const batch = buildModelInputs(columns, spec, rows);
      const width = columns.length * (layout.kind === 'window' ? layout.windowBars : 1);
      const pipeline = new FeaturePipeline(spec);
      let r = 0;
      for (let i = 0; i < n; i++) {
        const vector = pipeline.update(barAt(bars, i));
        if (rows[r] !== i) {
          expect(vector, `bar ${i} is warm-up`).toBeNull();
          continue;
        }
        expect(vector).not.toBeNull();
        const expected = batch.subarray(r * width, (r + 1) * width);
        if (!vector!.every((x, k) => Object.is(x, expected[k])))
          throw new Error(`bar ${i}: streaming input differs from batch`);
        r++;
      }
      expect(r).toBe(rows.length);
      expect(rows.length).toBeGreaterThan(n - 150);
    });
  }

  it('lays a window out oldest bar first, features innermost', () => {
    const spec = parseFeatureSpec({
      features: [
        { name: 'sma', indicator: 'sma', params: { period: 3 } },
        { name: 'rsi', indicator: 'rsi' },
      ],
      layout: { kind: 'window', windowBars: 4 },
    });
    const { columns } = computeFeatureColumns(bars, spec);
    const row = 100;
    const input = buildModelInputs(columns, spec, [row]);
    expect(input).toHaveLength(8);
    for (let w = 0; w < 4; w++) {
      expect(input[w * 2]).toBe(Math.fround(columns[0]![row - 3 + w]!));
      expect(input[w * 2 + 1]).toBe(Math.fround(columns[1]![row - 3 + w]!));
    }
  });

  it('fits z-score and min-max parameters on the training range only', () => {
    const spec = parseFeatureSpec({
      features: [
        { name: 'rsi', indicator: 'rsi' },
        { name: 'ret', indicator: 'returns' },
      ],
    });
    const { columns } = computeFeatureColumns(bars, spec);
    const z = fitNormalisation(columns, 'zscore', 14, 2000);
    const zSpec = parseFeatureSpec({ ...spec, normalisation: z });
    const rows = Int32Array.from({ length: 2000 - 14 }, (_, k) => 14 + k);
    const normalised = buildModelInputs(columns, zSpec, rows);
    for (let c = 0; c < 2; c++) {
      const xs = Array.from({ length: rows.length }, (_, k) => normalised[k * 2 + c]!);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(Math.abs(std - 1)).toBeLessThan(1e-5);
    }
    // Later rows are not part of the fit: the parameters do not change when they do.
    const mutated = columns.map((col) => col.map((x, i) => (i >= 2000 ? x * 10 : x)));
    expect(fitNormalisation(mutated, 'zscore', 14, 2000)).toEqual(z);
    const mm = fitNormalisation(columns, 'minmax', 14, 2000);
    const mmInputs = buildModelInputs(columns, parseFeatureSpec({ ...spec, normalisation: mm }), rows);
    expect(Math.min(...mmInputs)).toBe(0);
    expect(Math.max(...mmInputs)).toBe(1);
  });

  it('has no look-ahead: features at t stay the same when bars after t are removed or changed', () => {
    const spec = parseFeatureSpec({ features: ALL_FEATURES });
    const report = checkSpecLookAhead(bars, spec);
    expect(report.cuts.length).toBeGreaterThanOrEqual(10);
    expect(report.columns.length).toBeGreaterThan(25);
    expect(report.leakingColumns).toEqual([]);
  });
});

describe('feature pipeline errors', () => {
  const bars: CandleColumns = {
    time: Float64Array.from({ length: 50 }, (_, i) => i * 60_000),
    open: Float64Array.from({ length: 50 }, (_, i) => 100 + Math.sin(i)),
    high: Float64Array.from({ length: 50 }, (_, i) => 102 + Math.sin(i)),
    low: Float64Array.from({ length: 50 }, (_, i) => 98 + Math.sin(i)),
    close: Float64Array.from({ length: 50 }, (_, i) => 100 + Math.cos(i)),
    volume: Float64Array.from({ length: 50 }, (_, i) => 10 + i),
  };

  it('names the field of an invalid spec', () => {
    expect(
      errorOf(() => parseFeatureSpec({ features: [{ name: 'x', indicator: 'nope' }] })).message,
    ).toContain('features.0.indicator');
    expect(
      errorOf(() => parseFeatureSpec({ features: [{ name: 'r', indicator: 'rsi', params: { length: 3 } }] }))
        .message,
    ).toContain("rsi has no parameter 'length'");
    expect(
      errorOf(() => parseFeatureSpec({ features: [{ name: 'r', indicator: 'rsi', params: { period: 0 } }] }))
        .message,
    ).toContain('rsi.period = 0 must be within 1..100000');
    expect(
      errorOf(() => parseFeatureSpec({ features: [{ name: 'm', indicator: 'macd', output: 'hist' }] }))
        .message,
    ).toContain("no output 'hist' (outputs: line, signal, histogram)");
    expect(
      errorOf(() =>
        parseFeatureSpec({
          features: [
            { name: 'a', indicator: 'rsi' },
            { name: 'a', indicator: 'sma' },
          ],
        }),
      ).message,
    ).toContain("duplicate feature name 'a'");
    expect(
      errorOf(() =>
        parseFeatureSpec({ features: [{ name: 'e', indicator: 'ema', params: { adjust: true } }] }),
      ).message,
    ).toContain("needs seed 'first'");
    const wrongLength = errorOf(() =>
      parseFeatureSpec({
        features: [{ name: 'm', indicator: 'macd' }],
        normalisation: { kind: 'zscore', mean: [0], std: [1] },
      }),
    );
    expect(wrongLength.code).toBe('FEATURE_INVALID');
    expect(wrongLength.message).toContain('1 entries for 3 columns');
  });

  it('refuses a row whose window is still warming up, naming the feature', () => {
    const spec = parseFeatureSpec({ features: [{ name: 'slow', indicator: 'sma', params: { period: 20 } }] });
    const { columns } = computeFeatureColumns(bars, spec);
    const error = errorOf(() => buildModelInputs(columns, spec, [5]));
    expect(error.message).toContain("Feature 'slow' is not yet defined at bar 5");
    expect(completeRows(columns, spec)[0]).toBe(19);
  });

  it('rejects a bar with a non-finite price, naming the row', () => {
    const broken = { ...bars, close: bars.close.slice() };
    broken.close[7] = NaN;
    const error = errorOf(() =>
      computeFeatureColumns(broken, parseFeatureSpec({ features: [{ name: 's', indicator: 'sma' }] })),
    );
    expect(error.code).toBe('DATA_INVALID');
    expect(error.message).toContain('Bar 7 has a non-finite close');
  });

  it('the look-ahead check names a feature that peeks at the future', () => {
    // A centred moving average (pandas rolling(center=True)) is the classic leak.
    const centred = (b: CandleColumns) => {
      const out = b.close.map((_, i) =>
        i >= 1 && i + 1 < b.close.length ? (b.close[i - 1]! + b.close[i]! + b.close[i + 1]!) / 3 : NaN,
      );
      return { names: ['sma', 'centred'], columns: [b.close.slice(), out] };
    };
    const report = checkLookAhead(bars, centred);
    expect(report.leakingColumns).toEqual(['centred']);
    expect(report.violations.every((v) => v.column === 'centred' && v.bar === v.cut)).toBe(true);
  });

  it('lists every indicator once with outputs and conventions', () => {
    const list = listIndicators();
    expect(list.map((i) => i.id)).toEqual([...INDICATOR_IDS]);
    for (const info of list) {
      expect(info.outputs.length).toBeGreaterThan(0);
      expect(info.convention.length).toBeGreaterThan(20);
    }
  });
});

describe('parallel batch', () => {
  it('computes the same columns on several threads as serially, bit for bit', async () => {
    const random = new SeededRandom(7);
    const n = MIN_PARALLEL_BARS + 20_000;
    const bars: CandleColumns = {
      time: new Float64Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
    };
    let price = 100;
    for (let i = 0; i < n; i++) {
      bars.time[i] = i * 60_000;
      bars.open[i] = price;
      price *= 1 + 0.003 * random.normal();
      bars.close[i] = price;
      bars.high[i] = Math.max(bars.open[i]!, price) * (1 + 0.001 * random.next());
      bars.low[i] = Math.min(bars.open[i]!, price) * (1 - 0.001 * random.next());
      bars.volume[i] = 1 + 100 * random.next();
    }
    // Helpers get shared copies of only the bar fields their features read: every source, and
    // small specs whose helper share reads one field.
    const sources = ['open', 'high', 'low', 'volume', 'hl2', 'hlc3', 'ohlc4'].map((source) => ({
      name: `sma_${source}`,
      indicator: 'sma' as const,
      params: { period: 5, source },
    }));
    const specs = [
      [...ALL_FEATURES, ...sources],
      [
        { name: 'mom_open', indicator: 'mom' as const, params: { source: 'open' } },
        { name: 'obv', indicator: 'obv' as const, params: {} },
      ],
      [
        { name: 'vwap_session', indicator: 'vwap' as const, params: { mode: 'session' } },
        { name: 'ema_ohlc4', indicator: 'ema' as const, params: { source: 'ohlc4' } },
      ],
    ];
    for (const [s, features] of specs.entries()) {
      const spec = parseFeatureSpec({ features });
      const serial = computeFeatureColumns(bars, spec);
      for (const threads of s === 0 ? [2, 3] : [2]) {
        const parallel = await computeFeatureColumnsParallel(bars, spec, threads);
        expect(parallel.names).toEqual(serial.names);
        serial.columns.forEach((column, c) => {
          if (!column.every((x, i) => Object.is(x, parallel.columns[c]![i])))
            throw new Error(`column ${serial.names[c]} differs (${threads} threads)`);
        });
      }
    }
  });
});

describe('series files', () => {
  it('reads CSV with ISO times through the importer and rejects unsorted, non-numeric and incomplete files with file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-series-'));
    try {
      const good = join(dir, 'good.csv');
      writeFileSync(
        good,
        'timestamp,open,high,low,close,volume\n2024-01-01 00:00:00,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1.5,2,1,1.8,11\n',
      );
      const bars = loadSeriesFile(good);
      expect(Array.from(bars.time)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 0, 1)]);
      expect(Array.from(bars.close)).toEqual([1.5, 1.8]);
      const cases: [string, string][] = [
        ['timestamp,open,high,low,close,volume\n120,1,1,1,1,1\n60,1,1,1,1,1\n', 'bad.csv:3'],
        ['timestamp,open,high,low,close,volume\n60,1,1,x,1,1\n', 'bad.csv:2'],
        ['time,open,high,low,close\n60,1,1,1,1\n', 'volume'],
        ['[[1,2,3]', 'bad.json:1'],
        ['{"columns":["date","open"],"data":[]}', 'missing: high, low, close, volume'],
      ];
      for (const [text, message] of cases) {
        const path = join(dir, text.startsWith('[') || text.startsWith('{') ? 'bad.json' : 'bad.csv');
        writeFileSync(path, text);
        const error = errorOf(() => loadSeriesFile(path));
        expect(error.code).toBe('DATA_INVALID');
        expect(error.message).toContain(message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithData('series files from other tools', () => {
  it('reads Freqtrade JSON, FreqUI JSON and CSV candles', () => {
    const freqtrade = loadSeriesFile(testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-1h.json'));
    expect(freqtrade.time[0]).toBe(1606780800000);
    expect(freqtrade.time[1]! - freqtrade.time[0]!).toBe(3_600_000);
    const frequi = loadSeriesFile(testDataPath('crypto', 'frequi', 'pair_candles_btc_1m.json'));
    expect(frequi.close.length).toBe(500);
    expect(frequi.time[0]).toBe(1683541620000);
    const csv = loadSeriesFile(
      testDataPath('crypto', 'nautilus_trader', 'btc-perp-20211231-20220201_1m.csv'),
    );
    expect(csv.close.length).toBe(45031);
    expect(csv.time[0]).toBe(Date.UTC(2021, 11, 31, 23, 1));
    expect(csv.close[0]).toBe(46377);
  });
});
