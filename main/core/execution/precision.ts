/**
 * Rounding to a market's increments. Floating point makes `Math.floor(q / step) * step` drift
 * (0.3 / 0.1 = 2.9999999999999996), so we count decimals of the step and round the quotient with
 * a tiny relative tolerance, then print with the step's decimals so results are exact decimals.
 */

/** Number of decimals needed to write step exactly (0.001 -> 3, 5 -> 0, 1e-8 -> 8). */
export function stepDecimals(step: number): number {
  if (!(step > 0) || !Number.isFinite(step))
    throw new Error(`step must be a positive finite number, got ${step}`);
  if (Number.isInteger(step)) return 0;
  const text = step.toExponential();
  const [mantissa, exponentText] = text.split('e');
  const exponent = Number(exponentText);
  const mantissaDecimals = (mantissa!.split('.')[1] ?? '').length;
  return Math.max(0, mantissaDecimals - exponent);
}

// Quotients within this relative distance of an integer are that integer (float noise, not value).
const QUOTIENT_EPSILON = 1e-9;
// Below this |n x units| the double n * step is within half a unit of the step's last decimal of
// the exact decimal n x step, so printing it with the step's decimals gives that exact decimal, and
// parsing it back gives the same double as dividing the integer n x units by 10^decimals (both are
// correctly rounded values of the same rational).
const EXACT_UNITS_LIMIT = 2 ** 50;

/**
 * Rounding to one step, with the step's decimals worked out once (an order manager keeps one grid
 * per step instead of printing the step for every order). Same results as the functions below.
 */
export class StepGrid {
  readonly step: number;
  readonly decimals: number;
  /** step = units / scale exactly; 0 when the step has no such form (results then go through toFixed). */
  private readonly units: number;
  private readonly scale: number;

  constructor(step: number) {
    this.step = step;
    this.decimals = stepDecimals(step);
    this.scale = 10 ** this.decimals;
    const units = Math.round(step * this.scale);
    this.units =
      this.decimals <= 15 && Number.isSafeInteger(units) && units / this.scale === step ? units : 0;
  }

  floor(value: number): number {
    return this.snap(value, 'floor');
  }

  ceil(value: number): number {
    return this.snap(value, 'ceil');
  }

  nearest(value: number): number {
    return this.snap(value, 'nearest');
  }

  private snap(value: number, mode: 'floor' | 'ceil' | 'nearest'): number {
    const step = this.step;
    const q = value / step;
    const nearest = Math.round(q);
    let n: number;
    if (Math.abs(q - nearest) <= QUOTIENT_EPSILON * Math.max(1, Math.abs(q))) n = nearest;
    else if (mode === 'floor') n = Math.floor(q);
    else if (mode === 'ceil') n = Math.ceil(q);
    else n = nearest;
    const scaled = n * this.units;
    // + 0: a zero result is +0, as Number('0.000') is (-0 would print the same but is not the same value).
    if (this.units > 0 && Math.abs(scaled) < EXACT_UNITS_LIMIT) return scaled / this.scale + 0;
    return Number((n * step).toFixed(Math.min(this.decimals, 100)));
  }
}

function snap(value: number, step: number, mode: 'floor' | 'ceil' | 'nearest'): number {
  const q = value / step;
  const nearest = Math.round(q);
  let n: number;
  if (Math.abs(q - nearest) <= QUOTIENT_EPSILON * Math.max(1, Math.abs(q))) n = nearest;
  else if (mode === 'floor') n = Math.floor(q);
  else if (mode === 'ceil') n = Math.ceil(q);
  else n = nearest;
  const decimals = stepDecimals(step);
  return Number((n * step).toFixed(Math.min(decimals, 100)));
}

/** Largest multiple of step <= value (quantities: never send more than asked). */
export function floorToStep(value: number, step: number): number {
  return snap(value, step, 'floor');
}

export function ceilToStep(value: number, step: number): number {
  return snap(value, step, 'ceil');
}

/** Nearest multiple of step (prices). */
export function roundToStep(value: number, step: number): number {
  return snap(value, step, 'nearest');
}

/** Buy limits round down and sell limits up: rounding never makes the price worse for us. */
export function roundPriceForSide(price: number, tickSize: number, side: 'buy' | 'sell'): number {
  return side === 'buy' ? floorToStep(price, tickSize) : ceilToStep(price, tickSize);
}

export function isMultipleOfStep(value: number, step: number): boolean {
  const q = value / step;
  return Math.abs(q - Math.round(q)) <= QUOTIENT_EPSILON * Math.max(1, Math.abs(q));
}
