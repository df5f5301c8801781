import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import { appError } from '../../../shared/errors.ts';
import { MAX_CURVE_POINTS, type BacktestReport } from '../../../shared/contract/backtest.ts';
import type { CandleColumns, SeriesKey } from '../../../shared/market.ts';
import type { CandleStore } from '../data/candle-store.ts';
import { MARKET_STORE_SERVICE } from '../data/module.ts';
import { builtinInfo, listBuiltinStrategies } from '../strategy/builtins/index.ts';
import { DEFAULT_MODEL, MODELS_SERVICE } from '../models/module.ts';
import { predictionsFromRegistry, type ModelProvider, type PredictionArrays } from './model-predictions.ts';
import type { BacktestConfig } from '../../../shared/contract/backtest.ts';
import { selectRange } from './report.ts';
import { startReportJob, startSweep } from './sweep.ts';

/**
 * The 'backtest' engine module: backtest:run / backtest:sweep over series stored in market.db,
 * each on worker threads (the engine's loop stays free for live trading), progress on
 * backtest:progress, backtest:cancel by run id. Runs are not persisted: a report is returned to
 * the caller (the Backtest lab keeps it; the CLI writes files).
 */

const MAX_CONCURRENT_RUNS = 4;

export const backtestModule: EngineModule = {
  name: 'backtest',
  start(context: EngineContext): ModuleInstance {
    const running = new Map<string, { cancel(): void }>();

    const loadBars = (key: SeriesKey, startMs?: number, endMs?: number): CandleColumns => {
      const store = context.services.get(MARKET_STORE_SERVICE) as CandleStore | undefined;
      if (!store)
        throw appError(
          'ENGINE_UNAVAILABLE',
          'Market data store is not available (market.db failed to open); backtests need stored bars.',
        );
      const bars = selectRange(store.query(key), startMs, endMs);
      if (bars.time.length < 2)
        throw appError(
          'NOT_FOUND',
          `Stored series ${key.venue}:${key.symbol}:${key.timeframe} holds ${bars.time.length} bars in that range; import or fetch data first.`,
        );
      return bars;
    };

    const claim = (runId: string, handle: { cancel(): void }): void => {
      if (running.has(runId)) {
        handle.cancel();
        throw appError('CONFLICT', `A backtest with run id ${runId} is already running.`);
      }
      if (running.size >= MAX_CONCURRENT_RUNS) {
        handle.cancel();
        throw appError(
          'CONFLICT',
          `${MAX_CONCURRENT_RUNS} backtests are already running; wait for one to finish or cancel it.`,
        );
      }
      running.set(runId, handle);
    };

    /** Model outputs for model-driven strategies, from the models module's registry. */
    const modelPredictions = async (
      config: BacktestConfig,
      symbol: string,
      bars: CandleColumns,
    ): Promise<PredictionArrays | null> => {
      if (!builtinInfo(config.strategy.id).isModelDriven) return null;
      const registry = context.services.get(MODELS_SERVICE) as ModelProvider | undefined;
      if (!registry)
        throw appError(
          'ENGINE_UNAVAILABLE',
          `${config.strategy.id} needs a model, but the models module is not running.`,
        );
      return predictionsFromRegistry(registry, config.model ?? DEFAULT_MODEL, symbol, bars);
    };

    const progress = (runId: string, phase: string) => (done: number, total: number) =>
      context.bus.publish('backtest:progress', { runId, done, total, phase });

    const handlers: Handlers = {
      'backtest:strategies': () =>
        listBuiltinStrategies().map((s) => ({
          id: s.id,
          title: s.title,
          description: s.description,
          isModelDriven: s.isModelDriven,
          params: s.params.map((p) => ({
            name: p.name,
            kind: p.kind,
            default: p.default,
            description: p.description,
          })),
        })),
      'backtest:run': async (request) => {
        if (running.has(request.runId))
          throw appError('CONFLICT', `A backtest with run id ${request.runId} is already running.`);
        const bars = loadBars(request.series, request.config.startMs, request.config.endMs);
        const config = {
          ...request.config,
          symbol: request.config.symbol ?? request.series.symbol,
          ...(builtinInfo(request.config.strategy.id).isModelDriven
            ? { model: request.config.model ?? DEFAULT_MODEL }
            : {}),
        };
        const predictions = await modelPredictions(config, config.symbol, bars);
        const job = startReportJob(
          config.symbol,
          bars,
          config,
          MAX_CURVE_POINTS,
          progress(request.runId, 'bars'),
          predictions,
        );
        claim(request.runId, job);
        try {
          const report: BacktestReport = await job.result;
          return report;
        } finally {
          running.delete(request.runId);
        }
      },
      'backtest:sweep': async (request) => {
        if (running.has(request.runId))
          throw appError('CONFLICT', `A backtest with run id ${request.runId} is already running.`);
        const bars = loadBars(request.series, request.config.startMs, request.config.endMs);
        const symbol = request.config.symbol ?? request.series.symbol;
        const predictions = await modelPredictions(request.config, symbol, bars);
        const sweep = startSweep({
          ...(predictions ? { predictions } : {}),
          symbol,
          bars,
          config: request.config,
          grid: request.grid,
          threads: request.threads,
          ...(request.walkForward ? { walkForward: request.walkForward } : {}),
          onProgress: (p) => progress(request.runId, p.phase)(p.done, p.total),
        });
        claim(request.runId, sweep);
        try {
          return { runId: request.runId, ...(await sweep.result) };
        } finally {
          running.delete(request.runId);
        }
      },
      'backtest:cancel': (request) => {
        const handle = running.get(request.runId);
        handle?.cancel();
        return { isCancelled: handle !== undefined };
      },
    };
    return {
      handlers,
      stop() {
        for (const handle of running.values()) handle.cancel();
      },
    };
  },
};
