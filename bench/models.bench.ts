import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../main/core/random.ts';
import {
  buildMlp,
  buildTreeRegressor,
  decodeTreeEnsemble,
  type TreeEnsemble,
  type TreeNode,
} from '../main/core/models/onnx-builder.ts';
import { ModelSession } from '../main/core/models/session.ts';
import { signatureCard } from '../main/core/models/test-models.ts';
import type { RuntimeCard } from '../main/core/models/card.ts';
import { exactShapley, playersFor } from '../main/core/models/explain/shapley.ts';
import { OnnxTreeShap } from '../main/core/models/explain/onnx-tree-shap.ts';
import { atLeast, atMost, percentile, type Benchmark, type Figure } from './types.ts';

/**
 * Model runtime speed, in process, through the same ModelSession the engine uses (provider choice,
 * thread settings, warm-up):
 * - batch-1 latency p50/p99 and batch throughput for a small tree ensemble (100 trees, depth 5) and a
 *   small MLP (12 -> 64 -> 32 -> 1), 12 features;
 * - exact Shapley for 12 features: all 4,096 coalitions x background rows in one batched ORT run;
 * - TreeSHAP per row for 200 trees of depth 6 read back from the ONNX file.
 *
 * Provider: CPU unless VANTAGE_BENCH_PROVIDER (or `--provider <name>` on the command line) names
 * another one (e.g. `cuda` on a GPU machine). Models are generated from a fixed seed.
 */

const FEATURES = 12;
const LATENCY_RUNS = 3000;
const THROUGHPUT_BATCH = 4096;
const THROUGHPUT_RUNS = 30;
const SHAPLEY_BACKGROUND = 8;
const SHAPLEY_RUNS = 10;
const TREESHAP_ROWS = 200;

function provider(): string | undefined {
  const i = process.argv.indexOf('--provider');
  const arg = i >= 0 ? process.argv[i + 1] : undefined;
  return arg ?? process.env['VANTAGE_BENCH_PROVIDER'] ?? undefined;
}

function fullTree(random: SeededRandom, depth: number, features: number): TreeNode[] {
  const nodes: TreeNode[] = [];
  const grow = (d: number, cover: number): number => {
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, yes: 0, no: 0, value: (random.next() - 0.5) * 0.2, cover });
    if (d === depth) return id;
    const left = Math.max(1, Math.round(cover * (0.2 + 0.6 * random.next())));
    const yes = grow(d + 1, left);
    const no = grow(d + 1, Math.max(1, cover - left));
    nodes[id] = {
      feature: random.int(features),
      threshold: random.normal() * 0.7,
      yes,
      no,
      value: 0,
      cover: nodes[yes]!.cover + nodes[no]!.cover,
    };
    return id;
  };
  grow(0, 100_000);
  return nodes;
}

function ensemble(seed: number, trees: number, depth: number): TreeEnsemble {
  const random = new SeededRandom(seed);
  return {
    featureCount: FEATURES,
    baseValue: 0,
    trees: Array.from({ length: trees }, () => fullTree(random, depth, FEATURES)),
  };
}

function mlpBytes(seed: number): Uint8Array {
  const random = new SeededRandom(seed);
  const dense = (inDim: number, outDim: number): { weights: number[][]; bias: number[] } => ({
    weights: Array.from({ length: inDim }, () =>
      Array.from({ length: outDim }, () => random.normal() / Math.sqrt(inDim)),
    ),
    bias: Array.from({ length: outDim }, () => random.normal() * 0.1),
  });
  return buildMlp({
    layers: [dense(FEATURES, 64), dense(64, 32), dense(32, 1)],
    activation: 'Relu',
    sigmoidOutput: true,
  });
}

function card(name: string): RuntimeCard {
  // Only what ModelSession reads (the signature); the feature spec is not involved in timing.
  return signatureCard(name, FEATURES, 'score');
}

function randomRows(seed: number, rows: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: rows * FEATURES }, () => random.normal());
}

/** Batch-1 latency of a plain in-process session (the floor the threaded path is compared with). */
async function directRunLatency(
  bytes: Uint8Array,
  rows: Float32Array,
  provider: string,
): Promise<{ p50: number; p99: number; p999: number }> {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: provider === 'cpu' ? 1 : 0,
    interOpNumThreads: 1,
  });
  try {
    const name = session.inputNames[0]!;
    const times = new Float64Array(LATENCY_RUNS);
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const x = rows.subarray(i * FEATURES, (i + 1) * FEATURES);
      const t0 = process.hrtime.bigint();
      await session.run({ [name]: new ort.Tensor('float32', x, [1, FEATURES]) });
      times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    times.sort();
    return { p50: percentile(times, 50), p99: percentile(times, 99), p999: percentile(times, 99.9) };
  } finally {
    await session.release();
  }
}

async function inference(label: string, bytes: Uint8Array, chosen: string | undefined): Promise<Figure[]> {
  const session = await ModelSession.create(
    bytes,
    card(label),
    [FEATURES],
    chosen ? { provider: chosen } : {},
  );
  try {
    const rows = randomRows(11, LATENCY_RUNS);
    const times = new Float64Array(LATENCY_RUNS);
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const x = rows.subarray(i * FEATURES, (i + 1) * FEATURES);
      const t0 = process.hrtime.bigint();
      await session.runBatch(x, 1);
      times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    times.sort();
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    const p999 = percentile(times, 99.9);
    const reference = await directRunLatency(bytes, rows, chosen ?? session.provider);
    const batch = randomRows(12, THROUGHPUT_BATCH);
    await session.runBatch(batch, THROUGHPUT_BATCH);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < THROUGHPUT_RUNS; i++) await session.runBatch(batch, THROUGHPUT_BATCH);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = (THROUGHPUT_RUNS * THROUGHPUT_BATCH) / seconds;
    const note = `provider ${session.provider}; ${LATENCY_RUNS} awaited ModelSession.runBatch runs (the engine's path: ${session.placementNote}); load average ${loadavg()[0]!.toFixed(1)}`;
    const referenceNote = `reference only, not the production path: awaited ort InferenceSession.run on the calling thread (blocks its event loop for the run), same ${LATENCY_RUNS} rows, provider ${chosen ?? session.provider}`;
    const round = (us: number): number => Math.round(us * 10) / 10;
    return [
      { name: `${label} batch-1 latency p50`, value: round(p50), unit: 'us', note },
      {
        name: `${label} batch-1 latency p99`,
        value: round(p99),
        unit: 'us',
        ...atMost(p99, 200, 'us'),
        note,
      },
      { name: `${label} batch-1 latency p99.9`, value: round(p999), unit: 'us', note },
      {
        name: `${label} direct session.run p50 (reference)`,
        value: round(reference.p50),
        unit: 'us',
        note: referenceNote,
      },
      {
        name: `${label} direct session.run p99 (reference)`,
        value: round(reference.p99),
        unit: 'us',
        note: referenceNote,
      },
      {
        name: `${label} direct session.run p99.9 (reference)`,
        value: round(reference.p999),
        unit: 'us',
        note: referenceNote,
      },
      {
        name: `${label} batch throughput`,
        value: Math.round(rate),
        unit: 'rows/s',
        ...atLeast(rate, 100_000, 'rows/s'),
        note: `batches of ${THROUGHPUT_BATCH}, provider ${session.provider}`,
      },
    ];
  } finally {
    await session.release();
  }
}

export const benchmark: Benchmark = {
  name: 'models',
  description: `ONNX inference latency/throughput (tree ensemble, MLP; ${FEATURES} features), exact Shapley over 4,096 coalitions, TreeSHAP 200 trees x depth 6`,
  async run(): Promise<Figure[]> {
    const chosen = provider();
    const figures: Figure[] = [];
    figures.push(...(await inference('trees-100x5', buildTreeRegressor(ensemble(1, 100, 5)), chosen)));
    figures.push(...(await inference('mlp-12-64-32-1', mlpBytes(2), chosen)));

    // Exact Shapley: 2^12 coalitions x SHAPLEY_BACKGROUND rows in one ORT run of the MLP.
    const mlp = await ModelSession.create(
      mlpBytes(2),
      card('mlp'),
      [FEATURES],
      chosen ? { provider: chosen } : {},
    );
    try {
      const background = randomRows(21, SHAPLEY_BACKGROUND);
      const x = randomRows(22, 1);
      const problem = { x, background, rowWidth: FEATURES, players: playersFor(FEATURES, 1) };
      const f = (input: Float32Array, n: number): Promise<Float64Array> => mlp.runBatch(input, n);
      await exactShapley(problem, f);
      const times: number[] = [];
      let maxGap = 0;
      for (let i = 0; i < SHAPLEY_RUNS; i++) {
        const t0 = process.hrtime.bigint();
        const r = await exactShapley(problem, f);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const sum = r.contributions.reduce((a, b) => a + b, 0);
        maxGap = Math.max(maxGap, Math.abs(sum - (r.prediction - r.baseValue)));
      }
      times.sort((a, b) => a - b);
      const median = percentile(times, 50);
      figures.push({
        name: 'exact Shapley, 12 features (4,096 coalitions)',
        value: Math.round(median * 100) / 100,
        unit: 'ms',
        ...atMost(median, 30, 'ms'),
        note: `median of ${SHAPLEY_RUNS}; ${SHAPLEY_BACKGROUND} background rows = ${4096 * SHAPLEY_BACKGROUND} rows in one run; max |sum - (f(x) - base)| = ${maxGap.toExponential(1)}; provider ${mlp.provider}`,
      });
    } finally {
      await mlp.release();
    }

    // TreeSHAP: 200 trees of depth 6, straight from the ONNX bytes.
    const shap = new OnnxTreeShap(decodeTreeEnsemble(buildTreeRegressor(ensemble(3, 200, 6))), FEATURES);
    const rows = randomRows(31, TREESHAP_ROWS);
    for (let r = 0; r < 20; r++) shap.explain(rows, r * FEATURES);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < TREESHAP_ROWS; r++) shap.explain(rows, r * FEATURES);
    const perRow = Number(process.hrtime.bigint() - t0) / 1e6 / TREESHAP_ROWS;
    const cpu = process.cpuUsage(cpu0);
    const cpuPerRow = (cpu.user + cpu.system) / 1000 / TREESHAP_ROWS;
    figures.push({
      name: 'TreeSHAP per row, 200 trees depth 6',
      value: Math.round(perRow * 1000) / 1000,
      unit: 'ms',
      ...atMost(perRow, 2, 'ms'),
      note: `mean wall time over ${TREESHAP_ROWS} rows (CPU ${cpuPerRow.toFixed(3)} ms/row, load average ${loadavg()[0]!.toFixed(1)}), ${FEATURES} features, exact path-dependent algorithm in JS`,
    });
    return figures;
  },
};
