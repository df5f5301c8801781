import type { CandleColumns } from '../../features/types.ts';

/** Synthetic bars for backtest tests: explicit OHLCV rows, one minute apart from t0. */
export function barsFromRows(
  rows: readonly (readonly [number, number, number, number, number?])[],
  t0 = 1_700_000_000_000,
  stepMs = 60_000,
): CandleColumns {
  const n = rows.length;
  const bars: CandleColumns = {
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  rows.forEach(([o, h, l, c, v], i) => {
    bars.time[i] = t0 + i * stepMs;
    bars.open[i] = o;
    bars.high[i] = h;
    bars.low[i] = l;
    bars.close[i] = c;
    bars.volume[i] = v ?? 1_000_000;
  });
  return bars;
}

/** Bars whose open is the previous close and whose range just covers open and close. */
export function barsFromCloses(
  closes: readonly number[],
  t0 = 1_700_000_000_000,
  stepMs = 60_000,
): CandleColumns {
  return barsFromRows(
    closes.map((c, i) => {
      const o = i === 0 ? c : closes[i - 1]!;
      return [o, Math.max(o, c), Math.min(o, c), c] as const;
    }),
    t0,
    stepMs,
  );
}

/** A seeded random walk (LCG; tests must be deterministic). */
export function randomWalk(n: number, seed: number, start = 100, stepFraction = 0.01): CandleColumns {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const rows: [number, number, number, number, number][] = [];
  let price = start;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.max(0.01, open * (1 + (next() - 0.5) * 2 * stepFraction));
    const high = Math.max(open, close) * (1 + next() * stepFraction * 0.5);
    const low = Math.min(open, close) * (1 - next() * stepFraction * 0.5);
    rows.push([open, high, low, close, 1000 + Math.floor(next() * 1000)]);
    price = close;
  }
  return barsFromRows(rows);
}
