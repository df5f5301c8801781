/**
 * Out-of-sample metrics: classification quality (AUC, accuracy, log loss, Brier) and the trading
 * result of the default threshold strategy next to buy-and-hold over the same bars.
 */

export interface ClassificationMetrics {
  rows: number;
  /** Share of label 1 in the rows (accuracy of always guessing the majority is max(p, 1 - p)). */
  positiveRate: number;
  auc: number;
  accuracy: number;
  logLoss: number;
  brier: number;
}

export interface RegressionMetrics {
  rows: number;
  rmse: number;
  mae: number;
  /** Pearson correlation of prediction and realised return (information coefficient). */
  correlation: number;
  /** Share of rows where the sign of the prediction matches the sign of the return. */
  directionAccuracy: number;
}

/** ROC AUC by the rank-sum (Mann-Whitney) formula, ties sharing the average rank. NaN if one class is missing. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function classificationMetrics(p: ArrayLike<number>, y: ArrayLike<number>): ClassificationMetrics {
  const n = p.length;
  let correct = 0;
  let logLoss = 0;
  let brier = 0;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const pi = Math.min(1 - 1e-15, Math.max(1e-15, p[i]!));
    const yi = y[i]!;
    pos += yi;
    if ((pi > 0.5 ? 1 : 0) === yi) correct++;
    logLoss -= yi * Math.log(pi) + (1 - yi) * Math.log(1 - pi);
    brier += (p[i]! - yi) ** 2;
  }
  return {
    rows: n,
    positiveRate: n ? pos / n : Number.NaN,
    auc: rocAuc(p, y),
    accuracy: n ? correct / n : Number.NaN,
    logLoss: n ? logLoss / n : Number.NaN,
    brier: n ? brier / n : Number.NaN,
  };
}

export function regressionMetrics(pred: ArrayLike<number>, y: ArrayLike<number>): RegressionMetrics {
  const n = pred.length;
  let se = 0;
  let ae = 0;
  let dir = 0;
  let mp = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i]! - y[i]!;
    se += d * d;
    ae += Math.abs(d);
    if (Math.sign(pred[i]!) === Math.sign(y[i]!)) dir++;
    mp += pred[i]!;
    my += y[i]!;
  }
  mp /= n;
  my /= n;
  let cov = 0;
  let vp = 0;
  let vy = 0;
  for (let i = 0; i < n; i++) {
    cov += (pred[i]! - mp) * (y[i]! - my);
    vp += (pred[i]! - mp) ** 2;
    vy += (y[i]! - my) ** 2;
  }
  return {
    rows: n,
    rmse: Math.sqrt(se / n),
    mae: ae / n,
    correlation: vp > 0 && vy > 0 ? cov / Math.sqrt(vp * vy) : Number.NaN,
    directionAccuracy: dir / n,
  };
}

export interface TradingResult {
  bars: number;
  /** Compounded return over the bars. */
  totalReturn: number;
  /** Annualised Sharpe ratio of per-bar returns (risk-free 0). */
  sharpe: number;
  /** Largest peak-to-trough fall of the compounded equity, as a positive fraction. */
  maxDrawdown: number;
  /** Mean |position change| per bar (1 = enter or leave every bar). */
  turnover: number;
  /** Position changes (entries + exits). */
  trades: number;
  /** Share of bars in the market. */
  exposure: number;
}

export interface StrategyComparison {
  threshold: number;
  /** Fee per unit of position change, as a fraction of notional (0.001 = 0.1 % per side). */
  feeRate: number;
  strategy: TradingResult;
  /** The same positions with no fees: shows how much of the result the fees take. */
  strategyBeforeFees: TradingResult;
  buyAndHold: TradingResult;
}

/**
 * Long-or-flat on consecutive bars: position[i] (decided at bar i's close) earns the return from
 * close[i] to close[i + 1]; each change of position pays feeRate. `rowBars` are the bar indexes of the
 * test rows (ascending); a bar whose next bar is not in the series is not traded.
 */
export function simulateThresholdStrategy(
  close: Float64Array,
  rowBars: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  feeRate: number,
  barsPerYear: number,
): StrategyComparison {
  const position: number[] = [];
  const returns: number[] = [];
  for (let i = 0; i < rowBars.length; i++) {
    const t = rowBars[i]!;
    if (t + 1 >= close.length) break;
    position.push(scores[i]! > threshold ? 1 : 0);
    returns.push(close[t + 1]! / close[t]! - 1);
  }
  const buyAndHoldPositions = returns.map(() => 1);
  return {
    threshold,
    feeRate,
    strategy: runPositions(position, returns, feeRate, barsPerYear, 0),
    strategyBeforeFees: runPositions(position, returns, 0, barsPerYear, 0),
    // Buy-and-hold enters once and never exits (one fee).
    buyAndHold: runPositions(buyAndHoldPositions, returns, feeRate, barsPerYear, 0),
  };
}

function runPositions(
  position: number[],
  returns: number[],
  feeRate: number,
  barsPerYear: number,
  startPosition: number,
): TradingResult {
  const n = returns.length;
  let equity = 1;
  let peak = 1;
  let maxDrawdown = 0;
  let previous = startPosition;
  let turnover = 0;
  let trades = 0;
  let exposure = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const p = position[i]!;
    const change = Math.abs(p - previous);
    if (change > 0) trades++;
    turnover += change;
    const r = p * returns[i]! - change * feeRate;
    previous = p;
    exposure += p;
    sum += r;
    sumSq += r * r;
    equity *= 1 + r;
    peak = Math.max(peak, equity);
    maxDrawdown = Math.max(maxDrawdown, 1 - equity / peak);
  }
  const mean = n ? sum / n : 0;
  const variance = n > 1 ? (sumSq - n * mean * mean) / (n - 1) : 0;
  const sd = Math.sqrt(Math.max(0, variance));
  return {
    bars: n,
    totalReturn: equity - 1,
    sharpe: sd > 0 ? (mean / sd) * Math.sqrt(barsPerYear) : 0,
    maxDrawdown,
    turnover: n ? turnover / n : 0,
    trades,
    exposure: n ? exposure / n : 0,
  };
}
