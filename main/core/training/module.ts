import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import { appError, AppErrorException } from '../../../shared/errors.ts';
import type { FeatureSpec } from '../../../shared/feature-spec.ts';
import type { CandleColumns } from '../../../shared/market.ts';
import type { TrainJob, TrainResultSummary } from '../../../shared/contract/training.ts';
import { MODEL_NAME_PATTERN } from '../../../shared/contract/training.ts';
import type { ParsedRequestOf } from '../../../shared/contract/index.ts';
import type { CandleStore } from '../data/candle-store.ts';
import type { CandleReader } from '../data/candle-reader.ts';
import { MARKET_READER_SERVICE, MARKET_STORE_SERVICE } from '../data/module.ts';
import { parseFeatureSpec } from '../features/pipeline.ts';
import { MODELS_SERVICE } from '../models/module.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ModelCardDocument } from './card.ts';
import { formatLabel, parseLabel } from './labels.ts';
import type { ClassificationMetrics, RegressionMetrics } from './metrics.ts';
import { saveModelFiles } from './save.ts';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from './train.ts';
import { startTrainingJob, type TrainJobResult } from './train-worker.ts';

/** The bundled model whose feature spec app-trained models use (as `vantage train` does without --spec). */
export const DEFAULT_SPEC_CARD = 'default-btc-5m.card.json';
/** Folder under the data folder holding the user's models (read by the model registry). */
export const USER_MODELS_FOLDER = 'models';
const MAX_KEPT_JOBS = 20;

/** Default model name from the request: BTCUSDT-5m-sign_12 (always a valid file name). */
export function defaultModelName(symbol: string, timeframe: string, label: string): string {
  const raw = `${symbol}-${timeframe}-${label}`
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '');
  return raw.slice(0, 100) || 'model';
}

const finiteOrNull = (n: number | undefined): number | null =>
  n !== undefined && Number.isFinite(n) ? n : null;

function summarise(
  card: ModelCardDocument,
  folder: string,
  paths: { onnxPath: string; cardPath: string },
): TrainResultSummary {
  const overall = card.evaluation.outOfSample.overall;
  const classification =
    card.task === 'binary-classification' ? (overall.metrics as ClassificationMetrics) : null;
  const regression = card.task === 'regression' ? (overall.metrics as RegressionMetrics) : null;
  return {
    name: card.name,
    folder,
    onnxFile: paths.onnxPath,
    cardFile: paths.cardPath,
    sha256: card.sha256,
    task: card.task,
    bars: card.training.data.bars,
    usableRows: card.training.data.usableRows,
    folds: card.evaluation.outOfSample.folds.length,
    outOfSampleRows: overall.metrics.rows,
    auc: finiteOrNull(classification?.auc),
    accuracy: finiteOrNull(classification?.accuracy),
    positiveRate: finiteOrNull(classification?.positiveRate),
    correlation: finiteOrNull(regression?.correlation),
    directionAccuracy: finiteOrNull(regression?.directionAccuracy),
    strategyReturn: finiteOrNull(overall.trading.strategy.totalReturn),
    buyAndHoldReturn: finiteOrNull(overall.trading.buyAndHold.totalReturn),
    verdict: card.evaluation.verdict,
  };
}

/**
 * The 'training' engine module (the Model manager's Train section): trains a model on a stored
 * series from market.db on a worker thread (never on the engine's event loop), publishes progress on
 * `training:changed`, supports cancel, and saves the result into <dataDir>/models, where the model
 * registry finds user models. One training at a time: each already uses a full core, and a second
 * would only make both slower.
 */
export const trainingModule: EngineModule = {
  name: 'training',
  start(context: EngineContext): ModuleInstance {
    const { scheduler, bus, logger } = context;
    const modelsDir = join(context.dataDir, USER_MODELS_FOLDER);
    const jobs = new Map<string, TrainJob>();
    const cancels = new Map<string, () => void>();
    const cancelled = new Set<string>();
    let nextId = 1;
    let stopped = false;

    const list = (): TrainJob[] =>
      [...jobs.values()].sort((a, b) => b.startedMs - a.startedMs || b.jobId.localeCompare(a.jobId));
    const publish = (): void => bus.publish('training:changed', { jobs: list() });
    const update = (jobId: string, patch: Partial<TrainJob>): void => {
      const job = jobs.get(jobId);
      if (!job) return;
      jobs.set(jobId, { ...job, ...patch });
      publish();
    };
    const prune = (): void => {
      for (const j of list()
        .filter((x) => x.state !== 'running')
        .slice(MAX_KEPT_JOBS))
        jobs.delete(j.jobId);
    };

    const loadSpec = (): FeatureSpec => {
      const path = join(context.resourcesDir, 'models', DEFAULT_SPEC_CARD);
      try {
        const doc = JSON.parse(readFileSync(path, 'utf8')) as { featureSpec?: unknown };
        return parseFeatureSpec(doc.featureSpec);
      } catch (error) {
        throw appError(
          'TRAINING_FAILED',
          `Cannot read the feature spec of the bundled model (${path}): ${(error as Error).message}`,
        );
      }
    };

    const readBars = async (req: ParsedRequestOf<'training:start'>): Promise<CandleColumns> => {
      const key = { venue: req.venue, symbol: req.symbol, timeframe: req.timeframe };
      const range = {
        ...(req.fromMs === undefined ? {} : { fromMs: req.fromMs }),
        ...(req.toMs === undefined ? {} : { toMs: req.toMs }),
      };
      // The reader thread keeps a large read off the event loop; the store is the fallback.
      const reader = context.services.get(MARKET_READER_SERVICE) as CandleReader | undefined;
      if (reader) return reader.read(key, range);
      const store = context.services.get(MARKET_STORE_SERVICE) as CandleStore;
      return store.query(key, range);
    };

    const run = async (
      jobId: string,
      req: ParsedRequestOf<'training:start'>,
      options: TrainOptions,
      overwrite: boolean,
    ): Promise<void> => {
      update(jobId, { phase: 'reading candles', message: 'reading the stored series' });
      const bars = await readBars(req);
      if (cancelled.has(jobId)) throw appError('CANCELLED', 'Training cancelled.');
      if (bars.time.length === 0)
        throw appError(
          'NOT_FOUND',
          `No stored ${req.timeframe} candles for ${req.symbol} on ${req.venue} in that range.`,
        );
      const source = `${req.venue}:${req.symbol}:${req.timeframe}`;
      const job = startTrainingJob({ source, bars }, options, [], (p) =>
        update(jobId, {
          phase: p.phase,
          progress: p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0,
          message: `${p.phase} ${p.done}/${p.total}`,
        }),
      );
      cancels.set(jobId, () => job.cancel());
      let result: TrainJobResult;
      try {
        result = await job.result;
      } finally {
        cancels.delete(jobId);
      }
      if (cancelled.has(jobId) || stopped) throw appError('CANCELLED', 'Training cancelled.');
      if (!overwrite && existsSync(join(modelsDir, `${options.name}.onnx`)))
        throw appError(
          'CONFLICT',
          `A model named ${options.name} appeared in ${modelsDir} while training; train again with another name or overwrite.`,
        );
      const paths = saveModelFiles(modelsDir, options.name, result.onnx, result.cardText);
      const summary = summarise(result.card, modelsDir, paths);
      // The registry lists what it scanned; rescan so the Model manager shows the new model at once.
      const registry = context.services.get(MODELS_SERVICE) as ModelRegistry | undefined;
      if (registry) {
        registry.scan();
        bus.publish('models:changed', { models: registry.list() });
      }
      update(jobId, {
        state: 'done',
        progress: 1,
        phase: 'done',
        finishedMs: scheduler.nowMs(),
        result: summary,
        message: `saved ${options.name} (${bars.time.length.toLocaleString('en-US')} bars, ${summary.folds} folds out of sample)`,
      });
      logger.info({ jobId, name: options.name, folder: modelsDir }, 'model trained');
    };

    const handlers: Handlers = {
      'training:start': (req) => {
        if (!context.services.get(MARKET_STORE_SERVICE))
          throw appError(
            'STORE_CORRUPT',
            'market.db is not available, so no stored series can be trained on.',
          );
        const running = list().find((j) => j.state === 'running');
        if (running)
          throw appError('CONFLICT', `${running.name} is training; wait for it to finish or cancel it.`, {
            jobId: running.jobId,
          });
        const store = context.services.get(MARKET_STORE_SERVICE) as CandleStore;
        const key = { venue: req.venue, symbol: req.symbol, timeframe: req.timeframe };
        if (!store.getSeries(key))
          throw appError(
            'NOT_FOUND',
            `No stored ${req.timeframe} candles for ${req.symbol} on ${req.venue}; import or fetch them first.`,
            key,
          );
        const label = parseLabel(req.label);
        if (req.model === 'logistic' && label.kind === 'return')
          throw appError(
            'BAD_INPUT',
            `The logistic model needs a classification label (sign:H or above:H:X), not '${req.label}'.`,
          );
        const labelText = formatLabel(label);
        const name = req.name ?? defaultModelName(req.symbol, req.timeframe, labelText);
        if (!MODEL_NAME_PATTERN.test(name))
          throw appError('BAD_INPUT', `Model name '${name}' is not a valid file name.`);
        const overwrite = req.overwrite === true;
        if (!overwrite && existsSync(join(modelsDir, `${name}.onnx`)))
          throw appError(
            'CONFLICT',
            `A model named ${name} already exists in ${modelsDir}; choose another name or overwrite it.`,
            { name },
          );
        const spec = loadSpec();
        const options: TrainOptions = {
          ...DEFAULT_TRAIN_OPTIONS,
          name,
          spec,
          label,
          model: req.model,
          ...(req.trees === undefined ? {} : { trees: req.trees }),
          ...(req.depth === undefined ? {} : { depth: req.depth }),
          ...(req.learningRate === undefined ? {} : { learningRate: req.learningRate }),
          ...(req.minLeaf === undefined ? {} : { minLeaf: req.minLeaf }),
          ...(req.folds === undefined ? {} : { folds: req.folds }),
          ...(req.seed === undefined ? {} : { seed: req.seed }),
          embargo: req.embargo ?? label.horizon,
          threshold: label.kind === 'return' ? 0 : 0.5,
          command: `Vantage app: Model manager, train on stored series ${req.venue}:${req.symbol}:${req.timeframe}${req.fromMs === undefined ? '' : ` from ${new Date(req.fromMs).toISOString()}`}${req.toMs === undefined ? '' : ` until ${new Date(req.toMs).toISOString()}`} (label ${labelText}, ${req.model})`,
        };
        const jobId = `train-${nextId++}`;
        const job: TrainJob = {
          jobId,
          venue: req.venue,
          symbol: req.symbol,
          timeframe: req.timeframe,
          label: labelText,
          model: req.model,
          name,
          state: 'running',
          progress: 0,
          phase: 'starting',
          startedMs: scheduler.nowMs(),
          finishedMs: null,
          message: 'starting',
          result: null,
        };
        jobs.set(jobId, job);
        prune();
        publish();
        run(jobId, req, options, overwrite).catch((err: unknown) => {
          const isCancelled =
            cancelled.has(jobId) || (err instanceof AppErrorException && err.code === 'CANCELLED');
          const message = err instanceof Error ? err.message : String(err);
          update(jobId, {
            state: isCancelled ? 'cancelled' : 'failed',
            finishedMs: scheduler.nowMs(),
            message: isCancelled ? 'cancelled; nothing was saved' : message,
          });
          if (!isCancelled) logger.warn({ jobId, err: message }, 'training failed');
        });
        return job;
      },
      'training:cancel': (req) => {
        const job = jobs.get(req.jobId);
        if (!job) throw appError('NOT_FOUND', `No training ${req.jobId}.`);
        if (job.state === 'running') {
          cancelled.add(req.jobId);
          cancels.get(req.jobId)?.();
        }
        return jobs.get(req.jobId)!;
      },
      'training:jobs': () => ({ jobs: list() }),
    };
    return {
      handlers,
      stop() {
        stopped = true;
        for (const cancel of cancels.values()) cancel();
      },
    };
  },
};
