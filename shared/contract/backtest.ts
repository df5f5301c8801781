import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { epochMsField, symbolField, venueField } from './fields.ts';
import { TIMEFRAMES } from '../market.ts';
import { riskLimitsPatchSchema } from './trading.ts';

/**
 * Backtests: run one configuration over a stored series, sweep a parameter grid (optionally
 * walk-forward) on worker threads, cancel, and progress events. The schemas here are also the
 * engine's own config types (main/core/backtest), so the CLI, the UI and the engine agree.
 * Definitions of every metric: docs/backtest-metrics.md.
 */

const name = z.string().min(1).max(64);
const venue = venueField;
const symbol = symbolField;
const epochMs = epochMsField;
const paramValue = z.union([z.number().finite(), z.string().max(4000)]);

export const sizingSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('fixed-quantity'), quantity: z.number().finite().positive().max(1e15) })
    .strict(),
  z
    .object({ kind: z.literal('fixed-notional'), notional: z.number().finite().positive().max(1e15) })
    .strict(),
  /** percent of current equity, 0 < percent <= 100 (no leverage). */
  z.object({ kind: z.literal('percent-equity'), percent: z.number().finite().positive().max(100) }).strict(),
  /** A position whose annualised volatility is annualVolatility of equity (0.1 = 10%), at most maxLeverage x equity. */
  z
    .object({
      kind: z.literal('volatility-target'),
      annualVolatility: z.number().finite().positive().max(10),
      lookbackBars: z.number().int().min(2).max(10_000).default(20),
      barsPerYear: z.number().finite().positive().max(1e8),
      maxLeverage: z.number().finite().positive().max(100).default(1),
    })
    .strict(),
  /**
   * Kelly f = W - (1 - W) / R from the strategy's own closed trades (W win rate, R mean win / mean
   * loss), times `fraction`, capped at `cap` of equity; `fallbackPercent` of equity before
   * `minTrades` closed trades; f <= 0: no entry.
   */
  z
    .object({
      kind: z.literal('kelly'),
      cap: z.number().finite().positive().max(1).default(0.25),
      fraction: z.number().finite().positive().max(1).default(0.5),
      minTrades: z.number().int().min(1).max(10_000).default(20),
      fallbackPercent: z.number().finite().min(0).max(100).default(5),
    })
    .strict(),
]);
export type SizingSpec = z.output<typeof sizingSchema>;
export type SizingInput = z.input<typeof sizingSchema>;

/** Protective exits attached to every entry, as fractions of the entry fill price (0.02 = 2%). */
export const protectionSchema = z
  .object({
    stopLoss: z.number().finite().positive().max(0.99).optional(),
    takeProfit: z.number().finite().positive().max(100).optional(),
    trailingStop: z.number().finite().positive().max(0.99).optional(),
  })
  .strict();
export type ProtectionSpec = z.output<typeof protectionSchema>;

export const fillConfigSchema = z
  .object({
    marketFill: z.enum(['next-open', 'close']).default('next-open'),
    makerFeeBps: z.number().finite().min(0).max(1000).default(10),
    takerFeeBps: z.number().finite().min(0).max(1000).default(10),
    slippageBps: z.number().finite().min(0).max(1000).default(0),
    /** Share of the bar's high-low range added against the order on taker fills (0..1). */
    slippageRangeShare: z.number().finite().min(0).max(1).default(0),
    /** Max share of a bar's volume filled per symbol and bar; 0 = no cap. */
    participation: z.number().finite().min(0).max(1).default(0),
    tickSize: z.number().finite().positive().default(1e-8),
    quantityStep: z.number().finite().positive().default(1e-8),
    minNotional: z.number().finite().min(0).default(0),
  })
  .strict();
export type FillConfig = z.output<typeof fillConfigSchema>;
export type FillConfigInput = z.input<typeof fillConfigSchema>;

export const strategyConfigSchema = z
  .object({
    id: name,
    params: z.record(z.string().max(64), paramValue).default({}),
  })
  .strict();

export const backtestConfigSchema = z
  .object({
    strategy: strategyConfigSchema,
    sizing: sizingSchema.default({ kind: 'fixed-quantity', quantity: 1 }),
    protection: protectionSchema.default({}),
    fill: fillConfigSchema.default(fillConfigSchema.parse({})),
    cash: z.number().finite().positive().max(1e15).default(100_000),
    currency: z.string().min(1).max(16).default('USD'),
    /** Risk limits over the backtest defaults (main/core/backtest/backtester.ts BACKTEST_RISK_LIMITS; docs/backtest-metrics.md). */
    risk: riskLimitsPatchSchema.default({}),
    /** Model for model-driven strategies (model-threshold, hybrid); default: the bundled default model. */
    model: name.optional(),
    /** Symbol the series is traded as (defaults to the stored series' symbol or the file name). */
    symbol: symbol.optional(),
    startMs: epochMs.optional(),
    endMs: epochMs.optional(),
  })
  .strict();
export type BacktestConfig = z.output<typeof backtestConfigSchema>;
export type BacktestConfigInput = z.input<typeof backtestConfigSchema>;

export const METRIC_NAMES = [
  'totalReturn',
  'cagr',
  'annualVolatility',
  'sharpe',
  'sortino',
  'calmar',
  'maxDrawdown',
  'maxDrawdownDurationMs',
  'maxDrawdownDurationBars',
  'winRate',
  'profitFactor',
  'averageWin',
  'averageLoss',
  'exposure',
  'turnover',
  'fees',
  'tradeCount',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** null where a metric is undefined (no trades, no losses, zero volatility). */
export const metricsSchema = z.object(
  Object.fromEntries(METRIC_NAMES.map((m) => [m, z.number().nullable()])) as Record<
    MetricName,
    z.ZodNullable<z.ZodNumber>
  >,
);
export type Metrics = z.infer<typeof metricsSchema>;

export const benchmarkMetricsSchema = z.object({
  totalReturn: z.number().nullable(),
  cagr: z.number().nullable(),
  annualVolatility: z.number().nullable(),
  sharpe: z.number().nullable(),
  maxDrawdown: z.number().nullable(),
});
export type BenchmarkMetrics = z.infer<typeof benchmarkMetricsSchema>;

export const tradeRecordSchema = z.object({
  strategyId: z.string(),
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  entryTime: z.number(),
  exitTime: z.number().nullable(),
  quantity: z.number(),
  entryPrice: z.number(),
  exitPrice: z.number().nullable(),
  fees: z.number(),
  pnl: z.number(),
  returnPct: z.number(),
  barsHeld: z.number().int(),
  entryReason: z.string(),
  exitReason: z.string().nullable(),
  explanationId: z.string().nullable(),
  isOpen: z.boolean(),
});
export type TradeRecord = z.infer<typeof tradeRecordSchema>;

export const orderRecordSchema = z.object({
  clientOrderId: z.string(),
  strategyId: z.string(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  type: z.string(),
  quantity: z.number(),
  price: z.number().nullable(),
  stopPrice: z.number().nullable(),
  state: z.string(),
  filledQuantity: z.number(),
  averageFillPrice: z.number(),
  createdMs: z.number(),
  reason: z.string(),
});
export type OrderRecord = z.infer<typeof orderRecordSchema>;

const point = z.tuple([z.number(), z.number()]);

export const backtestReportSchema = z.object({
  config: backtestConfigSchema,
  symbol: z.string(),
  barCount: z.number().int(),
  firstMs: z.number().nullable(),
  lastMs: z.number().nullable(),
  metrics: metricsSchema,
  benchmark: z.object({ name: z.string(), metrics: benchmarkMetricsSchema, equity: z.array(point) }),
  trades: z.array(tradeRecordSchema),
  orders: z.array(orderRecordSchema),
  /** [time ms, equity] after each bar's close (first point: starting cash at the first bar's open). */
  equity: z.array(point),
  /** [time ms, drawdown as a fraction <= 0]. */
  drawdown: z.array(point),
  elapsedMs: z.number(),
});
export type BacktestReport = z.infer<typeof backtestReportSchema>;

export const seriesRefSchema = z.object({ venue, symbol, timeframe: z.enum(TIMEFRAMES) }).strict();

/** Most points per curve a reply carries (curves are thinned evenly, keeping the extremes of each step). */
export const MAX_CURVE_POINTS = 5000;
export const MAX_SWEEP_RUNS = 10_000;

const sweepAxisSchema = z
  .object({ param: z.string().min(1).max(64), values: z.array(paramValue).min(1).max(1000) })
  .strict();

export const sweepRequestSchema = z
  .object({
    runId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_-]+$/),
    series: seriesRefSchema,
    config: backtestConfigSchema,
    grid: z.array(sweepAxisSchema).min(1).max(4),
    /** Walk-forward: optimise on each in-sample window, test the best on the next out-of-sample one. */
    walkForward: z
      .object({
        folds: z.number().int().min(2).max(50),
        inSampleShare: z.number().min(0.1).max(0.95).default(0.7),
        objective: z.enum(METRIC_NAMES).default('sharpe'),
      })
      .strict()
      .optional(),
    threads: z.number().int().min(1).max(64).default(2),
  })
  .strict();
export type SweepRequest = z.output<typeof sweepRequestSchema>;

export const sweepRowSchema = z.object({ params: z.record(z.string(), paramValue), metrics: metricsSchema });
export type SweepRow = z.infer<typeof sweepRowSchema>;

export const walkForwardFoldSchema = z.object({
  fold: z.number().int(),
  inSample: z.tuple([z.number(), z.number()]),
  outOfSample: z.tuple([z.number(), z.number()]),
  bestParams: z.record(z.string(), paramValue),
  inSampleMetrics: metricsSchema,
  outOfSampleMetrics: metricsSchema,
});
export type WalkForwardFold = z.infer<typeof walkForwardFoldSchema>;

export const sweepResultSchema = z.object({
  runId: z.string(),
  rows: z.array(sweepRowSchema),
  folds: z.array(walkForwardFoldSchema).optional(),
  elapsedMs: z.number(),
});
export type SweepResult = z.infer<typeof sweepResultSchema>;

export const backtestRequests = defineRequests({
  'backtest:run': {
    request: z
      .object({
        runId: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9_-]+$/),
        series: seriesRefSchema,
        config: backtestConfigSchema,
      })
      .strict(),
    response: backtestReportSchema,
    description: 'Runs one backtest over a stored series on a worker thread; progress on backtest:progress.',
  },
  'backtest:sweep': {
    request: sweepRequestSchema,
    response: sweepResultSchema,
    description:
      'Runs a parameter grid (optionally walk-forward) across worker threads; rows sortable by any metric.',
  },
  'backtest:cancel': {
    request: z.object({ runId: z.string().min(1).max(64) }).strict(),
    response: z.object({ isCancelled: z.boolean() }),
    description: 'Cancels a running backtest or sweep; its request then fails with CANCELLED.',
  },
  'backtest:strategies': {
    request: z.object({}).strict(),
    response: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        description: z.string(),
        isModelDriven: z.boolean(),
        params: z.array(
          z.object({
            name: z.string(),
            kind: z.string(),
            default: paramValue,
            description: z.string(),
            /** Inclusive bounds of numeric parameters (the engine refuses values outside them). */
            min: z.number().optional(),
            max: z.number().optional(),
          }),
        ),
      }),
    ),
    description: 'The built-in strategies and their parameters.',
  },
});

export const backtestStreams = defineStreams({
  'backtest:progress': {
    payload: z.object({ runId: z.string(), done: z.number(), total: z.number(), phase: z.string() }),
    mode: 'latest',
    description: 'Progress of the running backtest or sweep (bars or runs done of total).',
  },
});
