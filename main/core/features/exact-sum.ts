/**
 * Exact running sums for rolling windows.
 *
 * A naive running sum (`sum += x_new - x_old`) drifts: after a million bars its value depends on
 * the whole history, so two windows holding the same numbers can give averages that differ in the
 * last bits, and a crossover rule (`sma(10) > sma(20)`) can fire on rounding noise. Here the sum is
 * kept *exactly* as a floating-point expansion (Shewchuk's non-overlapping partials, the algorithm
 * behind Python's math.fsum): adding and removing values never loses a bit, and `value()` returns
 * the exact sum correctly rounded to a double. So a rolling mean depends only on the values in its
 * window, never on what came before, and two windows whose exact sums are equal give bit-identical
 * means. Each add costs O(p) for p partials; for market data p stays at 1..4.
 */

import { appError } from '../../../shared/errors.ts';

/** 2^27 + 1, Dekker's split for twoProduct without FMA. */
export const SPLITTER = 134217729;

/** Exact product a*b as hi + lo (Dekker). Valid while |a*b| is far from overflow. */
export function twoProduct(a: number, b: number, out: Float64Array): void {
  const p = a * b;
  let t = SPLITTER * a;
  const aHi = t - (t - a);
  const aLo = a - aHi;
  t = SPLITTER * b;
  const bHi = t - (t - b);
  const bLo = b - bHi;
  out[0] = p;
  out[1] = aLo * bLo - (p - aHi * bHi - aLo * bHi - aHi * bLo);
}

const MAX_PARTIALS = 64; // non-overlapping doubles span at most ~2100/53 partials; 64 is ample

function failNonFinite(value: number): never {
  throw appError('INTERNAL', `ExactSum.add got a non-finite value (${value}).`);
}

export class ExactSum {
  /** Non-overlapping partials in increasing magnitude; partials[0..count) are live. */
  readonly partials = new Float64Array(MAX_PARTIALS);
  count = 0;
  private readonly product = new Float64Array(2);

  reset(): void {
    this.count = 0;
  }

  add(value: number): void {
    if (value === 0) return;
    // A NaN/Infinity would turn every partial into NaN and grow the expansion without bound;
    // callers keep non-finite values out (see kernels.ts), so one here is a bug: fail loudly.
    // (The throw lives in its own function so add stays small enough for V8 to inline.)
    if (value - value !== 0) failNonFinite(value);
    const p = this.partials;
    let x = value;
    let i = 0;
    const count = this.count;
    for (let j = 0; j < count; j++) {
      // Knuth's branch-free TwoSum: hi + lo == x + y exactly, whatever their magnitudes
      // (no |x| < |y| swap, whose branch mispredicts on market data).
      const y = p[j]!;
      const hi = x + y;
      const bv = hi - x;
      const lo = x - (hi - bv) + (y - bv);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    p[i] = x;
    this.count = i + 1;
  }

  /**
   * Adds x and removes old (a window slide) exactly. x − old is computed with twoSum; for two
   * prices within a factor of 2 it is exact (Sterbenz), so usually one add instead of two.
   */
  replace(x: number, old: number): void {
    const d = x - old;
    const bv = d - x;
    const e = x - (d - bv) + (-old - bv);
    this.add(d);
    if (e !== 0) this.add(e);
  }

  /** Adds a*b exactly. */
  addProduct(a: number, b: number): void {
    twoProduct(a, b, this.product);
    this.add(this.product[0]!);
    this.add(this.product[1]!);
  }

  /** Adds (sign = 1) or subtracts (sign = -1) another exact sum exactly. */
  addSum(other: ExactSum, sign: 1 | -1): void {
    const n = other.count;
    for (let j = 0; j < n; j++) this.add(sign * other.partials[j]!);
  }

  /**
   * The exact sum divided by n, rounded to the nearest double. From S as a double-double (hi, lo):
   * q0 = hi/n, then the residual S − n·q0 (hi − p1 is exact by Sterbenz's lemma, p1 + p2 = n·q0
   * exactly) corrects q0. The result is the correctly rounded mean except when the exact mean lies
   * within ~1e-15 ulp of a rounding midpoint; so equal exact means give equal results whatever the
   * window lengths, and a constant window gives exactly its value.
   */
  quotient(n: number): number {
    const p = this.partials;
    const count = this.count;
    if (count === 0) return 0;
    // S as a double-double (hi, lo): partials summed upwards with TwoSum.
    let hi = p[0]!;
    let lo = 0;
    for (let j = 1; j < count; j++) {
      const y = p[j]!;
      const t = hi + y;
      const bv = t - hi;
      lo += hi - (t - bv) + (y - bv);
      hi = t;
    }
    const h = hi + lo;
    lo -= h - hi;
    hi = h;
    const q0 = hi / n;
    // n·q0 = p1 + p2 exactly (Dekker's twoProduct, inlined to stay in registers).
    const p1 = n * q0;
    let t = SPLITTER * n;
    const nHi = t - (t - n);
    const nLo = n - nHi;
    t = SPLITTER * q0;
    const qHi = t - (t - q0);
    const qLo = q0 - qHi;
    const p2 = nLo * qLo - (p1 - nHi * qHi - nLo * qHi - nHi * qLo);
    const residual = hi - p1 - p2 + lo;
    return residual === 0 ? q0 : q0 + residual / n;
  }

  copyFrom(other: ExactSum): void {
    const n = other.count;
    for (let j = 0; j < n; j++) this.partials[j] = other.partials[j]!;
    this.count = n;
  }

  /** The exact sum rounded to the nearest double (ties to even), as math.fsum. */
  value(): number {
    const p = this.partials;
    let n = this.count;
    if (n === 0) return 0;
    n--;
    let hi = p[n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      n--;
      const y = p[n]!;
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      const yr = x - hi;
      if (y === yr) hi = x;
    }
    return hi;
  }
}
