import { describe, expect, it, afterAll } from 'vitest';
import fc from 'fast-check';
import { SeededRandom } from '../../random.ts';
import type { GbdtModel, Tree } from '../../training/gbdt.ts';
import { readGbdtFromOnnx } from '../../training/onnx-export.ts';
import { checkCard } from '../card.ts';
import { innerShapeOf } from '../registry.ts';
import { ModelSession } from '../session.ts';
import { gruForward, gruOnnx, linearOnnx, randomGru, testCard, treeEnsemble } from '../test-models.ts';
import { Explainer, type Explanation } from './explain.ts';
import { exactShapley, playersFor, sampledShapley } from './shapley.ts';

const sessions: ModelSession[] = [];
afterAll(async () => {
  for (const s of sessions) await s.release();
});

async function open(
  bytes: Uint8Array,
  card: Record<string, unknown>,
): Promise<{ session: ModelSession; columns: string[] }> {
  const checked = checkCard(card);
  const session = await ModelSession.create(bytes, checked.card, innerShapeOf(checked), { forceCpu: true });
  sessions.push(session);
  return { session, columns: checked.columns };
}

function additivityError(e: Explanation): number {
  const sum = e.contributions.reduce((a, c) => a + c.contribution, 0);
  return Math.abs(sum - (e.prediction - e.baseValue));
}

/** Path-dependent value of a coalition for one tree: follow x on features in S, else cover-weighted average. */
function treeValue(tree: Tree, x: Float32Array, S: number, node = 0): number {
  const n = tree.nodes[node]!;
  if (n.feature < 0) return n.value;
  if ((S & (1 << n.feature)) !== 0)
    return treeValue(tree, x, S, x[n.feature]! <= n.threshold ? n.left : n.right);
  const l = tree.nodes[n.left]!;
  const r = tree.nodes[n.right]!;
  return (
    (l.cover * treeValue(tree, x, S, n.left) + r.cover * treeValue(tree, x, S, n.right)) / (l.cover + r.cover)
  );
}

function bruteForceTreeShapley(model: GbdtModel, x: Float32Array): { phi: number[]; base: number } {
  const M = model.featureCount;
  const v = (S: number): number => model.trees.reduce((a, t) => a + treeValue(t, x, S), model.baseScore);
  const fact = [1];
  for (let k = 1; k <= M; k++) fact.push(fact[k - 1]! * k);
  const phi = new Array<number>(M).fill(0);
  for (let S = 0; S < 1 << M; S++) {
    let size = 0;
    for (let i = 0; i < M; i++) if (S & (1 << i)) size++;
    for (let i = 0; i < M; i++) {
      if (S & (1 << i)) continue;
      phi[i]! += ((fact[size]! * fact[M - size - 1]!) / fact[M]!) * (v(S | (1 << i)) - v(S));
    }
  }
  return { phi, base: v(0) };
}

describe('explanations', () => {
  it('explains a linear model with the closed-form Shapley values w_i (x_i - mean background x_i), via ORT', async () => {
    const weights = [0.5, -1.25, 2, 0.75, -0.3];
    const bytes = linearOnnx(weights, 0.1);
    const random = new SeededRandom(7);
    const background = Array.from({ length: 16 }, () => weights.map(() => random.normal()));
    const { session, columns } = await open(bytes, testCard('lin', bytes, 5, { background }));
    const explainer = new Explainer({
      session,
      bytes,
      columns,
      windowBars: 1,
      random,
      scoredOutput: 'prediction',
    });
    expect(explainer.method).toBe('exact-shapley');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 5, maxLength: 5 }),
        async (xs) => {
          const x = Float32Array.from(xs);
          const e = await explainer.explain(
            { x, background: Float32Array.from(background.flat()) },
            'prediction',
          );
          weights.forEach((w, i) => {
            const mean = background.reduce((a, row) => a + Math.fround(row[i]!), 0) / background.length;
            expect(e.contributions[i]!.contribution).toBeCloseTo(w * (x[i]! - mean), 4);
          });
          expect(additivityError(e)).toBeLessThanOrEqual(1e-5);
          expect(e.contributions.map((c) => c.feature)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('explains a tree ensemble with TreeSHAP from the file, equal to brute-force path-dependent Shapley', async () => {
    const random = new SeededRandom(11);
    const { bytes } = treeEnsemble(6, 20, 4, random);
    // The trees as stored in the file (leaf values and thresholds are float32 there).
    const model = readGbdtFromOnnx(bytes);
    const { session, columns } = await open(bytes, testCard('trees', bytes, 6));
    const explainer = new Explainer({
      session,
      bytes,
      columns,
      windowBars: 1,
      random,
      scoredOutput: 'prediction',
    });
    expect(explainer.method).toBe('tree-shap');
    for (let k = 0; k < 10; k++) {
      const x = Float32Array.from({ length: 6 }, () => random.normal());
      const e = await explainer.explain({ x }, 'prediction');
      const brute = bruteForceTreeShapley(model, x);
      brute.phi.forEach((p, i) => expect(e.contributions[i]!.contribution).toBeCloseTo(p, 9));
      expect(e.baseValue).toBeCloseTo(brute.base, 9);
      // ORT's own output (float32) is the prediction; the contributions add up to it.
      expect(additivityError(e)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('explains a GRU sequence model per feature group (a feature across the whole window), matching a float64 reference', async () => {
    const random = new SeededRandom(3);
    const F = 4;
    const W = 6;
    const g = randomGru(F, 5, random);
    const bytes = gruOnnx(g, W);
    const background = Array.from({ length: 4 }, () => Array.from({ length: W * F }, () => random.normal()));
    const { session, columns } = await open(bytes, testCard('gru', bytes, F, { windowBars: W, background }));
    // ORT's GRU equals the reference forward pass.
    const x = Float32Array.from({ length: W * F }, () => random.normal());
    const ort = (await session.runBatch(x, 1))[0]!;
    expect(ort).toBeCloseTo(gruForward(g, x, W), 5);

    const explainer = new Explainer({
      session,
      bytes,
      columns,
      windowBars: W,
      random,
      scoredOutput: 'prediction',
    });
    expect(explainer.method).toBe('exact-shapley');
    const bg = Float32Array.from(background.flat());
    const e = await explainer.explain({ x, background: bg }, 'prediction');
    expect(e.contributions).toHaveLength(F);
    expect(additivityError(e)).toBeLessThanOrEqual(1e-5);
    // Same Shapley values computed with the float64 reference model.
    const reference = await exactShapley(
      { x, background: bg, rowWidth: W * F, players: playersFor(F, W) },
      async (rows, n) =>
        Float64Array.from({ length: n }, (_, r) =>
          gruForward(g, rows.subarray(r * W * F, (r + 1) * W * F), W),
        ),
    );
    reference.contributions.forEach((p, i) => expect(e.contributions[i]!.contribution).toBeCloseTo(p, 4));
  });

  it('samples permutations beyond 14 players, adds up exactly and states a standard error that covers the truth', async () => {
    const M = 16;
    const weights = Array.from({ length: M }, (_, i) => (i % 2 === 0 ? 1 : -0.5) * (1 + i / 8));
    const bytes = linearOnnx(weights, 0);
    const random = new SeededRandom(5);
    const background = Array.from({ length: 32 }, () => weights.map(() => random.normal()));
    const { session, columns } = await open(bytes, testCard('wide', bytes, M, { background }));
    const explainer = new Explainer({
      session,
      bytes,
      columns,
      windowBars: 1,
      random,
      scoredOutput: 'prediction',
    });
    expect(explainer.method).toBe('sampled-shapley');
    const x = Float32Array.from(weights, () => random.normal());
    const bg = Float32Array.from(background.flat());
    const e = await explainer.explain({ x, background: bg }, 'prediction');
    expect(additivityError(e)).toBeLessThanOrEqual(1e-5);
    // Against the rows actually drawn, the linear model's truth is w_i (x_i - mean b_i); each estimate within 5 SE.
    const direct = await sampledShapley(
      { x, background: bg, rowWidth: M, players: playersFor(M, 1) },
      (rows, n) => session.runBatch(rows, n),
      new SeededRandom(9),
      256,
    );
    direct.contributions.forEach((p, i) => {
      const used = Math.min(256, 32);
      let mean = 0;
      for (let b = 0; b < used; b++) mean += bg[b * M + i]!;
      mean /= used;
      const truth = weights[i]! * (x[i]! - mean);
      expect(Math.abs(p - truth)).toBeLessThanOrEqual(5 * direct.standardErrors![i]! + 1e-5);
    });
    expect(e.contributions.every((c) => c.standardError !== undefined && c.standardError >= 0)).toBe(true);
  });
});
