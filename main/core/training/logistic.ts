import { appError } from '../../../shared/errors.ts';
import type { Dataset, TrainHooks } from './gbdt.ts';

/**
 * L2-regularised logistic regression fitted by Newton's method (IRLS): the baseline next to GBDT.
 * Inputs should be normalised (the trainer fits a z-score on the training rows and writes it into the
 * feature spec). Deterministic: no randomness at all. Weights are rounded to float32 at the end,
 * which is what the ONNX file stores, so the trainer's predictions are the file's.
 */

export interface LogisticParams {
  /** L2 penalty on the weights (not the intercept), per row: the objective is mean log loss + lambda/2 |w|^2. */
  lambda: number;
  maxIterations: number;
  /** Stop when the largest Newton step is below this. */
  tolerance: number;
}

export interface LogisticModel {
  kind: 'logistic';
  objective: 'binary';
  featureCount: number;
  weights: Float64Array;
  intercept: number;
  iterations: number;
}

function sigmoid(m: number): number {
  return m >= 0 ? 1 / (1 + Math.exp(-m)) : Math.exp(m) / (1 + Math.exp(m));
}

/** Solves A x = b for a symmetric positive definite A (n x n, row-major) by Cholesky; A and b are overwritten. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! * a[j * n + k]!;
    if (!(d > 0))
      throw appError(
        'TRAINING_FAILED',
        'logistic regression: the Hessian is not positive definite (constant or duplicated features?); raise lambda',
      );
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / l;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= a[i * n + k]! * y[k]!;
    y[i] = s / a[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * x[k]!;
    x[i] = s / a[i * n + i]!;
  }
  return x;
}

export function trainLogistic(train: Dataset, params: LogisticParams, hooks: TrainHooks = {}): LogisticModel {
  const { rows, featureCount: F, x, y } = train;
  if (rows < 2) throw appError('TRAINING_FAILED', `training set has ${rows} rows`);
  if (!(params.lambda >= 0)) throw appError('BAD_INPUT', `lambda must be >= 0, not ${params.lambda}`);
  for (let i = 0; i < rows; i++)
    if (y[i] !== 0 && y[i] !== 1)
      throw appError('DATA_INVALID', `label of row ${i} is ${y[i]} (logistic regression needs 0/1 labels)`);
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]!))
      throw appError('DATA_INVALID', `feature ${i % F} of row ${Math.floor(i / F)} is not finite`);
  const n = F + 1; // last coefficient is the intercept
  const beta = new Float64Array(n);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n * n);
  let iterations = 0;
  for (let it = 0; it < params.maxIterations; it++) {
    if (hooks.isCancelled?.()) throw appError('CANCELLED', 'training cancelled');
    grad.fill(0);
    hess.fill(0);
    for (let r = 0; r < rows; r++) {
      const o = r * F;
      let m = beta[F]!;
      for (let f = 0; f < F; f++) m += beta[f]! * x[o + f]!;
      const p = sigmoid(m);
      const g = p - y[r]!;
      const w = Math.max(p * (1 - p), 1e-12);
      for (let i = 0; i < n; i++) {
        const xi = i === F ? 1 : x[o + i]!;
        grad[i] = grad[i]! + g * xi;
        for (let j = 0; j <= i; j++) hess[i * n + j] = hess[i * n + j]! + w * xi * (j === F ? 1 : x[o + j]!);
      }
    }
    for (let i = 0; i < n; i++) {
      grad[i] = grad[i]! / rows + (i < F ? params.lambda * beta[i]! : 0);
      for (let j = 0; j <= i; j++) {
        const v = hess[i * n + j]! / rows + (i === j && i < F ? params.lambda : 0) + (i === j ? 1e-10 : 0);
        hess[i * n + j] = v;
        hess[j * n + i] = v;
      }
    }
    const step = choleskySolve(hess, grad, n);
    let largest = 0;
    for (let i = 0; i < n; i++) {
      beta[i] = beta[i]! - step[i]!;
      largest = Math.max(largest, Math.abs(step[i]!));
    }
    iterations = it + 1;
    hooks.onTree?.(iterations, params.maxIterations, null);
    if (largest < params.tolerance) break;
  }
  const weights = new Float64Array(F);
  for (let f = 0; f < F; f++) weights[f] = Math.fround(beta[f]!);
  return {
    kind: 'logistic',
    objective: 'binary',
    featureCount: F,
    weights,
    intercept: Math.fround(beta[F]!),
    iterations,
  };
}

export function logisticMargin(
  model: LogisticModel,
  x: Float32Array,
  rows = x.length / model.featureCount,
): Float64Array {
  const F = model.featureCount;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = model.intercept;
    for (let f = 0; f < F; f++) m += model.weights[f]! * x[r * F + f]!;
    out[r] = m;
  }
  return out;
}

export function predictLogistic(
  model: LogisticModel,
  x: Float32Array,
  rows = x.length / model.featureCount,
): Float64Array {
  const m = logisticMargin(model, x, rows);
  for (let i = 0; i < m.length; i++) m[i] = sigmoid(m[i]!);
  return m;
}
