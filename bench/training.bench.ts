import { availableParallelism, loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { SeededRandom } from '../main/core/random.ts';
import { predictGbdt, trainGbdt, type Dataset } from '../main/core/training/gbdt.ts';
import { exportGbdtOnnx } from '../main/core/training/onnx-export.ts';
import { rocAuc } from '../main/core/training/metrics.ts';
import { atMost, type Benchmark, type Figure } from './types.ts';

/**
 * GBDT training time on 500,000 rows x 20 features, 200 trees, depth 6 (all rows and features per
 * tree, no early stopping: the full work), then ONNX Runtime scoring throughput of that ensemble.
 * Data: 5 informative features (linear + interaction) and 15 noise features, seeded.
 */

const ROWS = 500_000;
const FEATURES = 20;
const TREES = 200;
const DEPTH = 6;
const SCORE_BATCH = 10_000;

function makeData(rows: number, seed: number): Dataset {
  const rnd = new SeededRandom(seed);
  const x = new Float32Array(rows * FEATURES);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = 0; f < FEATURES; f++) {
      const v = rnd.normal();
      x[r * FEATURES + f] = v;
      if (f < 5) s += 0.4 * v;
    }
    s += 0.5 * x[r * FEATURES]! * x[r * FEATURES + 1]!;
    y[r] = s + rnd.normal() > 0 ? 1 : 0;
  }
  return { x, y, rows, featureCount: FEATURES };
}

export const benchmark: Benchmark = {
  name: 'training',
  description: `GBDT training ${ROWS} x ${FEATURES}, ${TREES} trees, depth ${DEPTH} (2 threads) and ONNX Runtime scoring throughput`,
  async run(): Promise<Figure[]> {
    const train = makeData(ROWS, 1);
    const test = makeData(100_000, 2);
    const load = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const model = trainGbdt(train, {
      objective: 'binary',
      trees: TREES,
      maxDepth: DEPTH,
      learningRate: 0.1,
      minLeaf: 20,
      lambda: 1,
      rowSubsample: 1,
      featureSubsample: 1,
      seed: 1,
      threads: 2,
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const auc = rocAuc(predictGbdt(model, test.x), test.y);

    const bytes = exportGbdtOnnx(model, { name: 'bench' });
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 });
    const batch = test.x.subarray(0, SCORE_BATCH * FEATURES);
    const feeds = { input: new ort.Tensor('float32', batch, [SCORE_BATCH, FEATURES]) };
    for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
    let scored = 0;
    const t1 = performance.now();
    while (performance.now() - t1 < 3000) {
      await session.run(feeds);
      scored += SCORE_BATCH;
    }
    const rowsPerSecond = scored / ((performance.now() - t1) / 1000);
    const single = { input: new ort.Tensor('float32', batch.subarray(0, FEATURES), [1, FEATURES]) };
    for (let i = 0; i < 100; i++) await session.run(single);
    const t2 = performance.now();
    const singles = 2000;
    for (let i = 0; i < singles; i++) await session.run(single);
    const singleUs = ((performance.now() - t2) * 1000) / singles;
    await session.release();
    const note = `${availableParallelism()} CPUs visible, 1-min load average ${load.toFixed(2)} at start (other processes share the cores); held-out AUC ${auc.toFixed(3)}; ${model.trees.length} trees, ONNX ${bytes.length} bytes`;
    return [
      {
        name: `train ${ROWS} x ${FEATURES}, ${TREES} trees, depth ${DEPTH}`,
        value: seconds,
        unit: 's',
        ...atMost(seconds, 30, 's'),
        note,
      },
      {
        name: 'train CPU time (all threads)',
        value: cpuSeconds,
        unit: 's',
        note: 'user + system CPU seconds summed over the main and helper threads',
      },
      {
        name: `ONNX Runtime scoring (batches of ${SCORE_BATCH}, 2 intra-op threads)`,
        value: rowsPerSecond,
        unit: 'rows/s',
      },
      { name: 'ONNX Runtime single-row latency', value: singleUs, unit: 'us' },
    ];
  },
};
