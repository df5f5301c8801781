import { appError } from '../../../shared/errors.ts';
import { type FeatureSpec, type Normalisation, featureSpecSchema } from '../../../shared/feature-spec.ts';
import { createIndicator, featureOutputs, resolveParams } from './catalog.ts';
import { type Bar, type CandleColumns, type Indicator, runIndicator } from './types.ts';

/**
 * The feature pipeline: one definition (a model card's feature spec) turned into model inputs the
 * same way for training, backtests and live trading.
 *
 *   computeFeatureColumns(bars, spec)     -> one Float64Array per column (batch, whole history)
 *   buildModelInputs(columns, spec, rows) -> Float32Array N x F (tabular) or N x W x F (window), normalised
 *   new FeaturePipeline(spec).update(bar) -> the latest input vector (streaming, O(1) per bar)
 *
 * Both paths run the same indicator objects (types.ts), so a live vector equals the batch row for
 * the same bar bit for bit (tested in pipeline.test.ts).
 */

export type { Bar, CandleColumns } from './types.ts';

export interface FeatureColumns {
  /** Column names in model order: the feature name, or `<name>.<output>` for each output of a multi-output feature. */
  names: string[];
  /** One column per name, aligned with the bars; NaN during each indicator's warm-up. */
  columns: Float64Array[];
}

/** Parses and checks a spec (e.g. a card's `featureSpec` or a user's spec.json); FEATURE_INVALID names the field. */
export function parseFeatureSpec(value: unknown): FeatureSpec {
  const parsed = featureSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw appError('FEATURE_INVALID', `Feature spec invalid at ${path}: ${issue.message}`, {
      path: issue.path.map(String),
      issues: parsed.error.issues.length,
    });
  }
  const spec = parsed.data;
  for (const feature of spec.features) resolveParams(feature);
  const names = featureColumnNames(spec); // validates every output
  const n = spec.normalisation;
  const length = n.kind === 'zscore' ? n.mean.length : n.kind === 'minmax' ? n.min.length : names.length;
  if (length !== names.length) {
    throw appError(
      'FEATURE_INVALID',
      `Feature spec invalid at normalisation: ${length} entries for ${names.length} columns (${names.join(', ')}).`,
      { path: ['normalisation'] },
    );
  }
  return spec;
}

/** The column names a spec produces, in model order. */
export function featureColumnNames(spec: FeatureSpec): string[] {
  return spec.features.flatMap((f) => featureOutputs(f).names);
}

/** Bars must be finite numbers: a NaN price would silently poison every recursive indicator. */
export function checkBars(bars: CandleColumns): void {
  const n = bars.close.length;
  const fields = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
  for (const field of fields) {
    const column = bars[field];
    if (column.length !== n)
      throw appError(
        'DATA_INVALID',
        `Bar column '${field}' has ${column.length} values but 'close' has ${n}.`,
      );
    const bad = firstNonFinite(column);
    if (bad >= 0)
      throw appError(
        'DATA_INVALID',
        `Bar ${bad} has a non-finite ${field} (${column[bad]}); fill or drop it before computing features.`,
        { row: bad, field },
      );
  }
}

/** Index of the first NaN/±Infinity, or −1. x − x is 0 for finite x and NaN otherwise. */
function firstNonFinite(column: Float64Array): number {
  let probe = 0;
  for (let i = 0; i < column.length; i++) probe += column[i]! - column[i]!;
  if (probe === 0) return -1;
  for (let i = 0; i < column.length; i++) if (!Number.isFinite(column[i]!)) return i;
  return -1;
}

/** Batch: every feature column over the whole series. */
export function computeFeatureColumns(bars: CandleColumns, spec: FeatureSpec): FeatureColumns {
  checkBars(bars);
  const names: string[] = [];
  const columns: Float64Array[] = [];
  for (const feature of spec.features) {
    const outputs = featureOutputs(feature);
    const all = runIndicator(createIndicator(feature), bars);
    names.push(...outputs.names);
    for (const index of outputs.outputIndexes) columns.push(all[index]!);
  }
  return { names, columns };
}

function windowBars(spec: FeatureSpec): number {
  return spec.layout.kind === 'window' ? spec.layout.windowBars : 1;
}

/** Rows that can feed the model: every column finite on the row and on the window's earlier rows. */
export function completeRows(columns: readonly Float64Array[], spec: FeatureSpec): Int32Array {
  const n = columns[0]?.length ?? 0;
  const window = windowBars(spec);
  const rows: number[] = [];
  let finiteRun = 0;
  for (let i = 0; i < n; i++) {
    let isFinite = true;
    for (const column of columns) {
      if (!Number.isFinite(column[i]!)) {
        isFinite = false;
        break;
      }
    }
    finiteRun = isFinite ? finiteRun + 1 : 0;
    if (finiteRun >= window) rows.push(i);
  }
  return Int32Array.from(rows);
}

/** Shape of buildModelInputs' result for `rowCount` rows. */
export function modelInputShape(spec: FeatureSpec, rowCount: number): number[] {
  const width = featureColumnNames(spec).length;
  return spec.layout.kind === 'window' ? [rowCount, spec.layout.windowBars, width] : [rowCount, width];
}

/** Normalises one raw value of column `c` as the spec says. */
export function normaliseValue(normalisation: Normalisation, c: number, x: number): number {
  if (normalisation.kind === 'zscore') return (x - normalisation.mean[c]!) / normalisation.std[c]!;
  if (normalisation.kind === 'minmax')
    return (x - normalisation.min[c]!) / (normalisation.max[c]! - normalisation.min[c]!);
  return x;
}

/**
 * Model inputs for the given rows (default: completeRows), normalised, row-major:
 * tabular [row][column], window [row][bar oldest..newest][column]. A requested row whose window
 * holds a warm-up (NaN) value is an error naming the row and column, never a silent NaN input.
 */
export function buildModelInputs(
  columns: readonly Float64Array[],
  spec: FeatureSpec,
  rowIndexes?: ArrayLike<number>,
): Float32Array {
  const rows = rowIndexes ?? completeRows(columns, spec);
  const width = columns.length;
  const window = windowBars(spec);
  const n = columns[0]?.length ?? 0;
  const names = featureColumnNames(spec);
  if (names.length !== width)
    throw appError('FEATURE_INVALID', `The spec has ${names.length} columns but ${width} were given.`);
  const out = new Float32Array(rows.length * window * width);
  const normalisation = spec.normalisation;
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (!Number.isInteger(row) || row < window - 1 || row >= n) {
      throw appError(
        'BAD_INPUT',
        `Row ${row} is outside 0..${n - 1} or has fewer than ${window} bars before it.`,
        { row },
      );
    }
    for (let w = row - window + 1; w <= row; w++) {
      for (let c = 0; c < width; c++) {
        const x = columns[c]![w]!;
        if (!Number.isFinite(x)) {
          throw appError(
            'FEATURE_INVALID',
            `Feature '${names[c]}' is not yet defined at bar ${w} (warm-up) but row ${row} needs it; start from completeRows().`,
            { row, bar: w, feature: names[c] },
          );
        }
        out[k++] = normaliseValue(normalisation, c, x);
      }
    }
  }
  return out;
}

/**
 * Fits normalisation parameters on rows [start, end) of the columns (a training range), ignoring
 * NaN warm-up values. A constant column gets std 1 (z-score) or max = min + 1 (min-max), so it
 * maps to 0 instead of dividing by zero.
 */
export function fitNormalisation(
  columns: readonly Float64Array[],
  kind: Normalisation['kind'],
  start = 0,
  end = columns[0]?.length ?? 0,
): Normalisation {
  if (kind === 'none') return { kind: 'none' };
  const stats = columns.map((column, c) => {
    let count = 0;
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = start; i < end; i++) {
      const x = column[i]!;
      if (!Number.isFinite(x)) continue;
      count++;
      const delta = x - mean; // Welford: stable on long training ranges
      mean += delta / count;
      m2 += delta * (x - mean);
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (count === 0)
      throw appError(
        'FEATURE_INVALID',
        `Column ${c} has no finite value in rows ${start}..${end - 1}; cannot fit ${kind} normalisation.`,
        { column: c },
      );
    return { mean, std: Math.sqrt(m2 / count), min, max };
  });
  if (kind === 'zscore')
    return { kind, mean: stats.map((s) => s.mean), std: stats.map((s) => (s.std > 0 ? s.std : 1)) };
  return { kind, min: stats.map((s) => s.min), max: stats.map((s) => (s.max > s.min ? s.max : s.min + 1)) };
}

/**
 * Streaming: feed bars one at a time, get the model input for the latest bar (same layout and
 * normalisation as buildModelInputs, for one row) or null while any needed value is warming up.
 * O(1) per bar per indicator (CCI: O(period)); no allocation per update.
 */
export class FeaturePipeline {
  readonly spec: FeatureSpec;
  readonly names: string[];
  /** Latest raw (unnormalised) value of every column. */
  readonly latest: Float64Array;
  private readonly indicators: Indicator[];
  private readonly outputIndexes: number[][];
  private readonly window: number;
  /** Ring of the last `window` normalised rows. */
  private readonly history: Float64Array;
  private head = 0;
  private finiteRun = 0;
  private readonly input: Float32Array;
  /** The latest bar as one-bar columns, written once per update for all indicators. */
  private readonly bar: CandleColumns = {
    time: new Float64Array(1),
    open: new Float64Array(1),
    high: new Float64Array(1),
    low: new Float64Array(1),
    close: new Float64Array(1),
    volume: new Float64Array(1),
  };

  constructor(spec: FeatureSpec) {
    this.spec = spec;
    this.names = featureColumnNames(spec);
    this.indicators = spec.features.map((f) => createIndicator(f));
    this.outputIndexes = spec.features.map((f) => featureOutputs(f).outputIndexes);
    this.window = windowBars(spec);
    const width = this.names.length;
    this.latest = new Float64Array(width);
    this.history = new Float64Array(this.window * width);
    this.input = new Float32Array(this.window * width);
  }

  /** Consumes one bar (must be finite); returns the input vector (reused between calls) or null. */
  update(bar: Bar): Float32Array | null {
    const { time, open, high, low, close, volume } = bar;
    if (!(
      Number.isFinite(time) &&
      Number.isFinite(open) &&
      Number.isFinite(high) &&
      Number.isFinite(low) &&
      Number.isFinite(close) &&
      Number.isFinite(volume)
    )) {
      throw appError(
        'DATA_INVALID',
        `Bar at ${time} has a non-finite field; fill or drop it before computing features.`,
        { time },
      );
    }
    const latest = this.latest;
    const columns = this.bar;
    columns.time[0] = time;
    columns.open[0] = open;
    columns.high[0] = high;
    columns.low[0] = low;
    columns.close[0] = close;
    columns.volume[0] = volume;
    let c = 0;
    let isFinite = true;
    for (let f = 0; f < this.indicators.length; f++) {
      const indicator = this.indicators[f]!;
      indicator.compute(columns, 0, 1, indicator.valueColumns);
      const indexes = this.outputIndexes[f]!;
      for (let j = 0; j < indexes.length; j++) {
        const x = indicator.values[indexes[j]!]!;
        latest[c++] = x;
        if (!Number.isFinite(x)) isFinite = false;
      }
    }
    // The ring keeps rows already normalised, so a bar normalises F values, not W x F.
    const width = latest.length;
    const normalisation = this.spec.normalisation;
    const history = this.history;
    const base = this.head * width;
    for (let j = 0; j < width; j++) history[base + j] = normaliseValue(normalisation, j, latest[j]!);
    this.head = this.head + 1 === this.window ? 0 : this.head + 1;
    this.finiteRun = isFinite ? this.finiteRun + 1 : 0;
    if (this.finiteRun < this.window) return null;
    let k = 0;
    for (let w = 0; w < this.window; w++) {
      const slot = (this.head + w) % this.window; // head is now the oldest row
      for (let j = 0; j < width; j++) this.input[k++] = history[slot * width + j]!;
    }
    return this.input;
  }
}
