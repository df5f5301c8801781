import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import type { FeatureDefinition } from '../../../shared/feature-spec.ts';
import { INDICATOR_IDS } from '../../../shared/feature-spec.ts';
import { createIndicator, listIndicators } from './catalog.ts';
import { type CandleColumns, runIndicator } from './types.ts';
import * as ref from './test-support/naive.ts';
import { columnsFromRows, readTaFixture, readTalibRegtest } from './test-support/reference-data.ts';

interface Case {
  id: (typeof INDICATOR_IDS)[number];
  params: Record<string, number | string | boolean>;
  /** Independent reference, one array per output in the indicator's output order. */
  reference(b: CandleColumns): number[][];
  /**
   * Bars where the plain reference is itself unreliable: a z-score of a window whose spread is
   * below ~1e-5 of its level is dominated by the reference's own rounding of the mean (its error
   * is ~1e-14 of the level; ours is exact, see the exact-sum tests).
   */
  isComparable?(b: CandleColumns, i: number): boolean;
  /** Relative tolerance against the reference (variance-based ones go through different sums). */
  tolerance?: number;
}

const CASES: Case[] = [
  { id: 'sma', params: { period: 10 }, reference: (b) => [ref.sma(b.close, 10)] },
  {
    id: 'sma',
    params: { period: 3, source: 'hlc3' },
    reference: (b) => [
      ref.sma(
        Array.from(b.close, (c, i) => (b.high[i]! + b.low[i]! + c) / 3),
        3,
      ),
    ],
  },
  { id: 'ema', params: { period: 10 }, reference: (b) => [ref.ema(b.close, 10)] },
  { id: 'ema', params: { period: 10, seed: 'first' }, reference: (b) => [ref.emaPandas(b.close, 10, false)] },
  {
    id: 'ema',
    params: { period: 10, seed: 'first', adjust: true },
    reference: (b) => [ref.emaPandas(b.close, 10, true)],
  },
  { id: 'wma', params: { period: 7 }, reference: (b) => [ref.wma(b.close, 7)] },
  { id: 'dema', params: { period: 5 }, reference: (b) => [ref.dema(b.close, 5)] },
  { id: 'tema', params: { period: 4 }, reference: (b) => [ref.tema(b.close, 4)] },
  { id: 'rsi', params: { period: 14 }, reference: (b) => [ref.rsi(b.close, 14)] },
  { id: 'rsi', params: { period: 6, seed: 'first' }, reference: (b) => [ref.rsi(b.close, 6, 1)] },
  {
    id: 'macd',
    params: { fast: 5, slow: 9, signal: 4, seed: 'first' },
    reference: (b) => {
      const fast = ref.emaPandas(b.close, 5, false);
      const slow = ref.emaPandas(b.close, 9, false);
      const line = fast.map((v, i) => v - slow[i]!);
      const signal = ref.emaPandas(line, 4, false);
      return [line, signal, line.map((v, i) => v - signal[i]!)];
    },
  },
  {
    id: 'macd',
    params: { fast: 5, slow: 9, signal: 4 },
    reference: (b) => {
      const m = ref.macd(b.close, 5, 9, 4);
      return [m.line, m.signal, m.histogram];
    },
  },
  {
    id: 'bbands',
    params: { period: 5, deviationsUp: 2, deviationsDown: 2 },
    reference: (b) => {
      const r = ref.bbands(b.close, 5, 2);
      return [r.upper, r.middle, r.lower];
    },
    tolerance: 1e-8,
  },
  { id: 'atr', params: { period: 14 }, reference: (b) => [ref.atr(b, 14)] },
  { id: 'atr', params: { period: 5, seed: 'first' }, reference: (b) => [ref.atr(b, 5, 1)] },
  {
    id: 'stoch',
    params: { fastK: 5, slowK: 3, slowD: 3 },
    reference: (b) => {
      const s = ref.stoch(b, 5, 3, 3);
      return [s.k, s.d];
    },
  },
  { id: 'willr', params: { period: 14 }, reference: (b) => [ref.willr(b, 14)] },
  { id: 'cci', params: { period: 14 }, reference: (b) => [ref.cci(b, 14)], tolerance: 1e-7 },
  { id: 'roc', params: { period: 10 }, reference: (b) => [ref.roc(b.close, 10)] },
  { id: 'mom', params: { period: 10 }, reference: (b) => [ref.mom(b.close, 10)] },
  { id: 'obv', params: {}, reference: (b) => [ref.obv(b)] },
  {
    id: 'adx',
    params: { period: 14 },
    reference: (b) => {
      const a = ref.adx(b, 14);
      return [a.adx, a.plusDi, a.minusDi];
    },
  },
  { id: 'vwap', params: { period: 14 }, reference: (b) => [ref.vwapRolling(b, 14)] },
  { id: 'vwap', params: { mode: 'session' }, reference: (b) => [ref.vwapSession(b)] },
  { id: 'returns', params: { period: 3, kind: 'log' }, reference: (b) => [ref.returns(b.close, 3, true)] },
  {
    id: 'returns',
    params: { period: 1, kind: 'simple' },
    reference: (b) => [ref.returns(b.close, 1, false)],
  },
  {
    id: 'volatility',
    params: { period: 10 },
    reference: (b) => [ref.volatility(b.close, 10, 1)],
    tolerance: 1e-7,
  },
  {
    id: 'zscore',
    params: { period: 10 },
    reference: (b) => [ref.zscore(b.close, 10, 0)],
    tolerance: 1e-7,
    isComparable: (b, i) => isWellConditioned(b.close, i, 10),
  },
  {
    id: 'volume_zscore',
    params: { period: 10, ddof: 1 },
    reference: (b) => [ref.zscore(b.volume, 10, 1)],
    tolerance: 1e-7,
    isComparable: (b, i) => isWellConditioned(b.volume, i, 10),
  },
];

function isWellConditioned(x: Float64Array, i: number, n: number): boolean {
  if (i < n - 1) return true;
  const w = Array.from(x.subarray(i - n + 1, i + 1));
  const spread = Math.max(...w) - Math.min(...w);
  return spread === 0 || spread > 1e-5 * Math.max(...w.map(Math.abs));
}

const feature = (c: Case): FeatureDefinition => ({ name: 'f', indicator: c.id, params: c.params });
const label = (c: Case): string => `${c.id}(${JSON.stringify(c.params)})`;

/** Asserts equal warm-up (NaN) positions and values within a relative tolerance; returns the worst error. */
function expectClose(
  actual: Float64Array,
  expected: number[],
  tolerance: number,
  what: string,
  isComparable: (i: number) => boolean = () => true,
): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!isComparable(i)) continue;
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      expect(Number.isNaN(a), `${what} bar ${i}: ours ${a}, reference ${e}`).toBe(Number.isNaN(e));
      continue;
    }
    expect(Math.abs(a - e), `${what} bar ${i}: ours ${a}, reference ${e}`).toBeLessThanOrEqual(
      tolerance * Math.max(1, Math.abs(e)),
    );
  }
}

/** Random OHLCV bars: either continuous prices or prices on a 0.25 grid (ties, flat bars, zero volume). */
const barsArbitrary = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.record({
        move: fc.double({ min: -0.04, max: 0.04, noNaN: true }),
        up: fc.double({ min: 0, max: 0.02, noNaN: true }),
        down: fc.double({ min: 0, max: 0.02, noNaN: true }),
        openShift: fc.double({ min: -1, max: 1, noNaN: true }),
        // Real volumes: 0 or at least 1e-6 (squares of ~1e-162 would underflow, in any implementation).
        volume: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 5000, noNaN: true })),
        gapHours: fc.integer({ min: 1, max: 30 }),
      }),
      { minLength: 1, maxLength: 160 },
    ),
  )
  .map(([isGrid, steps]) => {
    let close = 100;
    let time = 1_700_000_000_000;
    const q = (x: number): number => (isGrid ? Math.round(x * 4) / 4 : x);
    const rows = steps.map((s) => {
      const previous = close;
      close = Math.max(1, q(close * (1 + s.move)));
      const open = q(previous + (close - previous) * s.openShift);
      const high = Math.max(open, close) + q(close * s.up);
      const low = Math.min(open, close) - q(close * s.down);
      time += s.gapHours * 3_600_000;
      return [time, open, high, Math.max(0.5, low), close, isGrid ? Math.round(s.volume) : s.volume];
    });
    return columnsFromRows(rows);
  });

describe('indicators', () => {
  it('covers every indicator in the spec schema and the catalog', () => {
    expect(new Set(CASES.map((c) => c.id))).toEqual(new Set(INDICATOR_IDS));
    expect(listIndicators().map((i) => i.id)).toEqual([...INDICATOR_IDS]);
  });

  for (const c of CASES) {
    describe(label(c), () => {
      it('gives bit-identical results streaming bar by bar and over whole columns', () => {
        fc.assert(
          fc.property(barsArbitrary, (bars) => {
            const batch = runIndicator(createIndicator(feature(c)), bars);
            const streaming = createIndicator(feature(c));
            for (let i = 0; i < bars.close.length; i++) {
              const values = streaming.update({
                time: bars.time[i]!,
                open: bars.open[i]!,
                high: bars.high[i]!,
                low: bars.low[i]!,
                close: bars.close[i]!,
                volume: bars.volume[i]!,
              });
              for (let k = 0; k < batch.length; k++) {
                if (!Object.is(values[k], batch[k]![i]))
                  throw new Error(`output ${k} bar ${i}: streaming ${values[k]} vs batch ${batch[k]![i]}`);
              }
            }
          }),
          { numRuns: 60 },
        );
      });

      it('agrees with an independent whole-window reference implementation on random series', () => {
        fc.assert(
          fc.property(barsArbitrary, (bars) => {
            const ours = runIndicator(createIndicator(feature(c)), bars);
            const expected = c.reference(bars);
            ours.forEach((column, k) =>
              expectClose(
                column,
                expected[k]!,
                c.tolerance ?? 1e-9,
                `${label(c)} output ${k}`,
                (i) => c.isComparable?.(bars, i) ?? true,
              ),
            );
          }),
          { numRuns: 60 },
        );
      });

      it('never looks ahead: changing bars after t leaves every value up to t unchanged', () => {
        fc.assert(
          fc.property(barsArbitrary, barsArbitrary, fc.nat(), (bars, future, cut) => {
            const n = bars.close.length;
            const t = cut % n;
            // Bars 0..t stay; every later bar is replaced by another random bar (close scaled too).
            const changed = columnsFromRows(
              Array.from({ length: n }, (_, i) => {
                if (i <= t)
                  return [
                    bars.time[i]!,
                    bars.open[i]!,
                    bars.high[i]!,
                    bars.low[i]!,
                    bars.close[i]!,
                    bars.volume[i]!,
                  ];
                const j = Math.min(i, future.close.length - 1);
                return [
                  bars.time[i]!,
                  future.open[j]!,
                  future.high[j]!,
                  future.low[j]!,
                  future.close[j]! * 1.7,
                  future.volume[j]! + 3,
                ];
              }),
            );
            const before = runIndicator(createIndicator(feature(c)), bars);
            const after = runIndicator(createIndicator(feature(c)), changed);
            for (let k = 0; k < before.length; k++) {
              for (let i = 0; i <= t; i++) {
                if (!Object.is(before[k]![i], after[k]![i]))
                  throw new Error(`output ${k} bar ${i} changed when bars after ${t} changed`);
              }
            }
          }),
          { numRuns: 40 },
        );
      });
    });
  }
});

describe('exact rolling sums', () => {
  it('gives bit-identical moving averages for identical windows whatever came before', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 300 }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 300 }),
        fc.array(fc.double({ min: 0.001, max: 1e5, noNaN: true }), { minLength: 20, maxLength: 20 }),
        (historyA, historyB, window) => {
          const run = (history: number[], id: 'sma' | 'wma' | 'bbands' | 'zscore'): number[] => {
            const xs = [...history, ...window];
            const bars = columnsFromRows(xs.map((x, i) => [i, x, x, x, x, 1]));
            const out = runIndicator(
              createIndicator({ name: 'f', indicator: id, params: { period: 20 } }),
              bars,
            );
            return out.map((col) => col[xs.length - 1]!);
          };
          for (const id of ['sma', 'wma', 'bbands', 'zscore'] as const)
            expect(run(historyA, id)).toEqual(run(historyB, id));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('makes two averages equal in exact arithmetic compare equal (no crossover from rounding noise)', () => {
    // Window of 4: {0.1, 0.2, 0.3, 0.4} and {0.25, 0.25, 0.25, 0.25} have the same exact sum only if
    // the doubles sum the same; use values whose exact sums agree: 0.1+0.7 and 0.3+0.5 differ in
    // double, so build windows from the same numbers in another order after a large-magnitude history.
    const history = [1e15, -1e15, 123456.789, -123456.789, 0.3];
    const a = [...history, 0.1, 0.2, 0.3, 0.4];
    const b = [0.4, 0.3, 0.2, 0.1];
    const sma = (xs: number[]): number =>
      runIndicator(
        createIndicator({ name: 'f', indicator: 'sma', params: { period: 4 } }),
        columnsFromRows(xs.map((x, i) => [i, x, x, x, x, 1])),
      )[0]![xs.length - 1]!;
    expect(sma(a)).toBe(sma(b));
    // A naive running sum drifts after the huge values leave the window; the exact sum does not.
    let naive = 0;
    for (let i = 0; i < a.length; i++) {
      naive += a[i]!;
      if (i >= 4) naive -= a[i - 4]!;
    }
    expect(naive / 4).not.toBe(sma(a));
  });

  it('gives equal moving averages of different lengths when their exact means are equal (no rounding crossover)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 100 }),
        fc.array(fc.double({ min: 0.001, max: 1e5, noNaN: true }), { minLength: 1, maxLength: 15 }),
        (history, window) => {
          // SMA(k) over W and SMA(2k) over W,W have the same exact mean; so do SMA(1) of a price and
          // SMA(k) of k copies of it (a flat market).
          const k = window.length;
          const xs = [...history, ...window, ...window];
          const bars = columnsFromRows(xs.map((x, i) => [i, x, x, x, x, 1]));
          const sma = (period: number): number =>
            runIndicator(createIndicator({ name: 'f', indicator: 'sma', params: { period } }), bars)[0]![
              xs.length - 1
            ]!;
          expect(sma(2 * k)).toBe(sma(k));
          const flat = [...history, ...Array<number>(3 * k).fill(window[0]!)];
          const flatBars = columnsFromRows(flat.map((x, i) => [i, x, x, x, x, 1]));
          for (const id of ['sma', 'wma'] as const) {
            for (const period of [k, 2 * k, 3 * k]) {
              expect(
                runIndicator(createIndicator({ name: 'f', indicator: id, params: { period } }), flatBars)[0]![
                  flat.length - 1
                ],
              ).toBe(window[0]);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reports a zero standard deviation for a constant window (bands collapse, z-score 0)', () => {
    const xs = [5, 9, 1e9, 3, ...Array<number>(20).fill(27123.37)];
    const bars = columnsFromRows(xs.map((x, i) => [i, x, x, x, x, x]));
    const [upper, middle, lower] = runIndicator(
      createIndicator({ name: 'b', indicator: 'bbands', params: { period: 20 } }),
      bars,
    );
    const last = xs.length - 1;
    expect(upper![last]).toBe(middle![last]);
    expect(lower![last]).toBe(middle![last]);
    expect(
      runIndicator(createIndicator({ name: 'z', indicator: 'zscore', params: { period: 20 } }), bars)[0]![
        last
      ],
    ).toBe(0);
    expect(
      runIndicator(
        createIndicator({ name: 'v', indicator: 'volume_zscore', params: { period: 20 } }),
        bars,
      )[0]![last],
    ).toBe(0);
  });
});

describe('non-finite intermediate values', () => {
  it('keeps a zero price out of the rolling volatility until it leaves the window, then recovers', () => {
    const closes = [100, 101, 102, 0, 103, 104, 105, 106, 107, 108, 109, 110];
    const bars = columnsFromRows(closes.map((x, i) => [i, x, x, x, x, 1]));
    const [vol] = runIndicator(
      createIndicator({ name: 'v', indicator: 'volatility', params: { period: 3 } }),
      bars,
    );
    // Returns at bars 3 (ln 0 = -Inf) and 4 (ln(103/0) = +Inf) poison windows ending at bars 3..6.
    expect(Array.from(vol!.subarray(3, 7)).every(Number.isNaN)).toBe(true);
    const expected = ref.volatility(Float64Array.from(closes), 3, 1)[7]!;
    expect(vol![7]).toBeCloseTo(expected, 12);
    expect(Array.from(vol!.subarray(7)).every(Number.isFinite)).toBe(true);
  });
});

describeWithData(
  'indicators on the reference input series of TA-Lib and ta (agree with independent implementations)',
  () => {
    const series: { name: string; bars: CandleColumns }[] = [
      {
        name: 'talib ta_regtest_daily_ref_0',
        bars: readTalibRegtest(testDataPath('refs', 'talib', 'ta_regtest_daily_ref_0.csv')),
      },
    ];
    for (const file of readdirSync(testDataPath('refs', 'ta'))
      .filter((f) => f.endsWith('.csv'))
      .sort()) {
      const bars = readTaFixture(testDataPath('refs', 'ta', file));
      // Rows with missing inputs (documented in refs/README.md) are dropped: the pipeline rejects non-finite bars.
      const keep = Array.from(bars.close.keys()).filter((i) =>
        [bars.open, bars.high, bars.low, bars.close, bars.volume].every((col) => Number.isFinite(col[i]!)),
      );
      const rows = keep.map((i) => [
        bars.time[i]!,
        bars.open[i]!,
        bars.high[i]!,
        bars.low[i]!,
        bars.close[i]!,
        bars.volume[i]!,
      ]);
      if (rows.length >= 15) series.push({ name: `ta ${file}`, bars: columnsFromRows(rows) });
    }

    it('reads the TA-Lib regression series (252 bars) and the ta fixtures', () => {
      expect(series[0]!.bars.close.length).toBe(252);
      expect(series.length).toBe(23);
    });

    for (const c of CASES) {
      it(`${label(c)} matches the reference on every series`, () => {
        let compared = 0;
        for (const s of series) {
          const ours = runIndicator(createIndicator(feature(c)), s.bars);
          const expected = c.reference(s.bars);
          ours.forEach((column, k) =>
            expectClose(column, expected[k]!, c.tolerance ?? 1e-9, `${s.name} ${label(c)} output ${k}`),
          );
          if (Array.from(ours[0]!).some(Number.isFinite)) compared++;
        }
        // Not a vacuous all-warm-up comparison: most series are long enough to produce values.
        expect(compared).toBeGreaterThanOrEqual(5);
      });
    }
  },
);
