import { z } from 'zod';
import { appError } from '../../../shared/errors.ts';

/**
 * Label definitions (`--label`), all on the forward close-to-close return over H bars,
 * r[t] = close[t + H] / close[t] - 1, known only at bar t + H (so a row's label "occupies" bars
 * t+1..t+H: the purge in walk-forward evaluation is sized from H):
 * - `sign:H`          1 when r[t] > 0, else 0 (binary)
 * - `above:H:X`       1 when r[t] > X (e.g. 0.002 = 0.2 %), else 0 (binary)
 * - `return:H`        r[t] itself (regression)
 */

export const MAX_HORIZON = 10_000;

export const labelDefinitionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sign'), horizon: z.number().int().min(1).max(MAX_HORIZON) }).strict(),
  z
    .object({
      kind: z.literal('above'),
      horizon: z.number().int().min(1).max(MAX_HORIZON),
      threshold: z.number().finite().min(-1).max(100),
    })
    .strict(),
  z.object({ kind: z.literal('return'), horizon: z.number().int().min(1).max(MAX_HORIZON) }).strict(),
]);
export type LabelDefinition = z.infer<typeof labelDefinitionSchema>;

export function parseLabel(text: string): LabelDefinition {
  const parts = text.trim().split(':');
  const usage = `label '${text}' is not one of sign:H, above:H:THRESHOLD, return:H (H a whole number of bars 1..${MAX_HORIZON}, THRESHOLD a return such as 0.002)`;
  const horizon = Number(parts[1]);
  if (parts.length < 2 || !Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON)
    throw appError('BAD_INPUT', usage);
  if (parts[0] === 'sign' && parts.length === 2) return { kind: 'sign', horizon };
  if (parts[0] === 'return' && parts.length === 2) return { kind: 'return', horizon };
  if (parts[0] === 'above' && parts.length === 3 && parts[2] !== '') {
    const threshold = Number(parts[2]);
    if (Number.isFinite(threshold) && threshold > -1 && threshold <= 100)
      return { kind: 'above', horizon, threshold };
  }
  throw appError('BAD_INPUT', usage);
}

export function formatLabel(label: LabelDefinition): string {
  return label.kind === 'above'
    ? `above:${label.horizon}:${label.threshold}`
    : `${label.kind}:${label.horizon}`;
}

export function isClassification(label: LabelDefinition): boolean {
  return label.kind !== 'return';
}

/** Forward returns over H bars; NaN for the last H bars (no label yet). */
export function forwardReturns(close: Float64Array, horizon: number): Float64Array {
  const n = close.length;
  const out = new Float64Array(n).fill(Number.NaN);
  for (let t = 0; t + horizon < n; t++) out[t] = close[t + horizon]! / close[t]! - 1;
  return out;
}

/** Label per bar (NaN where the horizon runs past the data). */
export function computeLabels(close: Float64Array, label: LabelDefinition): Float64Array {
  const r = forwardReturns(close, label.horizon);
  if (label.kind === 'return') return r;
  const cut = label.kind === 'above' ? label.threshold : 0;
  return r.map((v) => (Number.isNaN(v) ? Number.NaN : v > cut ? 1 : 0));
}
