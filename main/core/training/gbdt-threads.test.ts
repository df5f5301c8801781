import { describe, expect, it } from 'vitest';
import { HistogramThreads } from './gbdt-threads.ts';
import { accumulate, histogramSize } from './histogram.ts';
import { SeededRandom } from '../random.ts';

function fill(threads: HistogramThreads, rows: number, features: number): void {
  const rnd = new SeededRandom(4);
  for (let i = 0; i < rows * features; i++) threads.codes[i] = rnd.int(256);
  for (let i = 0; i < rows; i++) {
    threads.gh[2 * i] = rnd.normal();
    threads.gh[2 * i + 1] = rnd.next();
    threads.idx[i] = i;
  }
}

describe('feature-parallel histogram threads', () => {
  it('build the same histogram as a single thread, for any row range', () => {
    const rows = 5000;
    const F = 9;
    const threads = new HistogramThreads(rows, F, 3);
    try {
      fill(threads, rows, F);
      for (const [start, end] of [
        [0, rows],
        [100, 2100],
        [4999, 5000],
      ] as const) {
        const parallel = new Float64Array(histogramSize(F));
        threads.build(parallel, start, end);
        const single = new Float64Array(histogramSize(F));
        accumulate(single, threads.codes, F, threads.idx, start, end, threads.gh, 0, F);
        expect(Array.from(parallel)).toEqual(Array.from(single));
      }
    } finally {
      threads.close();
    }
  });

  it('fall back to this thread when the helpers cannot start, with the same result', () => {
    const rows = 2000;
    const F = 4;
    const threads = new HistogramThreads(rows, F, 2, {
      threadModule: new URL('./no-such-thread-module.ts', import.meta.url),
      startTimeoutMs: 300,
    });
    try {
      fill(threads, rows, F);
      const fallback = new Float64Array(histogramSize(F));
      threads.build(fallback, 0, rows);
      const single = new Float64Array(histogramSize(F));
      accumulate(single, threads.codes, F, threads.idx, 0, rows, threads.gh, 0, F);
      expect(Array.from(fallback)).toEqual(Array.from(single));
    } finally {
      threads.close();
    }
  });
});
