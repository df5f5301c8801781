import type { CandleColumns } from '../types.ts';

/**
 * Independent reference implementations for tests: whole-array loops written the obvious way
 * (recompute every window from scratch, TA-Lib's C loops for the recursive ones). They share no
 * code with the indicators, so agreement means the streaming kernels compute the documented thing.
 */

const nan = (n: number): number[] => new Array<number>(n).fill(NaN);
const windowOf = (x: ArrayLike<number>, i: number, n: number): number[] =>
  Array.from({ length: n }, (_, k) => x[i - n + 1 + k]!);
const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const popStd = (a: number[], ddof = 0): number => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - ddof));
};

export function sma(x: ArrayLike<number>, n: number): number[] {
  const out = nan(x.length);
  for (let i = n - 1; i < x.length; i++) out[i] = mean(windowOf(x, i, n));
  return out;
}

/** TA-Lib EMA: SMA seed at bar n−1. Input may start with NaNs (for DEMA/TEMA chains). */
export function ema(x: ArrayLike<number>, n: number): number[] {
  const out = nan(x.length);
  let start = 0;
  while (start < x.length && Number.isNaN(x[start]!)) start++;
  if (start + n - 1 >= x.length) return out;
  let prev = 0;
  for (let i = start; i < start + n; i++) prev += x[i]!;
  prev /= n;
  out[start + n - 1] = prev;
  const k = 2 / (n + 1);
  for (let i = start + n; i < x.length; i++) {
    prev = (x[i]! - prev) * k + prev;
    out[i] = prev;
  }
  return out;
}

/** pandas ewm(span=n, adjust=False|True).mean(), written from pandas' documented weights. */
export function emaPandas(x: ArrayLike<number>, n: number, isAdjusted: boolean): number[] {
  const alpha = 2 / (n + 1);
  const out: number[] = [];
  for (let t = 0; t < x.length; t++) {
    if (isAdjusted) {
      // y_t = Σ (1−α)^i x_{t−i} / Σ (1−α)^i over the whole history (recomputed from scratch).
      let num = 0;
      let den = 0;
      for (let i = 0; i <= t; i++) {
        num += (1 - alpha) ** i * x[t - i]!;
        den += (1 - alpha) ** i;
      }
      out.push(num / den);
    } else {
      out.push(t === 0 ? x[0]! : (1 - alpha) * out[t - 1]! + alpha * x[t]!);
    }
  }
  return out;
}

export function wma(x: ArrayLike<number>, n: number): number[] {
  const out = nan(x.length);
  for (let i = n - 1; i < x.length; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += (k + 1) * x[i - n + 1 + k]!;
    out[i] = s / ((n * (n + 1)) / 2);
  }
  return out;
}

export function dema(x: ArrayLike<number>, n: number): number[] {
  const e1 = ema(x, n);
  const e2 = ema(e1, n);
  return e1.map((v, i) => 2 * v - e2[i]!);
}

export function tema(x: ArrayLike<number>, n: number): number[] {
  const e1 = ema(x, n);
  const e2 = ema(e1, n);
  const e3 = ema(e2, n);
  return e1.map((v, i) => 3 * v - 3 * e2[i]! + e3[i]!);
}

/** TA-Lib RSI loop (seedCount = n); seedCount 1 seeds with the first change (pandas ewm recipe). */
export function rsi(x: ArrayLike<number>, n: number, seedCount = n): number[] {
  const out = nan(x.length);
  if (x.length <= seedCount) return out;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= seedCount; i++) {
    const d = x[i]! - x[i - 1]!;
    if (d < 0) loss -= d;
    else gain += d;
  }
  gain /= seedCount;
  loss /= seedCount;
  out[seedCount] = Math.abs(gain + loss) < 1e-14 ? 0 : (100 * gain) / (gain + loss);
  for (let i = seedCount + 1; i < x.length; i++) {
    const d = x[i]! - x[i - 1]!;
    gain = (gain * (n - 1) + (d > 0 ? d : 0)) / n;
    loss = (loss * (n - 1) + (d < 0 ? -d : 0)) / n;
    out[i] = Math.abs(gain + loss) < 1e-14 ? 0 : (100 * gain) / (gain + loss);
  }
  return out;
}

/** TA-Lib MACD: both EMAs seeded on bar slow−1 (fast from the `fast` values ending there). */
export function macd(
  x: ArrayLike<number>,
  fast: number,
  slow: number,
  signal: number,
): { line: number[]; signal: number[]; histogram: number[] } {
  const len = x.length;
  const slowEma = ema(x, slow);
  const fastEma = nan(len);
  if (slow - 1 < len) {
    let prev = mean(windowOf(x, slow - 1, fast));
    fastEma[slow - 1] = prev;
    const k = 2 / (fast + 1);
    for (let i = slow; i < len; i++) {
      prev = (x[i]! - prev) * k + prev;
      fastEma[i] = prev;
    }
  }
  const rawLine = fastEma.map((v, i) => v - slowEma[i]!);
  const sig = ema(rawLine, signal);
  const first = slow + signal - 2;
  const line = rawLine.map((v, i) => (i >= first ? v : NaN));
  return { line, signal: sig, histogram: line.map((v, i) => v - sig[i]!) };
}

export function bbands(
  x: ArrayLike<number>,
  n: number,
  k: number,
): { upper: number[]; middle: number[]; lower: number[] } {
  const middle = sma(x, n);
  const sd = middle.map((_, i) => (i >= n - 1 ? popStd(windowOf(x, i, n)) : NaN));
  return { upper: middle.map((m, i) => m + k * sd[i]!), middle, lower: middle.map((m, i) => m - k * sd[i]!) };
}

const tr = (b: CandleColumns, i: number): number =>
  Math.max(
    b.high[i]! - b.low[i]!,
    Math.abs(b.high[i]! - b.close[i - 1]!),
    Math.abs(b.low[i]! - b.close[i - 1]!),
  );

export function atr(b: CandleColumns, n: number, seedCount = n): number[] {
  const out = nan(b.close.length);
  if (b.close.length <= seedCount) return out;
  let prev = 0;
  for (let i = 1; i <= seedCount; i++) prev += tr(b, i);
  prev /= seedCount;
  out[seedCount] = prev;
  for (let i = seedCount + 1; i < b.close.length; i++) {
    prev = (prev * (n - 1) + tr(b, i)) / n;
    out[i] = prev;
  }
  return out;
}

const highest = (b: CandleColumns, i: number, n: number): number => Math.max(...windowOf(b.high, i, n));
const lowest = (b: CandleColumns, i: number, n: number): number => Math.min(...windowOf(b.low, i, n));

export function stoch(
  b: CandleColumns,
  fastK: number,
  slowK: number,
  slowD: number,
): { k: number[]; d: number[] } {
  const len = b.close.length;
  const raw = nan(len);
  for (let i = fastK - 1; i < len; i++) {
    const hh = highest(b, i, fastK);
    const ll = lowest(b, i, fastK);
    raw[i] = hh - ll !== 0 ? (100 * (b.close[i]! - ll)) / (hh - ll) : 0;
  }
  const smaFrom = (x: number[], n: number, first: number): number[] =>
    x.map((_, i) => (i >= first + n - 1 ? mean(windowOf(x, i, n)) : NaN));
  const k = smaFrom(raw, slowK, fastK - 1);
  const d = smaFrom(k, slowD, fastK + slowK - 2);
  return { k: k.map((v, i) => (Number.isNaN(d[i]!) ? NaN : v)), d };
}

export function willr(b: CandleColumns, n: number): number[] {
  return Array.from(b.close, (c, i) => {
    if (i < n - 1) return NaN;
    const hh = highest(b, i, n);
    const ll = lowest(b, i, n);
    return hh - ll !== 0 ? (-100 * (hh - c)) / (hh - ll) : 0;
  });
}

export function cci(b: CandleColumns, n: number): number[] {
  const tp = Array.from(b.close, (c, i) => (b.high[i]! + b.low[i]! + c) / 3);
  return tp.map((v, i) => {
    if (i < n - 1) return NaN;
    const w = windowOf(tp, i, n);
    const m = mean(w);
    const md = w.reduce((s, x) => s + Math.abs(x - m), 0) / n;
    return v - m !== 0 && md !== 0 ? (v - m) / (0.015 * md) : 0;
  });
}

export function roc(x: ArrayLike<number>, n: number): number[] {
  return Array.from(x, (v, i) => (i < n ? NaN : x[i - n]! !== 0 ? (v / x[i - n]! - 1) * 100 : 0));
}

export function mom(x: ArrayLike<number>, n: number): number[] {
  return Array.from(x, (v, i) => (i < n ? NaN : v - x[i - n]!));
}

export function obv(b: CandleColumns): number[] {
  const out: number[] = [];
  let s = 0;
  for (let i = 0; i < b.close.length; i++) {
    if (i === 0) s = b.volume[0]!;
    else if (b.close[i]! > b.close[i - 1]!) s += b.volume[i]!;
    else if (b.close[i]! < b.close[i - 1]!) s -= b.volume[i]!;
    out.push(s);
  }
  return out;
}

/** TA-Lib ADX / PLUS_DI / MINUS_DI loops. */
export function adx(b: CandleColumns, n: number): { adx: number[]; plusDi: number[]; minusDi: number[] } {
  const len = b.close.length;
  const outAdx = nan(len);
  const plusDi = nan(len);
  const minusDi = nan(len);
  let pDm = 0;
  let mDm = 0;
  let trs = 0;
  let sumDx = 0;
  let prevAdx = NaN;
  const isZero = (v: number): boolean => Math.abs(v) < 1e-14;
  for (let i = 1; i < len; i++) {
    const up = b.high[i]! - b.high[i - 1]!;
    const down = b.low[i - 1]! - b.low[i]!;
    const plus = up > 0 && up > down ? up : 0;
    const minus = down > 0 && up < down ? down : 0;
    if (i < n) {
      pDm += plus;
      mDm += minus;
      trs += tr(b, i);
      continue;
    }
    pDm = pDm - pDm / n + plus;
    mDm = mDm - mDm / n + minus;
    trs = trs - trs / n + tr(b, i);
    let dx = NaN;
    plusDi[i] = 0;
    minusDi[i] = 0;
    if (!isZero(trs)) {
      plusDi[i] = (100 * pDm) / trs;
      minusDi[i] = (100 * mDm) / trs;
      const s = plusDi[i]! + minusDi[i]!;
      if (!isZero(s)) dx = (100 * Math.abs(minusDi[i]! - plusDi[i]!)) / s;
    }
    if (i < 2 * n) {
      if (!Number.isNaN(dx)) sumDx += dx;
      if (i === 2 * n - 1) prevAdx = sumDx / n;
    } else if (!Number.isNaN(dx)) {
      prevAdx = (prevAdx * (n - 1) + dx) / n;
    }
    if (i >= 2 * n - 1) outAdx[i] = prevAdx;
  }
  return { adx: outAdx, plusDi, minusDi };
}

export function vwapRolling(b: CandleColumns, n: number): number[] {
  const tp = Array.from(b.close, (c, i) => (b.high[i]! + b.low[i]! + c) / 3);
  return tp.map((_, i) => {
    if (i < n - 1) return NaN;
    let pv = 0;
    let v = 0;
    for (let k = i - n + 1; k <= i; k++) {
      pv += tp[k]! * b.volume[k]!;
      v += b.volume[k]!;
    }
    return v !== 0 ? pv / v : NaN;
  });
}

export function vwapSession(b: CandleColumns): number[] {
  let day = NaN;
  let pv = 0;
  let v = 0;
  return Array.from(b.close, (c, i) => {
    const d = Math.floor(b.time[i]! / 86_400_000);
    if (d !== day) {
      day = d;
      pv = 0;
      v = 0;
    }
    pv += ((b.high[i]! + b.low[i]! + c) / 3) * b.volume[i]!;
    v += b.volume[i]!;
    return v !== 0 ? pv / v : NaN;
  });
}

export function returns(x: ArrayLike<number>, n: number, isLog: boolean): number[] {
  return Array.from(x, (v, i) => (i < n ? NaN : isLog ? Math.log(v / x[i - n]!) : v / x[i - n]! - 1));
}

export function volatility(x: ArrayLike<number>, n: number, ddof: number): number[] {
  const r = returns(x, 1, true);
  return r.map((_, i) => (i < n ? NaN : popStd(windowOf(r, i, n), ddof)));
}

export function zscore(x: ArrayLike<number>, n: number, ddof: number): number[] {
  return Array.from(x, (v, i) => {
    if (i < n - 1) return NaN;
    const w = windowOf(x, i, n);
    // A constant window has σ = 0 exactly (the two-pass formula can leave rounding dust).
    const sd = Math.min(...w) === Math.max(...w) ? 0 : popStd(w, ddof);
    return sd > 0 ? (v - mean(w)) / sd : 0;
  });
}
