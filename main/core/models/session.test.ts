import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../random.ts';
import type { RuntimeCard } from './card.ts';
import { ModelSession } from './session.ts';
import { mlpOnnx, signatureCard } from './test-models.ts';

const F = 6;

const card = (): RuntimeCard => signatureCard('mlp', F, 'prediction');

async function reference(bytes: Uint8Array, x: Float32Array): Promise<number[]> {
  const local = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await local.run({ input: new ort.Tensor('float32', x, [x.length / F, F]) });
    return Array.from(out['prediction']!.data as Float32Array);
  } finally {
    await local.release();
  }
}

describe('batch-1 placement', () => {
  const bytes = mlpOnnx(F, 16, new SeededRandom(3));
  const rows = Float32Array.from({ length: 20 * F }, (_, i) => Math.sin(i));

  it('runs batch-1 on the engine thread within the budget and batches on the worker, with the same answers', async () => {
    const model = await ModelSession.create(bytes, card(), [F], { provider: 'cpu', inlineBudgetUs: 1e9 });
    try {
      expect(model.latency().singleRowThread).toBe('engine');
      expect(model.placementNote).toMatch(
        /^batch-1 runs on the engine thread \(p98 of 256 timed runs \d+ µs/,
      );
      const expected = await reference(bytes, rows);
      const single: number[] = [];
      for (let r = 0; r < 20; r++) {
        const row = rows.slice(r * F, (r + 1) * F);
        const pending = model.runBatch(row, 1);
        row.fill(1e6); // the caller may reuse its array once runBatch returned
        single.push((await pending)[0]!);
      }
      expect(single).toEqual(expected);
      expect(Array.from(await model.runBatch(rows, 20))).toEqual(expected);
      const latency = model.latency();
      expect(latency.count).toBe(20);
      expect(latency.batchRuns).toBe(1);
    } finally {
      await model.release();
    }
  });

  it('keeps batch-1 runs on the worker when they exceed the budget at load, or when told to', async () => {
    const slow = await ModelSession.create(bytes, card(), [F], { provider: 'cpu', inlineBudgetUs: 0 });
    const off = await ModelSession.create(bytes, card(), [F], { provider: 'cpu', inlineSingleRows: false });
    try {
      expect(slow.latency().singleRowThread).toBe('worker');
      expect(slow.placementNote).toMatch(
        /^batch-1 runs on the inference worker \(engine thread: p98 of 256 timed runs \d+ µs, budget 0 µs\)$/,
      );
      expect(off.latency().singleRowThread).toBe('worker');
      const expected = await reference(bytes, rows.subarray(0, F));
      expect(Array.from(await slow.runBatch(rows.slice(0, F), 1))).toEqual(expected);
      expect(Array.from(await off.runBatch(rows.slice(0, F), 1))).toEqual(expected);
    } finally {
      await slow.release();
      await off.release();
    }
  });

  it('moves batch-1 runs to the worker for good once too many engine-thread runs exceed the budget', async () => {
    // A budget no run can keep after the probe: every run in the 8-run window is slow.
    const model = await ModelSession.create(bytes, card(), [F], {
      provider: 'cpu',
      inlineBudgetUs: 1e9,
      inlineWindow: 8,
    });
    try {
      expect(model.latency().singleRowThread).toBe('engine');
      (model as unknown as { inlineBudgetUs: number }).inlineBudgetUs = -1;
      const row = rows.slice(0, F);
      for (let i = 0; i < 8; i++) await model.runBatch(row, 1);
      expect(model.latency().singleRowThread).toBe('worker');
      expect(model.placementNote).toBe(
        'batch-1 runs on the inference worker (moved: 100.0% of 8 engine-thread runs took over -1 µs)',
      );
      expect(Array.from(await model.runBatch(row, 1))).toEqual(await reference(bytes, row));
    } finally {
      await model.release();
    }
  });
});
