import { readFileSync } from 'node:fs';
import type { EngineContext, EngineModule, ModuleInstance } from '../module.ts';
import type { Handlers } from '../host.ts';
import { appError, AppErrorException } from '../../../shared/errors.ts';
import type { Timeframe, CandleColumns } from '../../../shared/market.ts';
import { MARKET_FEEDS_SERVICE, MARKET_READER_SERVICE, MARKET_STORE_SERVICE } from '../data/module.ts';
import type { MarketHub } from '../data/market-hub.ts';
import type { CandleStore } from '../data/candle-store.ts';
import type { CandleReader } from '../data/candle-reader.ts';
import { buildModelInputs, completeRows, computeFeatureColumns } from '../features/pipeline.ts';
import { ModelRegistry } from './registry.ts';
import { scoreOutput } from './card.ts';
import { Explainer } from './explain/explain.ts';

/**
 * The 'models' engine module: the model registry (bundled + user models), the default model
 * loaded at start, and the models:* channels. Predictions and explanations are computed from the
 * market module's bars (live feed, else market.db) with the feature pipeline: the input row for a
 * bar holds only that bar and earlier ones (closed bars only; the forming bar is never used).
 */

export const MODELS_SERVICE = 'models.registry';
export const DEFAULT_MODEL = 'default-btc-5m';
/** Bars of history features are computed over (the series' last bars up to the requested one). */
export const FEATURE_HISTORY_BARS = 20_000;
/** Background rows built from the series when a non-tree model's card has none. */
export const SERIES_BACKGROUND_ROWS = 32;

interface SeriesRequest {
  name?: string | undefined;
  venue: string;
  symbol: string;
  timeframe: Timeframe;
}

export const modelsModule: EngineModule = {
  name: 'models',
  async start(context: EngineContext): Promise<ModuleInstance> {
    const { logger, bus } = context;
    const registry = new ModelRegistry({
      resourcesDir: context.resourcesDir,
      dataDir: context.dataDir,
      forceCpu: context.options['forceCpu'] === true,
    });
    context.services.set(MODELS_SERVICE, registry);
    const explainers = new Map<string, { session: unknown; explainer: Explainer }>();
    let defaultModel: string | null = null;

    const publish = (): void => bus.publish('models:changed', { models: registry.list() });

    if (registry.list().some((m) => m.name === DEFAULT_MODEL)) {
      try {
        const session = await registry.load(DEFAULT_MODEL);
        defaultModel = DEFAULT_MODEL;
        logger.info(
          { model: DEFAULT_MODEL, provider: session.provider, notes: session.providerNotes },
          'default model loaded',
        );
      } catch (error) {
        const problem =
          error instanceof AppErrorException
            ? error.toAppError()
            : { code: 'MODEL_LOAD_FAILED' as const, message: String(error) };
        logger.warn({ problem }, 'default model failed to load');
        context.reportProblem(problem);
      }
    }

    const bars = async (req: SeriesRequest, toMs?: number): Promise<CandleColumns> => {
      const range = { ...(toMs !== undefined ? { toMs } : {}), limit: FEATURE_HISTORY_BARS, fromEnd: true };
      const hub = context.services.get(MARKET_FEEDS_SERVICE) as MarketHub | undefined;
      const live = hub?.liveCandles(req.venue, req.symbol, req.timeframe, range);
      if (live) return live.columns;
      const store = context.services.get(MARKET_STORE_SERVICE) as CandleStore | undefined;
      const reader = context.services.get(MARKET_READER_SERVICE) as CandleReader | undefined;
      const key = { venue: req.venue, symbol: req.symbol, timeframe: req.timeframe };
      if (!store?.getSeries(key))
        throw appError(
          'NOT_FOUND',
          `No ${req.timeframe} bars for ${req.symbol} on ${req.venue} (neither live nor stored).`,
          key,
        );
      return reader ? reader.read(key, range) : store.query(key, range);
    };

    const modelFor = async (name: string | undefined) => {
      const chosen = name ?? defaultModel ?? registry.list().find((m) => m.status === 'loaded')?.name;
      if (!chosen)
        throw appError('NOT_FOUND', 'No model is loaded; load one in the Model manager (models:load).');
      const session = registry.session(chosen);
      if (!session) throw appError('NOT_FOUND', `Model '${chosen}' is not loaded.`, { name: chosen });
      const entry = registry.entry(chosen);
      return { name: chosen, session, entry, checked: entry.checked! };
    };

    const explainerFor = (name: string, m: Awaited<ReturnType<typeof modelFor>>): Explainer => {
      const cached = explainers.get(name);
      if (cached && cached.session === m.session) return cached.explainer;
      const spec = m.checked.spec;
      const explainer = new Explainer({
        session: m.session,
        bytes: readFileSync(m.entry.onnxPath),
        columns: m.checked.columns,
        windowBars: spec.layout.kind === 'window' ? spec.layout.windowBars : 1,
        random: context.random,
        scoredOutput: scoreOutput(m.checked.card).name,
      });
      explainers.set(name, { session: m.session, explainer });
      return explainer;
    };

    const handlers: Handlers = {
      'models:list': () => ({ models: registry.list(), defaultModel }),
      'models:load': async (req) => {
        await registry.load(req.name);
        publish();
        return registry.summary(registry.entry(req.name));
      },
      'models:unload': async (req) => {
        await registry.unload(req.name);
        explainers.delete(req.name);
        if (defaultModel === req.name) defaultModel = null;
        publish();
        return registry.summary(registry.entry(req.name));
      },
      'models:import': async (req) => {
        const bytes = Buffer.from(req.onnxBase64, 'base64');
        const summary = await registry.importModel(
          new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
          req.cardJson,
        );
        logger.info({ model: summary.name, sha256: summary.sha256 }, 'model imported');
        publish();
        return summary;
      },
      'models:verify': async (req) => {
        const result = await registry.verify(req.name);
        publish();
        return result;
      },
      'models:predictions': async (req) => {
        const m = await modelFor(req.name);
        const columns = await bars(req);
        const n = columns.time.length;
        const limit = req.limit ?? 1000;
        const first = Math.max(0, n - limit);
        const features = computeFeatureColumns(columns, m.checked.spec);
        const rows = Array.from(completeRows(features.columns, m.checked.spec)).filter((r) => r >= first);
        const value: (number | null)[] = new Array<number | null>(n - first).fill(null);
        if (rows.length > 0) {
          const input = buildModelInputs(features.columns, m.checked.spec, rows);
          const out = await m.session.runBatch(input, rows.length);
          rows.forEach((r, i) => (value[r - first] = out[i]!));
        }
        return {
          model: m.name,
          output: scoreOutput(m.checked.card).name,
          time: Array.from(columns.time.subarray(first)),
          value,
        };
      },
      'models:explain': async (req) => {
        const m = await modelFor(req.name);
        // Bars up to and including the explained one: nothing after it can reach the explanation.
        const columns = await bars(req, req.timeMs + 1);
        const n = columns.time.length;
        if (n === 0 || columns.time[n - 1] !== req.timeMs)
          throw appError('NOT_FOUND', `No closed ${req.timeframe} bar of ${req.symbol} at ${req.timeMs}.`, {
            timeMs: req.timeMs,
          });
        const spec = m.checked.spec;
        const features = computeFeatureColumns(columns, spec);
        const complete = completeRows(features.columns, spec);
        const t = n - 1;
        if (complete.length === 0 || complete[complete.length - 1] !== t)
          throw appError(
            'FEATURE_INVALID',
            `The features are still warming up at this bar (${complete.length === 0 ? 'no' : 'not enough'} history before it).`,
            {
              timeMs: req.timeMs,
            },
          );
        const x = buildModelInputs(features.columns, spec, [t]);
        const values = features.columns.map((c) => c[t]!);
        let background: Float32Array | undefined;
        const stored = m.checked.card.background;
        if (stored) background = Float32Array.from(stored.rows.flat());
        else {
          // No background in the card: evenly spaced complete rows of this series up to the bar.
          const k = Math.min(SERIES_BACKGROUND_ROWS, complete.length);
          const picks = Array.from({ length: k }, (_, i) => complete[Math.floor((i * complete.length) / k)]!);
          background = buildModelInputs(features.columns, spec, picks);
        }
        const explanation = await explainerFor(m.name, m).explain(
          { x, values, background },
          scoreOutput(m.checked.card).name,
        );
        return { model: m.name, timeMs: req.timeMs, ...explanation };
      },
    };

    return {
      handlers,
      async stop() {
        explainers.clear();
        await registry.close();
      },
    };
  },
};
