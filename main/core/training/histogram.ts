/**
 * The GBDT hot loop, shared by the trainer and its helper threads.
 *
 * Histogram layout per node (one Float64Array of F * 256 * 3): gradient and hessian sums
 * interleaved in the first F * 512 slots ([2 * (f * 256 + bin)], [+1]), then row counts in the last
 * F * 256 slots. One pass over a node's rows touches each row's feature codes contiguously
 * (row-major uint8 codes), and only features [f0, f1) so threads can split the features.
 * Every feature's sums are added in the same row order whichever thread does it, so results do not
 * depend on the thread count.
 */

export const BINS = 256;

export function histogramSize(featureCount: number): number {
  return featureCount * BINS * 3;
}

export function accumulate(
  hist: Float64Array,
  codes: Uint8Array,
  featureCount: number,
  idx: Uint32Array,
  start: number,
  end: number,
  gh: Float64Array,
  f0: number,
  f1: number,
): void {
  const countBase = featureCount * BINS * 2;
  hist.fill(0, f0 * BINS * 2, f1 * BINS * 2);
  hist.fill(0, countBase + f0 * BINS, countBase + f1 * BINS);
  for (let i = start; i < end; i++) {
    const r = idx[i]!;
    const g = gh[2 * r]!;
    const h = gh[2 * r + 1]!;
    const base = r * featureCount;
    for (let f = f0; f < f1; f++) {
      const b = (f << 8) | codes[base + f]!;
      hist[2 * b] = hist[2 * b]! + g;
      hist[2 * b + 1] = hist[2 * b + 1]! + h;
      hist[countBase + b] = hist[countBase + b]! + 1;
    }
  }
}
