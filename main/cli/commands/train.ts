import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppErrorException } from '../../../shared/errors.ts';
import type { FeatureSpec } from '../../../shared/feature-spec.ts';
import { CliError, EXIT_USAGE, globalOptions, printJson, resourcesDir } from '../context.ts';
import { createProgress } from '../progress.ts';
import { readSeries, readSpecFile } from './features.ts';
import { parseLabel, type LabelDefinition } from '../../core/training/labels.ts';
import {
  DEFAULT_TRAIN_OPTIONS,
  runTraining,
  type TrainOptions,
  type ModelKind,
  type SeriesInput,
} from '../../core/training/train.ts';
import { formatCardSummary, serialiseCard } from '../../core/training/card-format.ts';
import { saveModelFiles } from '../../core/training/save.ts';
import { openDatabase } from '../../core/store/sqlite.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { CandleStore } from '../../core/data/candle-store.ts';
import { TIMEFRAMES, isTimeframe } from '../../../shared/market.ts';

/**
 * `vantage train`: fit a GBDT (or logistic regression baseline) on a candle series, evaluate it
 * walk-forward with purging and an embargo, and write <name>.onnx + <name>.card.json.
 */

export const DEFAULT_MODEL_NAME = 'default-btc-5m';

export function defaultSpecPath(): string {
  return join(resourcesDir(), 'models', `${DEFAULT_MODEL_NAME}.card.json`);
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function number(flag: string, value: string, check: (n: number) => boolean, rule: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new CliError(`${flag} must be ${rule}, not '${value}'.`, EXIT_USAGE);
  return n;
}
const int = (flag: string, value: string, min: number, max: number): number =>
  number(flag, value, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer ${min}..${max}`);

interface RawOptions {
  data: string;
  spec?: string;
  label: string;
  model: string;
  out: string;
  name: string;
  trees: string;
  depth: string;
  learningRate: string;
  minLeaf: string;
  lambda: string;
  subsample: string;
  colsample: string;
  earlyStopping: string;
  folds: string;
  embargo?: string;
  seed: string;
  threshold?: string;
  fee: string;
  unseen: string[];
}

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof AppErrorException && error.code === 'BAD_INPUT')
      throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

export function parseTrainOptions(raw: RawOptions, spec: FeatureSpec, command: string): TrainOptions {
  if (raw.model !== 'gbdt' && raw.model !== 'logistic')
    throw new CliError(`--model must be gbdt or logistic, not '${raw.model}'.`, EXIT_USAGE);
  if (!NAME.test(raw.name))
    throw new CliError(
      `--name must be 1-100 letters, digits, '.', '_' or '-', not '${raw.name}'.`,
      EXIT_USAGE,
    );
  const label: LabelDefinition = usage(() => parseLabel(raw.label));
  const model: ModelKind = raw.model;
  const regression = label.kind === 'return';
  if (model === 'logistic' && regression)
    throw new CliError(
      `--model logistic needs a classification label (sign:H or above:H:X), not '${raw.label}'.`,
      EXIT_USAGE,
    );
  return {
    ...DEFAULT_TRAIN_OPTIONS,
    name: raw.name,
    spec,
    label,
    model,
    trees: int('--trees', raw.trees, 1, 10_000),
    depth: int('--depth', raw.depth, 1, 16),
    learningRate: number('--learning-rate', raw.learningRate, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
    minLeaf: int('--min-leaf', raw.minLeaf, 1, 10_000_000),
    lambda: number('--lambda', raw.lambda, (n) => n >= 0 && n <= 1e6, 'a number 0..1e6'),
    rowSubsample: number('--subsample', raw.subsample, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
    featureSubsample: number('--colsample', raw.colsample, (n) => n > 0 && n <= 1, 'a number in (0, 1]'),
    earlyStoppingRounds: int('--early-stopping', raw.earlyStopping, 0, 10_000),
    folds: int('--folds', raw.folds, 1, 50),
    embargo: raw.embargo === undefined ? label.horizon : int('--embargo', raw.embargo, 0, 100_000),
    seed: int('--seed', raw.seed, 0, 0xffffffff),
    threshold:
      raw.threshold === undefined
        ? regression
          ? 0
          : 0.5
        : number('--threshold', raw.threshold, () => true, 'a number'),
    feeRate: number('--fee', raw.fee, (n) => n >= 0 && n < 0.1, 'a fraction in [0, 0.1) (0.001 = 0.1 %)'),
    command,
  };
}

const STORED_SERIES = /^([^:/\\]+):([^:]+):([0-9]+[smhdwM])$/;

/** A series file, or a stored series venue:symbol:timeframe read from market.db in the data folder. */
function loadSeries(arg: string, dataDir: string): SeriesInput {
  const stored = existsSync(arg) ? null : STORED_SERIES.exec(arg);
  if (!stored) return { source: basename(arg), bars: readSeries(arg) };
  const [, venue, symbol, timeframe] = stored as unknown as [string, string, string, string];
  if (!isTimeframe(timeframe))
    throw new CliError(
      `Unknown timeframe '${timeframe}' in '${arg}'; one of ${TIMEFRAMES.join(', ')}.`,
      EXIT_USAGE,
    );
  const path = join(dataDir, 'market.db');
  if (!existsSync(path))
    throw new CliError(
      `'${arg}' names a stored series, but there is no market.db in ${dataDir}; fetch or import candles first (vantage data ...), or pass a series file.`,
    );
  const market = openDatabase({
    name: 'market.db',
    path,
    migrations: marketMigrations,
    durability: 'normal',
    isReadOnly: true,
  });
  try {
    const bars = new CandleStore(market.db).query({ venue, symbol, timeframe });
    if (bars.time.length === 0)
      throw new CliError(`No stored candles for ${venue} ${symbol} ${timeframe} in ${path}.`);
    return { source: arg, bars };
  } finally {
    market.close();
  }
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** The command with every effective setting spelled out (defaults included), for the card. */
function canonicalCommand(raw: RawOptions, o: TrainOptions): string {
  const args = ['vantage', 'train', '--data', raw.data];
  if (raw.spec) args.push('--spec', raw.spec);
  args.push('--label', raw.label, '--model', o.model, '--out', raw.out, '--name', o.name);
  if (o.model === 'gbdt') {
    args.push(
      '--trees',
      String(o.trees),
      '--depth',
      String(o.depth),
      '--learning-rate',
      String(o.learningRate),
      '--min-leaf',
      String(o.minLeaf),
      '--lambda',
      String(o.lambda),
    );
    args.push(
      '--subsample',
      String(o.rowSubsample),
      '--colsample',
      String(o.featureSubsample),
      '--early-stopping',
      String(o.earlyStoppingRounds),
    );
  }
  args.push(
    '--folds',
    String(o.folds),
    '--embargo',
    String(o.embargo),
    '--seed',
    String(o.seed),
    '--threshold',
    String(o.threshold),
    '--fee',
    String(o.feeRate),
  );
  for (const u of raw.unseen) args.push('--unseen', u);
  return args.map(quote).join(' ');
}

export function register(program: Command): void {
  program
    .command('train')
    .description(
      "Train a model on a candle series: GBDT (or a logistic regression baseline) on the feature spec's columns, walk-forward evaluation with purging and an embargo, ONNX export + model card with out-of-sample metrics and explanations.",
    )
    .requiredOption(
      '--data <series>',
      'series file (Freqtrade JSON [[ms,o,h,l,c,v],...], FreqUI JSON or CSV) or stored series venue:symbol:timeframe',
    )
    .option(
      '--spec <file>',
      `feature spec JSON, or a model card holding one under featureSpec (default: the bundled model's, resources/models/${DEFAULT_MODEL_NAME}.card.json)`,
    )
    .requiredOption(
      '--label <definition>',
      'sign:H (close H bars ahead above now), above:H:X (H-bar return above X, e.g. above:12:0.002) or return:H (regression)',
    )
    .option('--model <kind>', 'gbdt or logistic', 'gbdt')
    .requiredOption('--out <dir>', 'output folder for <name>.onnx and <name>.card.json (created if missing)')
    .option('--name <name>', 'model name (file names and card)', 'model')
    .option(
      '--trees <n>',
      'boosting rounds (upper bound; early stopping may keep fewer)',
      String(DEFAULT_TRAIN_OPTIONS.trees),
    )
    .option('--depth <n>', 'maximum tree depth', String(DEFAULT_TRAIN_OPTIONS.depth))
    .option('--learning-rate <x>', 'shrinkage per tree', String(DEFAULT_TRAIN_OPTIONS.learningRate))
    .option('--min-leaf <n>', 'minimum training rows per leaf', String(DEFAULT_TRAIN_OPTIONS.minLeaf))
    .option('--lambda <x>', 'L2 regularisation of leaf values', String(DEFAULT_TRAIN_OPTIONS.lambda))
    .option('--subsample <x>', 'share of rows each tree sees', String(DEFAULT_TRAIN_OPTIONS.rowSubsample))
    .option(
      '--colsample <x>',
      'share of features each tree may split on',
      String(DEFAULT_TRAIN_OPTIONS.featureSubsample),
    )
    .option(
      '--early-stopping <n>',
      'stop after n trees without validation improvement (0 = off)',
      String(DEFAULT_TRAIN_OPTIONS.earlyStoppingRounds),
    )
    .option('--folds <n>', 'walk-forward test folds', String(DEFAULT_TRAIN_OPTIONS.folds))
    .option(
      '--embargo <bars>',
      "bars left out between a training label's end and the next test block, on top of the purge (default: the label horizon)",
    )
    .option('--seed <n>', 'random seed (row/feature subsampling)', String(DEFAULT_TRAIN_OPTIONS.seed))
    .option(
      '--threshold <x>',
      'evaluation strategy: long when the score is above this (default 0.5 for classifiers, 0 for return:H)',
    )
    .option(
      '--fee <x>',
      'evaluation strategy: fee per position change as a fraction of notional',
      String(DEFAULT_TRAIN_OPTIONS.feeRate),
    )
    .option(
      '--unseen <series>',
      'another series to evaluate the model on as an unseen asset (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action((raw: RawOptions, cmd: Command) => {
      const { json } = globalOptions(cmd);
      const specPath = raw.spec ?? defaultSpecPath();
      if (!raw.spec && !existsSync(specPath))
        throw new CliError(
          `No --spec given and the bundled model's card is missing (${specPath}).`,
          EXIT_USAGE,
        );
      const spec = readSpecFile(specPath);
      const options = parseTrainOptions(raw, spec, '');
      options.command = canonicalCommand(raw, options);
      const { dataDir } = globalOptions(cmd);
      const series = loadSeries(raw.data, dataDir);
      const unseen = raw.unseen.map((u) => loadSeries(u, dataDir));
      const progress = createProgress('train', 1);
      let result;
      try {
        result = usage(() =>
          runTraining(series, options, unseen, {
            onProgress: (p) => progress.update(p.done, p.total, p.phase),
          }),
        );
      } finally {
        progress.stop();
      }
      const cardText = serialiseCard(result.card);
      const paths = saveModelFiles(raw.out, options.name, result.onnx, cardText);
      if (json)
        printJson({
          ...paths,
          sha256: result.card.sha256,
          bytes: result.onnx.length,
          evaluation: result.card.evaluation.outOfSample.overall,
          verdict: result.card.evaluation.verdict,
        });
      else
        process.stdout.write(
          `${formatCardSummary(result.card)}\nWrote ${paths.onnxPath} (${result.onnx.length} bytes, sha256 ${result.card.sha256}) and ${paths.cardPath}\n`,
        );
    });
}
