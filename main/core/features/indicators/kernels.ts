import { ExactSum, SPLITTER } from '../exact-sum.ts';

/**
 * Small streaming building blocks shared by the indicators. Each `push` is O(1) (the rolling
 * min/max is amortised O(1)) and returns NaN until it has enough input.
 */

/** The last `period` values in a ring. */
export class Ring {
  readonly period: number;
  readonly data: Float64Array;
  /** Values pushed so far (saturates at period). */
  count = 0;
  private head = 0;

  constructor(period: number) {
    this.period = period;
    this.data = new Float64Array(period);
  }

  /**
   * Stores x and returns the value it evicted. While the ring is not yet full nothing is evicted
   * and it returns 0 (check isFull() before pushing); values may themselves be NaN.
   */
  push(x: number): number {
    const old = this.count === this.period ? this.data[this.head]! : 0;
    this.data[this.head] = x;
    this.head = this.head + 1 === this.period ? 0 : this.head + 1;
    if (this.count < this.period) this.count++;
    return old;
  }

  isFull(): boolean {
    return this.count === this.period;
  }

  /** Value `back` bars before the latest (0 = latest). */
  at(back: number): number {
    let index = this.head - 1 - back;
    if (index < 0) index += this.period;
    return this.data[index]!;
  }
}

/** x − x is 0 for a finite x and NaN for NaN and ±Infinity. */
export function isFiniteNumber(x: number): boolean {
  return x - x === 0;
}

/**
 * Simple moving average with an exact window sum (see exact-sum.ts): the correctly rounded mean
 * of the window, whatever came before. A non-finite input (e.g. the log return of a zero price)
 * is kept out of the sum and makes the mean NaN until it leaves the window.
 */
export class RollingMean {
  readonly ring: Ring;
  readonly sum = new ExactSum();
  private nonFinite = 0;

  constructor(period: number) {
    this.ring = new Ring(period);
  }

  push(x: number): number {
    // Hot path kept small so V8 inlines it into the indicator loops (a call that is not inlined
    // boxes its double argument and result): a full window of finite values and a finite x.
    const ring = this.ring;
    if (this.nonFinite === 0 && ring.count === ring.period && x - x === 0) {
      this.sum.replace(x, ring.push(x)); // the evicted value is finite: nonFinite counts the window
      return this.sum.quotient(ring.period);
    }
    return this.pushWarmingOrNonFinite(x);
  }

  private pushWarmingOrNonFinite(x: number): number {
    const wasFull = this.ring.isFull();
    let old = this.ring.push(x);
    let value = x;
    if (!isFiniteNumber(x)) {
      this.nonFinite++;
      value = 0;
    }
    if (!isFiniteNumber(old)) {
      this.nonFinite--;
      old = 0;
    }
    if (wasFull) this.sum.replace(value, old);
    else this.sum.add(value);
    return this.ring.isFull() && this.nonFinite === 0 ? this.sum.quotient(this.ring.period) : NaN;
  }
}

/**
 * Rolling mean and variance. Σx is exact (so the mean is the correctly rounded window mean, as
 * RollingMean); Σx² is a running double-double (~106 bits: after a million bars its error is
 * ~1e-26 of Σx², far below the last bit of σ), because an exact Σx² costs 3-5x more per bar.
 * A window of identical values is detected and gets σ exactly 0.
 *
 * The exact products (Dekker's twoProduct, exact-sum.ts) are written out here with locals: through
 * its Float64Array out-parameter and calls V8 did not inline, a push cost ~1.5x more.
 */
export class RollingMoments {
  readonly ring: Ring;
  readonly sum = new ExactSum();
  private readonly scratch = new ExactSum();
  private squaresHi = 0;
  private squaresLo = 0;
  private previous = NaN;
  private equalRun = 0;
  private nonFinite = 0;
  /** The period split as twoProduct splits it (constant, so computed once). */
  private readonly periodHi: number;
  private readonly periodLo: number;
  mean = NaN;
  /** n·Σx² − (Σx)²; population variance = scaled / n², sample = scaled / (n(n−1)). */
  scaled = NaN;

  constructor(period: number) {
    this.ring = new Ring(period);
    const t = SPLITTER * period;
    this.periodHi = t - (t - period);
    this.periodLo = period - this.periodHi;
  }

  /** Σx² += sign·x², x² taken exactly (twoProduct) into the double-double (squaresHi, squaresLo). */
  private addSquare(x: number, sign: number): void {
    const square = x * x;
    const t = SPLITTER * x;
    const xHi = t - (t - x);
    const xLo = x - xHi;
    const p = sign * square;
    const e = sign * (xLo * xLo - (square - xHi * xHi - xLo * xHi - xHi * xLo));
    const hi = this.squaresHi;
    const s = hi + p;
    const bv = s - hi;
    const lo = this.squaresLo + (hi - (s - bv) + (p - bv)) + e;
    const h2 = s + lo;
    this.squaresLo = lo - (h2 - s);
    this.squaresHi = h2;
  }

  /**
   * Returns true when the window is full and mean/scaled are valid. A non-finite input is kept out
   * of the sums; while one is in the window the result is false (no value).
   */
  push(x: number): boolean {
    const ring = this.ring;
    if (this.nonFinite === 0 && ring.count === ring.period && x - x === 0) {
      // Hot path: a full window of finite values (the evicted one is finite) and a finite x.
      const old = ring.push(x);
      this.addSquare(x, 1);
      this.sum.replace(x, old);
      this.addSquare(old, -1);
      return this.update(x);
    }
    return this.pushWarmingOrNonFinite(x);
  }

  private pushWarmingOrNonFinite(x: number): boolean {
    const wasFull = this.ring.isFull();
    let old = this.ring.push(x);
    let value = x;
    if (!isFiniteNumber(x)) {
      this.nonFinite++;
      value = 0;
    }
    if (!isFiniteNumber(old)) {
      this.nonFinite--;
      old = 0;
    }
    this.addSquare(value, 1);
    if (wasFull) {
      this.sum.replace(value, old);
      this.addSquare(old, -1);
    } else {
      this.sum.add(value);
    }
    if (this.ring.isFull() && this.nonFinite === 0) return this.update(x);
    this.equalRun = x === this.previous ? this.equalRun + 1 : 1;
    this.previous = x;
    return false;
  }

  /** After a push into a full window of finite values: mean and scaled. */
  private update(x: number): boolean {
    this.equalRun = x === this.previous ? this.equalRun + 1 : 1;
    this.previous = x;
    const n = this.ring.period;
    if (this.equalRun >= n) {
      this.mean = x;
      this.scaled = 0;
      return true;
    }
    this.mean = this.sum.quotient(n);
    this.scaled = this.scaledVariance();
    return true;
  }

  /**
   * n·Σx² − (Σx)² in double-double arithmetic: the cancellation that ruins the textbook formula
   * on prices (mean² ≫ variance) costs ~25 of 106 bits here, not 25 of 53. Never negative.
   */
  private scaledVariance(): number {
    // Σx as a double-double (sHi, sLo): its partials summed with TwoSum.
    const partials = this.sum.partials;
    const count = this.sum.count;
    let sHi: number;
    let sLo = 0;
    if (count <= 1) {
      sHi = count === 1 ? partials[0]! : 0;
    } else {
      let s = 0;
      let e = 0;
      for (let j = 0; j < count; j++) {
        const y = partials[j]!;
        const t = s + y;
        const bv = t - s;
        e += s - (t - bv) + (y - bv);
        s = t;
      }
      sHi = s + e;
      sLo = e - (sHi - s);
    }
    const n = this.ring.period;
    const nHi = this.periodHi;
    const nLo = this.periodLo;
    // n·Σx² = p1 + p2 (twoProduct(n, squaresHi) plus n·squaresLo).
    const b = this.squaresHi;
    const p1 = n * b;
    let t = SPLITTER * b;
    const bHi = t - (t - b);
    const bLo = b - bHi;
    const p2 = nLo * bLo - (p1 - nHi * bHi - nLo * bHi - nHi * bLo) + n * this.squaresLo;
    // (Σx)² = q1 + q2 (twoProduct(sHi, sHi) plus the cross terms).
    const q1 = sHi * sHi;
    t = SPLITTER * sHi;
    const hHi = t - (t - sHi);
    const hLo = sHi - hHi;
    const q2 = hLo * hLo - (q1 - hHi * hHi - hLo * hHi - hHi * hLo) + 2 * sHi * sLo + sLo * sLo;
    const d1 = p1 - q1;
    const bv = d1 - p1;
    const err = p1 - (d1 - bv) + (-q1 - bv);
    const result = d1 + (err + p2 - q2);
    return result > 0 ? result : 0;
  }

  /**
   * n·x − Σx, exact then rounded once: n times the distance of x from the window mean without the
   * rounding of the mean itself (which alone can turn a real half-ulp deviation into 0).
   */
  scaledDistance(x: number): number {
    const s = this.scratch;
    s.copyFrom(this.sum);
    s.addProduct(-this.ring.period, x);
    return -s.value();
  }

  /** Standard deviation with `ddof` (0 population, 1 sample) of the current window. */
  std(ddof: number): number {
    const n = this.ring.period;
    return Math.sqrt(this.scaled / (n * (n - ddof)));
  }
}

export type EmaSeed = 'sma' | 'first';

/**
 * Exponential moving average, alpha = 2 / (period + 1).
 * - seed 'sma' (TA-Lib): the first output is the SMA of the first `period` inputs (or, with
 *   `seedAt` > period, of the `period` inputs ending at input number `seedAt`, which is how
 *   TA-Lib's MACD seeds its fast EMA); then y += (x − y)·alpha, TA-Lib's exact expression.
 * - seed 'first' (pandas ewm(adjust=False)): y0 = x0, outputs from the first input.
 * - adjust (pandas ewm(adjust=True)): y = Σ(1−alpha)^i·x_{t−i} / Σ(1−alpha)^i, outputs from the first input.
 */
export class Ema {
  readonly alpha: number;
  private readonly seed: EmaSeed;
  private readonly isAdjusted: boolean;
  private readonly seedAt: number;
  private readonly seedMean: RollingMean | null;
  private seen = 0;
  private value = NaN;
  private weight = 0;
  /** Past the seed: every push is y += (x − y)·alpha. */
  private isRecursive = false;

  constructor(period: number, seed: EmaSeed = 'sma', isAdjusted = false, seedAt = period) {
    this.alpha = 2 / (period + 1);
    this.seed = seed;
    this.isAdjusted = isAdjusted;
    this.seedAt = seedAt;
    this.seedMean = seed === 'sma' && !isAdjusted ? new RollingMean(period) : null;
  }

  push(x: number): number {
    // Hot path (after the seed) kept tiny so it inlines; warm-up and adjust=True go the long way.
    if (this.isRecursive) {
      const value = (x - this.value) * this.alpha + this.value;
      this.value = value;
      return value;
    }
    const result = this.pushSeeding(x);
    this.isRecursive =
      !this.isAdjusted && (this.seen >= this.seedAt || (this.seed === 'first' && this.seen >= 1));
    return result;
  }

  private pushSeeding(x: number): number {
    this.seen++;
    if (this.isAdjusted) {
      const decay = 1 - this.alpha;
      this.value = this.seen === 1 ? x : x + decay * this.value;
      this.weight = this.seen === 1 ? 1 : 1 + decay * this.weight;
      return this.value / this.weight;
    }
    if (this.seen > this.seedAt || (this.seed === 'first' && this.seen > 1)) {
      this.value = (x - this.value) * this.alpha + this.value;
      return this.value;
    }
    if (this.seed === 'first') {
      this.value = x;
      return x;
    }
    const mean = this.seedMean!.push(x);
    if (this.seen === this.seedAt) this.value = mean;
    return this.seen === this.seedAt ? mean : NaN;
  }
}

/**
 * Wilder's smoothing (RSI, ATR): seeded with the plain mean of the first `seedCount` inputs
 * (TA-Lib: seedCount = period; pandas ewm(alpha=1/period, adjust=False): seedCount = 1, the first
 * input), then y = (y·(period − 1) + x) / period, TA-Lib's expression.
 */
export class WilderAverage {
  private readonly period: number;
  private readonly seedCount: number;
  private seen = 0;
  private seedSum = 0;
  value = NaN;

  constructor(period: number, seedCount = period) {
    this.period = period;
    this.seedCount = seedCount;
  }

  push(x: number): number {
    this.seen++;
    if (this.seen < this.seedCount) {
      this.seedSum += x;
      return NaN;
    }
    if (this.seen === this.seedCount) {
      this.value = (this.seedSum + x) / this.seedCount;
      return this.value;
    }
    this.value = (this.value * (this.period - 1) + x) / this.period;
    return this.value;
  }
}

/** Rolling maximum (isMax) or minimum over `period` values, monotonic deque: amortised O(1). */
export class RollingExtreme {
  private readonly period: number;
  private readonly isMax: boolean;
  private readonly values: Float64Array;
  private readonly indexes: Float64Array;
  private front = 0;
  private size = 0;
  private seen = 0;

  constructor(period: number, isMax: boolean) {
    this.period = period;
    this.isMax = isMax;
    this.values = new Float64Array(period + 1);
    this.indexes = new Float64Array(period + 1);
  }

  push(x: number): number {
    const cap = this.period + 1;
    const index = this.seen++;
    // Drop the front if it left the window.
    if (this.size > 0 && this.indexes[this.front]! <= index - this.period) {
      this.front = this.front + 1 === cap ? 0 : this.front + 1;
      this.size--;
    }
    // Drop from the back every value the new one dominates.
    while (this.size > 0) {
      let back = this.front + this.size - 1;
      if (back >= cap) back -= cap;
      const v = this.values[back]!;
      if (this.isMax ? v <= x : v >= x) this.size--;
      else break;
    }
    let slot = this.front + this.size;
    if (slot >= cap) slot -= cap;
    this.values[slot] = x;
    this.indexes[slot] = index;
    this.size++;
    return this.seen >= this.period ? this.values[this.front]! : NaN;
  }
}
