import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.ts';
import { parseFeatureSpec } from '../features/pipeline.ts';
import type { CandleColumns } from '../features/types.ts';
import { DEFAULT_TRAIN_OPTIONS, runTraining, type TrainOptions } from './train.ts';
import { serialiseCard } from './card-format.ts';

/**
 * Candles whose 12-bar moves partly revert: the next 12 bars' return leans against the last 12
 * bars' return, so `ret_12` carries real (out-of-sample) information and the other columns little.
 */
function revertingCandles(bars: number, seed: number): CandleColumns {
  const rnd = new SeededRandom(seed);
  const logp = new Float64Array(bars);
  for (let t = 1; t < bars; t++) {
    const past = t >= 13 ? logp[t - 1]! - logp[t - 13]! : 0;
    logp[t] = logp[t - 1]! - 0.06 * past + 0.004 * rnd.normal();
  }
  const c: CandleColumns = {
    time: new Float64Array(bars),
    open: new Float64Array(bars),
    high: new Float64Array(bars),
    low: new Float64Array(bars),
    close: new Float64Array(bars),
    volume: new Float64Array(bars),
  };
  for (let t = 0; t < bars; t++) {
    const close = 100 * Math.exp(logp[t]!);
    const open = t > 0 ? c.close[t - 1]! : close;
    c.time[t] = 1_600_000_000_000 + t * 300_000;
    c.open[t] = open;
    c.close[t] = close;
    c.high[t] = Math.max(open, close) * (1 + 0.001 * Math.abs(rnd.normal()));
    c.low[t] = Math.min(open, close) * (1 - 0.001 * Math.abs(rnd.normal()));
    c.volume[t] = 10 + 5 * Math.abs(rnd.normal());
  }
  return c;
}

const spec = parseFeatureSpec({
  features: [
    { name: 'ret_1', indicator: 'returns', params: { period: 1 } },
    { name: 'ret_12', indicator: 'returns', params: { period: 12 } },
    { name: 'rsi_14', indicator: 'rsi', params: { period: 14 } },
    { name: 'vol_48', indicator: 'volatility', params: { period: 48 } },
  ],
});

function options(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_TRAIN_OPTIONS,
    name: 'synthetic',
    spec,
    label: { kind: 'sign', horizon: 12 },
    trees: 60,
    depth: 3,
    minLeaf: 50,
    folds: 3,
    embargo: 12,
    ...overrides,
  };
}

describe('runTraining (synthetic candles with a planted signal)', () => {
  const bars = revertingCandles(12_000, 1);
  const unseen = revertingCandles(8_000, 2);

  it('finds the planted signal out-of-sample, on an unseen series too, and credits the right feature', () => {
    const { card } = runTraining({ source: 'a', bars }, options(), [{ source: 'b', bars: unseen }]);
    const overall = card.evaluation.outOfSample.overall.metrics;
    expect('auc' in overall && overall.auc).toBeGreaterThan(0.6);
    expect(card.evaluation.outOfSample.folds).toHaveLength(3);
    for (const fold of card.evaluation.outOfSample.folds) {
      // Each fold fitted strictly before it tested, with the purge between.
      expect(Date.parse(fold.fit!.lastBar)).toBeLessThan(Date.parse(fold.test.range!.firstBar));
      expect(fold.purgedRows).toBeGreaterThanOrEqual(24);
    }
    const wf = card.evaluation.unseenAssets.find((u) => u.method.startsWith('walk-forward'))!;
    expect('auc' in wf.metrics && wf.metrics.auc).toBeGreaterThan(0.6);
    // The signal lives in the 12-bar move, which ret_12 and (bounded, similar window) rsi_14 both carry;
    // volatility carries none.
    const shap = Object.fromEntries(card.explanations.features.map((f) => [f.feature, f.meanAbsShap]));
    expect(shap.ret_12! + shap.rsi_14!).toBeGreaterThan(3 * shap.vol_48!);
    expect(['ret_12', 'rsi_14']).toContain(
      [...card.explanations.features].sort((a, b) => b.meanAbsShap - a.meanAbsShap)[0]!.feature,
    );
    expect(card.evaluation.inSample.note).toMatch(/NOT out-of-sample/);
    expect(card.label).toMatchObject({ definition: 'sign:12', horizon: 12 });
    expect(card.outputs.map((o) => o.name)).toEqual(['label', 'probabilities', 'margin']);
  });

  it('is deterministic: the same request gives the same ONNX bytes and card text', () => {
    const a = runTraining({ source: 'a', bars }, options({ trees: 15 }));
    const b = runTraining({ source: 'a', bars }, options({ trees: 15 }));
    expect(Buffer.from(a.onnx).equals(Buffer.from(b.onnx))).toBe(true);
    expect(serialiseCard(a.card)).toBe(serialiseCard(b.card));
  });

  it('trains the logistic baseline with a z-score fitted on the training rows, and a regression on return:H', () => {
    const lr = runTraining({ source: 'a', bars }, options({ model: 'logistic' }));
    expect(lr.card.featureSpec.normalisation.kind).toBe('zscore');
    const m = lr.card.evaluation.outOfSample.overall.metrics;
    expect('auc' in m && m.auc).toBeGreaterThan(0.6);
    const reg = runTraining(
      { source: 'a', bars },
      options({ label: { kind: 'return', horizon: 12 }, threshold: 0 }),
    );
    const r = reg.card.evaluation.outOfSample.overall.metrics;
    expect('correlation' in r && r.correlation).toBeGreaterThan(0.1);
    expect(reg.card.task).toBe('regression');
  });

  it('reports progress through every fit and stops with CANCELLED when asked', () => {
    const phases: string[] = [];
    runTraining({ source: 'a', bars }, options({ trees: 5, earlyStoppingRounds: 0 }), [], {
      onProgress: (p) => phases.push(p.phase),
    });
    expect(new Set(phases)).toEqual(
      new Set([
        'features',
        'fold 1/3',
        'fold 2/3',
        'fold 3/3',
        'final model',
        'unseen assets',
        'explanations',
      ]),
    );
    let calls = 0;
    expect(() =>
      runTraining({ source: 'a', bars }, options(), [], { isCancelled: () => ++calls > 10 }),
    ).toThrow(/cancelled/);
  });

  it('stops with a label-leak error, before fitting, when a split is not purged', () => {
    let fits = 0;
    expect(() =>
      runTraining({ source: 'a', bars }, options({ disablePurgeForTesting: true }), [], {
        onProgress: (p) => (fits += p.phase.startsWith('fold') ? 1 : 0),
      }),
    ).toThrow(
      /label leak in fold 1 \((fit|validation) vs (test|validation)\): training row at bar \d+ has a label reaching bar \d+/,
    );
    expect(fits).toBe(0);
  });

  it('rejects what it cannot train honestly', () => {
    const windowed = parseFeatureSpec({ ...spec, layout: { kind: 'window', windowBars: 8 } });
    expect(() => runTraining({ source: 'a', bars }, options({ spec: windowed }))).toThrow(
      /tabular feature layout/,
    );
    expect(() => runTraining({ source: 'a', bars: revertingCandles(600, 3) }, options())).toThrow(/too few/);
    expect(() =>
      runTraining(
        { source: 'a', bars },
        options({ model: 'logistic', label: { kind: 'return', horizon: 3 } }),
      ),
    ).toThrow(/classification label/);
  });
});
