import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { AppErrorException } from '../../../shared/errors.ts';
import { SeededRandom } from '../random.ts';
import { buildMlp } from './onnx-builder.ts';
import { ThreadedInference } from './threaded-inference.ts';

function mlp(inDim: number, hidden: number, seed: number): Uint8Array {
  const random = new SeededRandom(seed);
  const dense = (a: number, b: number): { weights: number[][]; bias: number[] } => ({
    weights: Array.from({ length: a }, () => Array.from({ length: b }, () => random.normal() / Math.sqrt(a))),
    bias: Array.from({ length: b }, () => random.normal() * 0.1),
  });
  return buildMlp({ layers: [dense(inDim, hidden), dense(hidden, hidden), dense(hidden, 1)] });
}

describe('threaded inference', () => {
  it('gives the same outputs as an in-process ORT session', async () => {
    const bytes = mlp(6, 16, 1);
    const random = new SeededRandom(2);
    const x = Float32Array.from({ length: 50 * 6 }, () => random.normal());
    const local = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const expected = (await local.run({ input: new ort.Tensor('float32', x, [50, 6]) }))['score']!.data as Float32Array;
    await local.release();
    const threaded = await ThreadedInference.create(bytes);
    try {
      const out = await threaded.run('input', x, [50, 6]);
      expect(out['score']!.dims).toEqual([50, 1]);
      expect(Array.from(out['score']!.data as Float32Array)).toEqual(Array.from(expected));
      // The caller's array is untouched (the worker got a copy).
      expect(x.length).toBe(300);
    } finally {
      await threaded.close();
    }
  });

  it('keeps the event loop serving timers while a long batch runs', async () => {
    const threaded = await ThreadedInference.create(mlp(64, 512, 3));
    try {
      const rows = 8000;
      let ticks = 0;
      let done = false;
      const timer = setInterval(() => {
        if (!done) ticks++;
      }, 1);
      await threaded.run('input', new Float32Array(rows * 64), [rows, 64]);
      done = true;
      clearInterval(timer);
      // In-process, onnxruntime-node's run holds the thread: no timer fires until it finishes.
      expect(ticks).toBeGreaterThan(3);
    } finally {
      await threaded.close();
    }
  });

  it('reports a model ORT cannot load as MODEL_LOAD_FAILED and a closed session as such', async () => {
    const error = await ThreadedInference.create(new Uint8Array([1, 2, 3, 4])).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppErrorException);
    expect((error as AppErrorException).code).toBe('MODEL_LOAD_FAILED');
    const threaded = await ThreadedInference.create(mlp(2, 2, 4));
    await threaded.close();
    await expect(threaded.run('input', new Float32Array(2), [1, 2])).rejects.toThrow(/closed/);
  });
});
