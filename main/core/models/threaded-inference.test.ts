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
    const expected = (await local.run({ input: new ort.Tensor('float32', x, [50, 6]) }))['score']!
      .data as Float32Array;
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

  it('answers runs issued together in order, each with its own input, and grows its shared buffers for large runs', async () => {
    const bytes = mlp(6, 16, 5);
    const random = new SeededRandom(6);
    // Batch-1 runs, a run larger than the initial 4 KiB buffers (2,000 rows: 48 KB in, 8 KB out), then batch-1 again.
    const sizes = [1, 1, 3, 2000, 1, 7, 1];
    const inputs = sizes.map((rows) => Float32Array.from({ length: rows * 6 }, () => random.normal()));
    const local = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const expected: Float32Array[] = [];
    for (const [i, x] of inputs.entries())
      expected.push(
        (await local.run({ input: new ort.Tensor('float32', x, [sizes[i]!, 6]) }))['score']!
          .data as Float32Array,
      );
    await local.release();
    const threaded = await ThreadedInference.create(bytes);
    try {
      const pending = inputs.map((x, i) => threaded.run('input', x, [sizes[i]!, 6]));
      // The caller may reuse its arrays as soon as run() returns: later runs must not see this.
      for (const x of inputs) x.fill(1e6);
      const outs = await Promise.all(pending);
      outs.forEach((out, i) => {
        expect(out['score']!.dims).toEqual([sizes[i]!, 1]);
        expect(Array.from(out['score']!.data as Float32Array)).toEqual(Array.from(expected[i]!));
      });
      // Outputs belong to the caller: a later run does not overwrite an earlier result.
      const first = await threaded.run('input', new Float32Array(6), [1, 6]);
      const copy = Array.from(first['score']!.data as Float32Array);
      await threaded.run(
        'input',
        Float32Array.from({ length: 6 }, () => 3),
        [1, 6],
      );
      expect(Array.from(first['score']!.data as Float32Array)).toEqual(copy);
    } finally {
      await threaded.close();
    }
  });

  it('reports a failed run as MODEL_LOAD_FAILED and keeps serving the next runs', async () => {
    const threaded = await ThreadedInference.create(mlp(4, 8, 7));
    try {
      const bad = threaded.run('input', new Float32Array(10), [2, 5]);
      const good = threaded.run('input', new Float32Array(4), [1, 4]);
      await expect(bad).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
      expect((await good)['score']!.dims).toEqual([1, 1]);
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
