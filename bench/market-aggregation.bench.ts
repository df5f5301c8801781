import { BarAggregator, aggregateTrades } from '../main/core/data/bar-aggregator.ts';
import { TIMEFRAMES, type TradeColumns } from '../shared/market.ts';
import { atLeast, type Benchmark, type Figure } from './types.ts';

const TRADES = 10_000_000;

/** Sorted trades, ~20 per second with quiet stretches (deterministic, no RNG needed). */
function syntheticTrades(count: number): TradeColumns {
  const tsMs = new Float64Array(count);
  const price = new Float64Array(count);
  const quantity = new Float64Array(count);
  const side = new Int8Array(count);
  let t = Date.UTC(2024, 0, 1);
  let p = 50_000;
  for (let i = 0; i < count; i++) {
    t += (i * 7919) % 97 === 0 ? 5_000 : (i * 31) % 100;
    p += Math.sin(i * 0.013) * 2;
    tsMs[i] = t;
    price[i] = p;
    quantity[i] = 0.001 * (1 + (i % 17));
    side[i] = i % 3 === 0 ? -1 : 1;
  }
  return { tsMs, price, quantity, side };
}

export const benchmark: Benchmark = {
  name: 'market-aggregation',
  description:
    'Bar aggregation from trades: columnar fast path (10,000,000 trades to 1m bars, and to all 6 timeframes), and the streaming aggregator.',
  async run(): Promise<Figure[]> {
    const trades = syntheticTrades(TRADES);
    let best = 0;
    let bars = 0;
    for (let run = 0; run < 3; run++) {
      const t = performance.now();
      bars = aggregateTrades(trades, '1m').time.length;
      best = Math.max(best, TRADES / ((performance.now() - t) / 1000));
    }
    let allBest = 0;
    for (let run = 0; run < 2; run++) {
      const t = performance.now();
      for (const tf of TIMEFRAMES) aggregateTrades(trades, tf);
      allBest = Math.max(allBest, TRADES / ((performance.now() - t) / 1000));
    }
    const streamCount = 2_000_000;
    let closed = 0;
    const aggregator = new BarAggregator({ timeframes: TIMEFRAMES, onBar: () => void closed++ });
    const t = performance.now();
    for (let i = 0; i < streamCount; i++)
      aggregator.add(trades.tsMs[i]!, trades.price[i]!, trades.quantity[i]!);
    const streamRate = streamCount / ((performance.now() - t) / 1000);
    const value = Math.round(best);
    return [
      {
        name: 'columnar aggregation to 1m bars',
        value,
        unit: 'trades/s',
        ...atLeast(value, 5_000_000, 'trades/s'),
        note: `${TRADES} trades -> ${bars} bars (incl. flat bars)`,
      },
      {
        name: 'columnar aggregation to all 6 timeframes (one pass each)',
        value: Math.round(allBest),
        unit: 'trades/s',
      },
      {
        name: 'streaming aggregator, all 6 timeframes at once',
        value: Math.round(streamRate),
        unit: 'trades/s',
        note: `${closed} bars closed`,
      },
    ];
  },
};
