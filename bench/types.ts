export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. '<= 200 ms' or '>= 500000 bars/s'. */
  target?: string;
  isMet?: boolean;
  note?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<Figure[]>;
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function atMost(value: number, limit: number, unit: string): Pick<Figure, 'target' | 'isMet'> {
  return { target: `<= ${limit} ${unit}`, isMet: value <= limit };
}

export function atLeast(value: number, limit: number, unit: string): Pick<Figure, 'target' | 'isMet'> {
  return { target: `>= ${limit} ${unit}`, isMet: value >= limit };
}
