import { expect, it } from 'vitest';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { computeFeatureColumns, parseFeatureSpec } from './pipeline.ts';
import { readFrequiCandles } from './test-support/reference-data.ts';

describeWithData('indicators against TA-Lib values on real BTC/USDT 1m candles (FreqUI export)', () => {
  const data = readFrequiCandles(testDataPath('crypto', 'frequi', 'pair_candles_btc_1m.json'));
  const spec = parseFeatureSpec({
    features: [
      { name: 'rsi', indicator: 'rsi', params: { period: 14 } },
      { name: 'ema20', indicator: 'ema', params: { period: 20 } },
      { name: 'ema50', indicator: 'ema', params: { period: 50 } },
    ],
  });
  const { columns } = computeFeatureColumns(data.bars, spec);
  const n = data.bars.close.length;

  it('has 500 candles', () => {
    expect(n).toBe(500);
  });

  it('RSI(14) agrees with TA-Lib within 1e-6 over the last 200 rows', () => {
    let worst = 0;
    for (let i = n - 200; i < n; i++) worst = Math.max(worst, Math.abs(columns[0]![i]! - data.rsi[i]!));
    expect(worst).toBeLessThan(1e-6);
  });

  it('EMA(20) and EMA(50) agree with TA-Lib within 1e-8 relative over the last 200 rows', () => {
    for (const [column, expected] of [
      [columns[1]!, data.ema20],
      [columns[2]!, data.ema50],
    ] as const) {
      let worst = 0;
      for (let i = n - 200; i < n; i++)
        worst = Math.max(worst, Math.abs(column[i]! - expected[i]!) / Math.abs(expected[i]!));
      expect(worst).toBeLessThan(1e-8);
    }
  });
});
