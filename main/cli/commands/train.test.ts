import { afterEach, beforeEach, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describeWithData, testDataPath, TEST_DATA_DIR } from '../../../tests/support/test-data.ts';
import { runCliProcess } from '../test-support/run-cli.ts';
import { REPO_ROOT } from '../context.ts';
import { readSpecFile } from './features.ts';
import { parseTrainOptions } from './train.ts';
import { loadSeriesFile } from '../../core/features/series-file.ts';
import { runTraining } from '../../core/training/train.ts';
import { startTrainingJob } from '../../core/training/train-worker.ts';
import type { ModelCardDocument } from '../../core/training/card.ts';
import { serialiseCard } from '../../core/training/card-format.ts';
import { readGbdtFromOnnx } from '../../core/training/onnx-export.ts';
import { treeShap } from '../../core/training/tree-shap.ts';
import { openDatabase } from '../../core/store/sqlite.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { CandleStore } from '../../core/data/candle-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-train-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MODELS = join(REPO_ROOT, 'resources', 'models');
const SHIPPED_ONNX = join(MODELS, 'default-btc-5m.onnx');
const SHIPPED_CARD = join(MODELS, 'default-btc-5m.card.json');

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The card's command as argv, with the reference data where this machine has it. */
function cardArgv(card: ModelCardDocument): string[] {
  const argv = card.training.command!.split(' ').slice(2); // drop 'vantage train'
  return argv.map((a) =>
    a.startsWith('../shared/data/') ? join(TEST_DATA_DIR, a.slice('../shared/data/'.length)) : a,
  );
}

function optionValue(argv: string[], flag: string): string {
  const i = argv.indexOf(flag);
  if (i < 0) throw new Error(`${flag} missing from the card command`);
  return argv[i + 1]!;
}

it('the shipped default model matches its card: sha256, file name, inputs and honest evaluation sections', () => {
  const bytes = readFileSync(SHIPPED_ONNX);
  const card = JSON.parse(readFileSync(SHIPPED_CARD, 'utf8')) as ModelCardDocument;
  expect(card.sha256).toBe(sha256(bytes));
  expect(card.file).toBe('default-btc-5m.onnx');
  expect(card.inputs[0]!.shape).toEqual(['N', card.featureColumns.length]);
  expect(card.featureSpec.features.length).toBeGreaterThanOrEqual(10);
  expect(card.label.definition).toBe('sign:12');
  expect(card.training.command).toMatch(
    /^vantage train --data \.\.\/shared\/data\/crypto\/nostalgiaforinfinity\/BTC_USDT-5m\.json /,
  );
  expect(card.evaluation.outOfSample.folds.length).toBeGreaterThanOrEqual(3);
  expect(card.evaluation.inSample.note).toMatch(/NOT out-of-sample/);
  expect(card.evaluation.unseenAssets.map((u) => u.source)).toContain('ETH_USDT-5m.json');
  const overall = card.evaluation.outOfSample.overall.trading;
  if (!(
    overall.strategy.sharpe > overall.buyAndHold.sharpe &&
    overall.strategy.totalReturn > overall.buyAndHold.totalReturn
  )) {
    expect(card.evaluation.verdict).toContain('No edge over buy-and-hold');
  }
  expect(card.explanations.features.map((f) => f.feature)).toEqual(card.featureColumns);
  expect(bytes.length).toBeLessThan(500_000);
});

describeWithData('vantage train (real candles)', () => {
  const btc = testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json');
  const eth = testDataPath('crypto', 'nostalgiaforinfinity', 'ETH_USDT-5m.json');

  it('reproduces the shipped default model byte for byte from the command in its card, and ONNX Runtime agrees with the trainer', async () => {
    const card = JSON.parse(readFileSync(SHIPPED_CARD, 'utf8')) as ModelCardDocument;
    const argv = cardArgv(card);
    const raw = {
      data: optionValue(argv, '--data'),
      spec: resolve(REPO_ROOT, optionValue(argv, '--spec')),
      label: optionValue(argv, '--label'),
      model: optionValue(argv, '--model'),
      out: dir,
      name: optionValue(argv, '--name'),
      trees: optionValue(argv, '--trees'),
      depth: optionValue(argv, '--depth'),
      learningRate: optionValue(argv, '--learning-rate'),
      minLeaf: optionValue(argv, '--min-leaf'),
      lambda: optionValue(argv, '--lambda'),
      subsample: optionValue(argv, '--subsample'),
      colsample: optionValue(argv, '--colsample'),
      earlyStopping: optionValue(argv, '--early-stopping'),
      folds: optionValue(argv, '--folds'),
      embargo: optionValue(argv, '--embargo'),
      seed: optionValue(argv, '--seed'),
      threshold: optionValue(argv, '--threshold'),
      fee: optionValue(argv, '--fee'),
      unseen: [optionValue(argv, '--unseen')],
    };
    const options = parseTrainOptions(raw, readSpecFile(raw.spec), card.training.command!);
    const result = runTraining({ source: 'BTC_USDT-5m.json', bars: loadSeriesFile(raw.data) }, options, [
      { source: 'ETH_USDT-5m.json', bars: loadSeriesFile(raw.unseen[0]!) },
    ]);
    expect(Buffer.from(result.onnx).equals(readFileSync(SHIPPED_ONNX))).toBe(true);
    expect(serialiseCard(result.card)).toBe(readFileSync(SHIPPED_CARD, 'utf8'));

    // ONNX Runtime on the last test fold's rows vs the trainer's own probabilities.
    const session = await ort.InferenceSession.create(result.onnx);
    const features = card.featureColumns.length;
    const out = await session.run({
      input: new ort.Tensor('float32', result.check.inputs, [result.check.rows, features]),
    });
    await session.release();
    const probabilities = out.probabilities!.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < result.check.rows; i++)
      maxDiff = Math.max(maxDiff, Math.abs(probabilities[2 * i + 1]! - result.check.predictions[i]!));
    expect(result.check.rows).toBeGreaterThan(10_000);
    expect(maxDiff).toBeLessThanOrEqual(1e-6);

    // Explanations from the shipped file alone: SHAP contributions + bias add up to ORT's margin.
    const fromFile = readGbdtFromOnnx(readFileSync(SHIPPED_ONNX));
    const margin = out.margin!.data as Float32Array;
    for (let r = 0; r < 200; r++) {
      const { contributions, bias } = treeShap(fromFile, result.check.inputs, r * features);
      expect(Math.abs(bias + contributions.reduce((a, b) => a + b, 0) - margin[r]!)).toBeLessThanOrEqual(
        1e-5,
      );
    }
  }, 180_000);

  it('trains from the CLI, writes the model and its card atomically, and a rerun gives identical files', async () => {
    const args = [
      'train',
      '--data',
      btc,
      '--label',
      'above:6:0.001',
      '--out',
      join(dir, 'a'),
      '--name',
      'm',
      '--trees',
      '15',
      '--depth',
      '3',
      '--folds',
      '3',
      '--unseen',
      eth,
    ];
    const first = await runCliProcess(args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/fold 3 .* AUC/);
    expect(first.stdout).toMatch(/buy&hold/);
    const second = await runCliProcess([...args.slice(0, 6), join(dir, 'b'), ...args.slice(7)]);
    expect(second.code).toBe(0);
    const a = readFileSync(join(dir, 'a', 'm.onnx'));
    expect(a.equals(readFileSync(join(dir, 'b', 'm.onnx')))).toBe(true);
    const card = JSON.parse(readFileSync(join(dir, 'a', 'm.card.json'), 'utf8')) as ModelCardDocument;
    expect(card.sha256).toBe(sha256(a));
    expect(card.label).toMatchObject({
      kind: 'above',
      horizon: 6,
      threshold: 0.001,
      definition: 'above:6:0.001',
    });
    // --spec defaulted to the bundled model's feature spec; --embargo to the horizon.
    const shipped = JSON.parse(readFileSync(SHIPPED_CARD, 'utf8')) as ModelCardDocument;
    expect(card.featureSpec).toEqual(shipped.featureSpec);
    expect(card.training.command).toContain('--embargo 6');
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['m.card.json', 'm.onnx']);
  }, 180_000);

  it('trains the logistic baseline and a return:H regression', async () => {
    const logistic = await runCliProcess([
      '--json',
      'train',
      '--data',
      btc,
      '--label',
      'sign:12',
      '--model',
      'logistic',
      '--out',
      dir,
      '--name',
      'lr',
      '--folds',
      '2',
    ]);
    expect(logistic.code).toBe(0);
    const summary = JSON.parse(logistic.stdout) as {
      sha256: string;
      evaluation: { metrics: { auc: number } };
    };
    expect(summary.evaluation.metrics.auc).toBeGreaterThan(0.4);
    const lrCard = JSON.parse(readFileSync(join(dir, 'lr.card.json'), 'utf8')) as ModelCardDocument;
    expect(lrCard.featureSpec.normalisation.kind).toBe('zscore');
    const regression = await runCliProcess([
      'train',
      '--data',
      btc,
      '--label',
      'return:12',
      '--out',
      dir,
      '--name',
      'reg',
      '--trees',
      '10',
      '--folds',
      '2',
    ]);
    expect(regression.code).toBe(0);
    expect(regression.stdout).toMatch(/corr /);
    const regCard = JSON.parse(readFileSync(join(dir, 'reg.card.json'), 'utf8')) as ModelCardDocument;
    expect(regCard.task).toBe('regression');
    expect(regCard.outputs[0]!.name).toBe('prediction');
  }, 180_000);

  it('runs in a worker thread with progress, gives the same bytes as in-process training, and can be cancelled', async () => {
    const spec = readSpecFile(SHIPPED_CARD);
    const bars = loadSeriesFile(btc);
    const options = parseTrainOptions(
      {
        data: btc,
        label: 'sign:12',
        model: 'gbdt',
        out: dir,
        name: 'w',
        trees: '12',
        depth: '3',
        learningRate: '0.1',
        minLeaf: '200',
        lambda: '1',
        subsample: '0.8',
        colsample: '0.8',
        earlyStopping: '0',
        folds: '2',
        seed: '3',
        fee: '0.001',
        unseen: [],
      },
      spec,
      'test',
    );
    const phases = new Set<string>();
    const job = startTrainingJob({ source: 'BTC', bars }, options, [], (p) => phases.add(p.phase));
    const result = await job.result;
    expect(phases).toContain('fold 1/2');
    expect(phases).toContain('final model');
    const inProcess = runTraining({ source: 'BTC', bars }, options);
    expect(Buffer.from(result.onnx).equals(Buffer.from(inProcess.onnx))).toBe(true);

    const cancelled = startTrainingJob(
      { source: 'BTC', bars },
      { ...options, trees: 5000, earlyStoppingRounds: 0 },
      [],
      (p) => {
        if (p.done > 2) cancelled.cancel();
      },
    );
    await expect(cancelled.result).rejects.toMatchObject({ code: 'CANCELLED' });
  }, 180_000);

  it('trains on a stored series venue:symbol:timeframe from market.db in the data folder', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const market = openDatabase({
      name: 'market.db',
      path: join(dataDir, 'market.db'),
      migrations: marketMigrations,
      durability: 'normal',
    });
    new CandleStore(market.db).upsert(
      { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m' },
      loadSeriesFile(btc),
    );
    market.close();
    const result = await runCliProcess([
      '--data-dir',
      dataDir,
      '--json',
      'train',
      '--data',
      'binance:BTC/USDT:5m',
      '--label',
      'sign:12',
      '--out',
      join(dir, 'out'),
      '--trees',
      '5',
      '--folds',
      '2',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const card = JSON.parse(readFileSync(join(dir, 'out', 'model.card.json'), 'utf8')) as ModelCardDocument;
    expect(card.training.data).toMatchObject({
      source: 'binance:BTC/USDT:5m',
      bars: 65_741,
      firstBar: '2020-12-01T00:00:00.000Z',
    });
    const missing = await runCliProcess([
      '--data-dir',
      dataDir,
      'train',
      '--data',
      'binance:ETH/USDT:5m',
      '--label',
      'sign:12',
      '--out',
      join(dir, 'out2'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No stored candles for binance ETH\/USDT 5m/);
  }, 180_000);

  it('explains bad input clearly with usage (2) and failure (1) exit codes, and writes nothing', async () => {
    const out = join(dir, 'none');
    const cases: [string[], number, RegExp][] = [
      [['--label', 'peek:3'], 2, /sign:H, above:H:THRESHOLD, return:H/],
      [['--label', 'sign:12', '--model', 'forest'], 2, /--model must be gbdt or logistic/],
      [['--label', 'return:12', '--model', 'logistic'], 2, /needs a classification label/],
      [['--label', 'sign:12', '--depth', '0'], 2, /--depth must be an integer 1..16/],
      [['--label', 'sign:2000', '--folds', '40'], 1, /too few for 40 walk-forward folds/],
    ];
    for (const [extra, code, message] of cases) {
      const result = await runCliProcess(['train', '--data', btc, '--out', out, ...extra]);
      expect(result.code, extra.join(' ')).toBe(code);
      expect(result.stderr).toMatch(message);
    }
    const missing = await runCliProcess([
      'train',
      '--data',
      join(dir, 'nope.json'),
      '--label',
      'sign:1',
      '--out',
      out,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No such series file/);
    const stored = await runCliProcess([
      '--data-dir',
      join(dir, 'empty'),
      'train',
      '--data',
      'binance:BTC/USDT:5m',
      '--label',
      'sign:1',
      '--out',
      out,
    ]);
    expect(stored.code).toBe(1);
    expect(stored.stderr).toMatch(/no market.db/);
    expect(existsSync(out)).toBe(false);
  }, 180_000);
});
