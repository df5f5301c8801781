import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeLabels, formatLabel, forwardReturns, parseLabel } from './labels.ts';
import { classificationMetrics, rocAuc, simulateThresholdStrategy } from './metrics.ts';
import { assertPurged, walkForwardFolds } from './walk-forward.ts';

describe('labels', () => {
  it('parses sign:H, above:H:X and return:H and writes them back the same way', () => {
    expect(parseLabel('sign:12')).toEqual({ kind: 'sign', horizon: 12 });
    expect(parseLabel('above:6:0.002')).toEqual({ kind: 'above', horizon: 6, threshold: 0.002 });
    expect(parseLabel('return:3')).toEqual({ kind: 'return', horizon: 3 });
    for (const text of ['sign:12', 'above:6:0.002', 'return:3'])
      expect(formatLabel(parseLabel(text))).toBe(text);
  });

  it('rejects malformed definitions with a message naming the accepted forms', () => {
    for (const bad of [
      'sign',
      'sign:0',
      'sign:1.5',
      'sign:x',
      'above:5',
      'above:5:',
      'above:5:abc',
      'return:2:3',
      'peek:3',
      '',
    ]) {
      expect(() => parseLabel(bad), bad).toThrow(/sign:H, above:H:THRESHOLD, return:H/);
    }
  });

  it('labels bar t from close[t + H] / close[t] - 1 and leaves the last H bars unlabelled', () => {
    const close = Float64Array.from([100, 101, 99, 102, 102, 103]);
    const r = forwardReturns(close, 2);
    expect(r[0]).toBeCloseTo(-0.01, 12);
    expect(r[3]).toBeCloseTo(103 / 102 - 1, 12);
    expect(Number.isNaN(r[4]!) && Number.isNaN(r[5]!)).toBe(true);
    expect(Array.from(computeLabels(close, { kind: 'sign', horizon: 2 }).subarray(0, 4))).toEqual([
      0, 1, 1, 1,
    ]);
    // 102 -> 102 is not above 0; 99 -> 102 is above 0.02.
    expect(
      Array.from(computeLabels(close, { kind: 'above', horizon: 2, threshold: 0.02 }).subarray(0, 4)),
    ).toEqual([0, 0, 1, 0]);
  });
});

describe('walk-forward with purging and embargo', () => {
  const rowsOf = (n: number, start = 300): Int32Array => Int32Array.from({ length: n }, (_, i) => start + i);

  it('every fold tests after it trains, and no training label reaches a test or validation bar', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 3 }),
        (folds, horizon, embargo, v) => {
          const rows = rowsOf(folds * 500 + 2000);
          const validationFraction = [0, 0.1, 0.2, 0.3][v]!;
          const result = walkForwardFolds(rows, { folds, horizon, embargo, validationFraction });
          expect(result).toHaveLength(folds);
          for (const fold of result) {
            assertPurged(fold.fitBars, fold.testBars, horizon, embargo, 'fit');
            assertPurged(fold.validationBars, fold.testBars, horizon, embargo, 'validation');
            assertPurged(fold.fitBars, fold.validationBars, horizon, embargo, 'fit vs validation');
            const lastFit = fold.fitBars[fold.fitBars.length - 1]!;
            const next = (fold.validationBars[0] ?? fold.testBars[0])!;
            // The purge is tight: the last kept row clears the boundary, the row after it would not.
            expect(lastFit + horizon + embargo).toBeLessThan(next);
            expect(lastFit + 1 + horizon + embargo).toBeGreaterThanOrEqual(next);
          }
          // Test blocks tile the tail of the rows without gaps or overlap.
          const tested = result.flatMap((f) => Array.from(f.testBars));
          expect(new Set(tested).size).toBe(tested.length);
          expect(tested[tested.length - 1]).toBe(rows[rows.length - 1]);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('a split built without purging is caught before any model is fitted', () => {
    const folds = walkForwardFolds(rowsOf(5000), {
      folds: 3,
      horizon: 12,
      embargo: 6,
      validationFraction: 0,
      disablePurge: true,
    });
    const fold = folds[0]!;
    expect(() => assertPurged(fold.fitBars, fold.testBars, 12, 6, 'fold 1')).toThrow(
      /label leak in fold 1: training row at bar \d+ has a label reaching bar/,
    );
    // The same split with purging passes.
    const purged = walkForwardFolds(rowsOf(5000), {
      folds: 3,
      horizon: 12,
      embargo: 6,
      validationFraction: 0,
    })[0]!;
    expect(() => assertPurged(purged.fitBars, purged.testBars, 12, 6, 'fold 1')).not.toThrow();
    expect(purged.purgedRows).toBe(12 + 6);
  });

  it('a training row after the test block must clear the test labels plus the embargo', () => {
    const test = [100, 101, 102];
    expect(() => assertPurged([102 + 5 + 2 + 1], test, 5, 2, 'x')).not.toThrow();
    expect(() => assertPurged([102 + 5 + 2], test, 5, 2, 'x')).toThrow(/label leak/);
  });

  it('refuses folds too small for the horizon instead of evaluating on scraps', () => {
    expect(() =>
      walkForwardFolds(rowsOf(300), { folds: 5, horizon: 12, embargo: 12, validationFraction: 0.1 }),
    ).toThrow(/too few/);
    expect(() =>
      walkForwardFolds(rowsOf(3000), { folds: 0, horizon: 1, embargo: 0, validationFraction: 0 }),
    ).toThrow(/folds must be/);
  });
});

describe('metrics', () => {
  it('AUC equals the share of (positive, negative) pairs ranked correctly, ties counting half', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1 })), {
          minLength: 2,
          maxLength: 60,
        }),
        (pairs) => {
          const scores = pairs.map((p) => p[0]);
          const labels = pairs.map((p) => p[1]);
          let good = 0;
          let total = 0;
          for (let i = 0; i < pairs.length; i++) {
            for (let j = 0; j < pairs.length; j++) {
              if (labels[i] === 1 && labels[j] === 0) {
                total++;
                good += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
              }
            }
          }
          const auc = rocAuc(scores, labels);
          if (total === 0) expect(Number.isNaN(auc)).toBe(true);
          else expect(auc).toBeCloseTo(good / total, 12);
        },
      ),
    );
  });

  it('log loss, Brier and accuracy of known predictions', () => {
    const m = classificationMetrics([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1]);
    expect(m.accuracy).toBe(0.5);
    expect(m.brier).toBeCloseTo((0.01 + 0.04 + 0.36 + 0.36) / 4, 12);
    expect(m.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(0.4)) / 4, 12);
    expect(m.positiveRate).toBe(0.5);
  });

  it("threshold strategy: earns the next bar's return while long, pays the fee on every change, next to buy-and-hold", () => {
    const close = Float64Array.from([100, 110, 99, 99, 108.9]);
    const bars = [0, 1, 2, 3];
    const result = simulateThresholdStrategy(close, bars, [0.9, 0.1, 0.1, 0.7], 0.5, 0.01, 252);
    // long 0->1 (+10% - 1% entry), exit at bar 1 (-1%), flat, enter at bar 3 (-1%) then +10%.
    const expected = (1 + 0.1 - 0.01) * (1 - 0.01) * 1 * (1 + 0.1 - 0.01) - 1;
    expect(result.strategy.totalReturn).toBeCloseTo(expected, 12);
    expect(result.strategy.trades).toBe(3);
    expect(result.strategy.turnover).toBeCloseTo(3 / 4, 12);
    expect(result.strategy.exposure).toBe(0.5);
    expect(result.buyAndHold.totalReturn).toBeCloseTo((1.1 - 0.01) * 0.9 * 1 * 1.1 - 1, 12);
    expect(result.buyAndHold.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(result.buyAndHold.trades).toBe(1);
  });
});
