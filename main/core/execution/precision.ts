/**
 * Rounding to a market's increments. Floating point makes `Math.floor(q / step) * step` drift
 * (0.3 / 0.1 = 2.9999999999999996), so we count decimals of the step and round the quotient with
 * a tiny relative tolerance, then print with the step's decimals so results are exact decimals.
 */

/** Number of decimals needed to write step exactly (0.001 -> 3, 5 -> 0, 1e-8 -> 8). */
export function stepDecimals(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) throw new Error(`step must be a positive finite number, got ${step}`);
  if (Number.isInteger(step)) return 0;
  const text = step.toExponential();
  const [mantissa, exponentText] = text.split('e');
  const exponent = Number(exponentText);
  const mantissaDecimals = (mantissa!.split('.')[1] ?? '').length;
  return Math.max(0, mantissaDecimals - exponent);
}

// Quotients within this relative distance of an integer are that integer (float noise, not value).
const QUOTIENT_EPSILON = 1e-9;

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
