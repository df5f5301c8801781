import { ExactSum, scaledVariance } from '../exact-sum.ts';

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

  /** Stores x and returns the value it evicted (NaN while not yet full). */
  push(x: number): number {
    const old = this.count === this.period ? this.data[this.head]! : NaN;
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

/** Simple moving average with an exact window sum (see exact-sum.ts): depends only on the window. */
export class RollingMean {
  readonly ring: Ring;
  readonly sum = new ExactSum();

  constructor(period: number) {
    this.ring = new Ring(period);
  }

  push(x: number): number {
    const old = this.ring.push(x);
    this.sum.add(x);
    if (!Number.isNaN(old)) this.sum.add(-old);
    return this.ring.isFull() ? this.sum.value() / this.ring.period : NaN;
  }
}

/** Rolling mean and variance from exact Σx and Σx² (variance via double-double, never negative). */
export class RollingMoments {
  readonly ring: Ring;
  readonly sum = new ExactSum();
  readonly sumSquares = new ExactSum();
  private readonly scratch = new ExactSum();
  mean = NaN;
  /** n·Σx² − (Σx)²; population variance = scaled / n², sample = scaled / (n(n−1)). */
  scaled = NaN;

  constructor(period: number) {
    this.ring = new Ring(period);
  }

  /** Returns true when the window is full and mean/scaled are valid. */
  push(x: number): boolean {
    const old = this.ring.push(x);
    this.sum.add(x);
    this.sumSquares.addProduct(x, x);
    if (!Number.isNaN(old)) {
      this.sum.add(-old);
      this.sumSquares.addProduct(-old, old);
    }
    if (!this.ring.isFull()) return false;
    const n = this.ring.period;
    this.mean = this.sum.value() / n;
    this.scaled = scaledVariance(n, this.sum, this.sumSquares);
    return true;
  }

  /**
   * n·x − Σx, exact then rounded once: n times the distance of x from the window mean without the
   * rounding of the mean itself (which alone can turn a real half-ulp deviation into 0).
   */
  scaledDistance(x: number): number {
    const s = this.scratch;
    s.reset();
    s.addSum(this.sum, -1);
    s.addProduct(this.ring.period, x);
    return s.value();
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

  constructor(period: number, seed: EmaSeed = 'sma', isAdjusted = false, seedAt = period) {
    this.alpha = 2 / (period + 1);
    this.seed = seed;
    this.isAdjusted = isAdjusted;
    this.seedAt = seedAt;
    this.seedMean = seed === 'sma' && !isAdjusted ? new RollingMean(period) : null;
  }

  push(x: number): number {
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
 * Wilder's smoothing (RSI, ATR): seeded with the plain mean of the first `period` inputs,
 * then y = (y·(period − 1) + x) / period, TA-Lib's expression.
 */
export class WilderAverage {
  private readonly period: number;
  private seen = 0;
  private seedSum = 0;
  value = NaN;

  constructor(period: number) {
    this.period = period;
  }

  push(x: number): number {
    this.seen++;
    if (this.seen < this.period) {
      this.seedSum += x;
      return NaN;
    }
    if (this.seen === this.period) {
      this.value = (this.seedSum + x) / this.period;
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
