import { appError } from '../../../../shared/errors.ts';
import type { RandomSource } from '../../random.ts';

/**
 * Model-agnostic Shapley values of a black-box f against a background sample (interventional:
 * v(S) = mean over background rows b of f(x on S, b elsewhere)).
 *
 * - exact: all 2^M coalitions of M players (features, or feature groups: for window inputs a
 *   group is one feature across the whole window) x B background rows, evaluated in ONE batched
 *   call of f. phi_i = sum over S not containing i of |S|!(M-|S|-1)!/M! (v(S+i) - v(S)).
 *   Efficiency holds exactly: sum phi = f(x) - v(empty), and v(empty) is the base value.
 * - sampled: P random permutations, each against one background row (drawn in turn), walking the
 *   permutation from b to x; each permutation's marginals sum to f(x) - f(b) exactly, so the
 *   estimate still adds up to f(x) - base (base = mean f(b) over the drawn rows). The standard
 *   error of each phi_i is the sample std of its marginals / sqrt(P).
 */

export const MAX_EXACT_PLAYERS = 14;
/** Upper bound on values in one batched call (2^M x B rows x row width): 64 M floats = 256 MB. */
export const MAX_BATCH_VALUES = 64 * 1024 * 1024;

export type BatchFn = (input: Float32Array, rows: number) => Promise<Float64Array>;

export interface ShapleyResult {
  baseValue: number;
  prediction: number;
  contributions: Float64Array;
  /** Per-player standard error (sampled method only). */
  standardErrors: Float64Array | null;
  method: 'exact-shapley' | 'sampled-shapley';
  backgroundRows: number;
  evaluations: number;
}

export interface ShapleyProblem {
  /** The row being explained (rowWidth values). */
  x: Float32Array;
  /** Background rows, row-major (B x rowWidth). */
  background: Float32Array;
  rowWidth: number;
  /** For each player, the indexes into a row that it owns (a feature, or a feature across a window). */
  players: number[][];
}

function check(p: ShapleyProblem): number {
  if (p.x.length !== p.rowWidth)
    throw appError('BAD_INPUT', `x has ${p.x.length} values, rows have ${p.rowWidth}.`);
  if (p.background.length === 0 || p.background.length % p.rowWidth !== 0)
    throw appError(
      'BAD_INPUT',
      `The background sample must be a non-empty multiple of ${p.rowWidth} values.`,
    );
  return p.background.length / p.rowWidth;
}

/** Players of a tabular row (one per column) or a window row (one per column across all bars). */
export function playersFor(columns: number, windowBars: number): number[][] {
  const players: number[][] = [];
  for (let c = 0; c < columns; c++) {
    const idx: number[] = [];
    for (let w = 0; w < windowBars; w++) idx.push(w * columns + c);
    players.push(idx);
  }
  return players;
}

/** Exact Shapley over all 2^M coalitions (M <= 14) in one batched call. */
export async function exactShapley(p: ShapleyProblem, f: BatchFn): Promise<ShapleyResult> {
  const M = p.players.length;
  if (M > MAX_EXACT_PLAYERS)
    throw appError('BAD_INPUT', `Exact Shapley handles up to ${MAX_EXACT_PLAYERS} players, got ${M}.`);
  const allB = check(p);
  const coalitions = 1 << M;
  // Keep the one batched call bounded: use the first B background rows that fit.
  const B = Math.max(1, Math.min(allB, Math.floor(MAX_BATCH_VALUES / (coalitions * p.rowWidth))));
  const width = p.rowWidth;
  const rows = coalitions * B;
  const input = new Float32Array(rows * width);
  const { x, background, players } = p;
  for (let b = 0; b < B; b++) {
    const bg = background.subarray(b * width, (b + 1) * width);
    for (let s = 0; s < coalitions; s++) {
      const off = (s * B + b) * width;
      input.set(bg, off);
      for (let i = 0; i < M; i++) {
        if ((s & (1 << i)) === 0) continue;
        const idx = players[i]!;
        for (let k = 0; k < idx.length; k++) input[off + idx[k]!] = x[idx[k]!]!;
      }
    }
  }
  const out = await f(input, rows);
  const v = new Float64Array(coalitions);
  for (let s = 0; s < coalitions; s++) {
    let sum = 0;
    for (let b = 0; b < B; b++) sum += out[s * B + b]!;
    v[s] = sum / B;
  }
  // weight(|S|) = |S|! (M - |S| - 1)! / M!
  const weight = new Float64Array(M);
  const fact = [1];
  for (let k = 1; k <= M; k++) fact.push(fact[k - 1]! * k);
  for (let k = 0; k < M; k++) weight[k] = (fact[k]! * fact[M - k - 1]!) / fact[M]!;
  const popcount = new Uint8Array(coalitions);
  for (let s = 1; s < coalitions; s++) popcount[s] = popcount[s >> 1]! + (s & 1);
  const phi = new Float64Array(M);
  for (let s = 0; s < coalitions; s++) {
    const w = weight[popcount[s]!];
    for (let i = 0; i < M; i++) {
      const bit = 1 << i;
      if ((s & bit) !== 0) continue;
      phi[i] = phi[i]! + w! * (v[s | bit]! - v[s]!);
    }
  }
  return {
    baseValue: v[0]!,
    prediction: v[coalitions - 1]!,
    contributions: phi,
    standardErrors: null,
    method: 'exact-shapley',
    backgroundRows: B,
    evaluations: rows,
  };
}

/** Permutation-sampled Shapley with per-player standard errors; all P x (M + 1) rows in one call. */
export async function sampledShapley(
  p: ShapleyProblem,
  f: BatchFn,
  random: RandomSource,
  permutations = 64,
): Promise<ShapleyResult> {
  const M = p.players.length;
  const allB = check(p);
  const width = p.rowWidth;
  const P = Math.max(2, Math.min(permutations, Math.floor(MAX_BATCH_VALUES / ((M + 1) * width))));
  const rows = P * (M + 1);
  const input = new Float32Array(rows * width);
  const orders: Int32Array[] = [];
  for (let q = 0; q < P; q++) {
    const order = Int32Array.from({ length: M }, (_, i) => i);
    for (let i = M - 1; i > 0; i--) {
      const j = random.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    orders.push(order);
    const b = q % allB;
    let off = q * (M + 1) * width;
    input.set(p.background.subarray(b * width, (b + 1) * width), off);
    for (let step = 0; step < M; step++) {
      const next = off + width;
      input.copyWithin(next, off, off + width);
      const idx = p.players[order[step]!]!;
      for (let k = 0; k < idx.length; k++) input[next + idx[k]!] = p.x[idx[k]!]!;
      off = next;
    }
  }
  const out = await f(input, rows);
  const sum = new Float64Array(M);
  const sumSq = new Float64Array(M);
  let base = 0;
  let prediction = 0;
  for (let q = 0; q < P; q++) {
    const start = q * (M + 1);
    base += out[start]!;
    prediction += out[start + M]!;
    const order = orders[q]!;
    for (let step = 0; step < M; step++) {
      const d = out[start + step + 1]! - out[start + step]!;
      const i = order[step]!;
      sum[i] = sum[i]! + d;
      sumSq[i] = sumSq[i]! + d * d;
    }
  }
  const phi = new Float64Array(M);
  const se = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    const mean = sum[i]! / P;
    phi[i] = mean;
    const variance = Math.max(0, (sumSq[i]! - P * mean * mean) / (P - 1));
    se[i] = Math.sqrt(variance / P);
  }
  return {
    baseValue: base / P,
    prediction: prediction / P,
    contributions: phi,
    standardErrors: se,
    method: 'sampled-shapley',
    backgroundRows: Math.min(P, allB),
    evaluations: rows,
  };
}
