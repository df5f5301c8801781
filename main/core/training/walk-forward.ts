import { appError } from '../../../shared/errors.ts';

/**
 * Walk-forward splits with purging and an embargo.
 *
 * Rows are bars t (ascending) whose features and label both exist. A label at t is the return from
 * close[t] to close[t + H], so it "occupies" bars t..t+H. A training row may sit next to test rows only
 * if its label is finished before the first test bar by more than the embargo:
 *     t + H + embargo < first test bar          (rows before the test block)
 *     t > last test bar + H + embargo            (rows after it; walk-forward never has these, the check allows them)
 * Anything closer is purged. `assertPurged` re-checks every split before a model is fitted, so a
 * split built wrongly (or with purging switched off) fails loudly instead of reporting leaked
 * out-of-sample numbers.
 */

export interface Fold {
  index: number;
  /** Bar indexes of the rows the model is fitted on. */
  fitBars: Int32Array;
  /** Bar indexes of the validation rows (early stopping), after the fit rows, before the test rows. */
  validationBars: Int32Array;
  testBars: Int32Array;
  /** Rows dropped by the purge + embargo in front of the validation and test blocks. */
  purgedRows: number;
}

export interface WalkForwardOptions {
  folds: number;
  horizon: number;
  /** Extra bars between the end of a training label and the first test (or validation) bar. */
  embargo: number;
  /** Share of each fold's training rows kept back (at its end) for early stopping. */
  validationFraction: number;
  /** For tests only: skip the purge, producing leaking splits. */
  disablePurge?: boolean;
}

/** Keeps rows whose label ends (plus embargo) before `boundaryBar`. */
function purgeBefore(rows: Int32Array, boundaryBar: number, horizon: number, embargo: number): Int32Array {
  let n = rows.length;
  while (n > 0 && rows[n - 1]! + horizon + embargo >= boundaryBar) n--;
  return rows.subarray(0, n);
}

/**
 * Expanding-window walk-forward: the rows are cut into folds + 1 equal blocks; fold k (1..folds)
 * tests on block k and trains on blocks 0..k-1 (less the purge, less the validation tail).
 */
export function walkForwardFolds(rows: Int32Array, options: WalkForwardOptions): Fold[] {
  const { folds, horizon, embargo } = options;
  if (!Number.isInteger(folds) || folds < 1 || folds > 50)
    throw appError('BAD_INPUT', `folds must be an integer 1..50, not ${folds}`);
  if (!Number.isInteger(embargo) || embargo < 0)
    throw appError('BAD_INPUT', `embargo must be a whole number of bars >= 0, not ${embargo}`);
  const blocks = folds + 1;
  const size = Math.floor(rows.length / blocks);
  const minimum = 4 * (horizon + embargo) + 50;
  if (size < minimum)
    throw appError(
      'TRAINING_FAILED',
      `${rows.length} usable rows are too few for ${folds} walk-forward folds with horizon ${horizon} and embargo ${embargo} (each block needs >= ${minimum} rows); use fewer folds or more data`,
    );
  const out: Fold[] = [];
  for (let k = 1; k <= folds; k++) {
    const testStart = k * size;
    const testEnd = k === folds ? rows.length : (k + 1) * size;
    const testBars = rows.subarray(testStart, testEnd);
    const before = rows.subarray(0, testStart);
    const trainBars = options.disablePurge ? before : purgeBefore(before, testBars[0]!, horizon, embargo);
    const split = splitValidation(trainBars, options);
    out.push({
      index: k,
      fitBars: split.fitBars,
      validationBars: split.validationBars,
      testBars,
      purgedRows: before.length - trainBars.length + split.purgedRows,
    });
  }
  return out;
}

/** The last `validationFraction` of the rows become the validation set; the fit rows are purged in front of it. */
export function splitValidation(
  trainBars: Int32Array,
  options: WalkForwardOptions,
): { fitBars: Int32Array; validationBars: Int32Array; purgedRows: number } {
  const count = Math.floor(trainBars.length * options.validationFraction);
  if (count === 0) return { fitBars: trainBars, validationBars: new Int32Array(0), purgedRows: 0 };
  const validationBars = trainBars.subarray(trainBars.length - count);
  const head = trainBars.subarray(0, trainBars.length - count);
  const fitBars = options.disablePurge
    ? head
    : purgeBefore(head, validationBars[0]!, options.horizon, options.embargo);
  return { fitBars, validationBars, purgedRows: head.length - fitBars.length };
}

/**
 * Throws TRAINING_FAILED naming the first training row whose label horizon (plus embargo) reaches
 * into the evaluation block. Run on every fold before fitting.
 */
export function assertPurged(
  trainBars: ArrayLike<number>,
  evalBars: ArrayLike<number>,
  horizon: number,
  embargo: number,
  what: string,
): void {
  if (evalBars.length === 0 || trainBars.length === 0) return;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < evalBars.length; i++) {
    first = Math.min(first, evalBars[i]!);
    last = Math.max(last, evalBars[i]!);
  }
  for (let i = 0; i < trainBars.length; i++) {
    const t = trainBars[i]!;
    const clearBefore = t + horizon + embargo < first;
    const clearAfter = t > last + horizon + embargo;
    if (!clearBefore && !clearAfter) {
      throw appError(
        'TRAINING_FAILED',
        `label leak in ${what}: training row at bar ${t} has a label reaching bar ${t + horizon} (embargo ${embargo}), overlapping the evaluation bars ${first}..${last + horizon}`,
        { trainBar: t, horizon, embargo, evalFirst: first, evalLast: last },
      );
    }
  }
}
