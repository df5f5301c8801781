import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { symbolField } from './fields.ts';
import { protectionSchema, sizingSchema } from './backtest.ts';
import { explanationSchema } from './models.ts';
import { riskVerdictSchema } from './trading.ts';
import { ORDER_SIDES, ORDER_TYPES } from '../trading.ts';
import { TIMEFRAMES } from '../market.ts';

/**
 * Strategies running in the app on the active account (paper by default): started and stopped
 * from the UI, stopped by the kill switch, each signal recorded with what drove it (prediction,
 * explanation, feature values, rules) and what risk said. The same StrategyEngine runs them as
 * in `vantage run` and the backtester.
 */

const symbol = symbolField;
const instanceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/);
const builtinId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9-]+$/);
const paramValue = z.union([z.number().finite(), z.string().max(500), z.boolean()]);

export const STRATEGY_STATES = ['starting', 'running', 'stopped', 'failed'] as const;

export const strategyInstanceSchema = z.object({
  /** Unique per running instance, e.g. `sma-cross-BTC-USDT-1`. */
  strategyId: z.string(),
  /** Built-in strategy id (backtest:strategies lists them). */
  builtin: z.string(),
  symbol: z.string(),
  timeframe: z.enum(TIMEFRAMES),
  params: z.record(z.string(), paramValue),
  state: z.enum(STRATEGY_STATES),
  /** Why it stopped or failed (kill switch, user, error), null while running. */
  stopReason: z.string().nullable(),
  startedMs: z.number(),
  stoppedMs: z.number().nullable(),
  /** Model used by a model-driven strategy: name, version and sha256 of the ONNX file. */
  model: z.object({ name: z.string(), version: z.string(), sha256: z.string() }).nullable(),
  bars: z.number().int().nonnegative(),
  signals: z.number().int().nonnegative(),
  position: z.number(),
  realisedPnl: z.number(),
  unrealisedPnl: z.number(),
  feesPaid: z.number(),
});
export type StrategyInstance = z.infer<typeof strategyInstanceSchema>;

/** One condition the strategy evaluated for the decision, with its inputs and result. */
export const ruleEvaluationSchema = z.object({
  /** 'entry' / 'exit' rule, or the built-in's own condition name. */
  name: z.string(),
  /** The expression as written (rule language) or as the built-in states it, e.g. `sma_10 crosses above sma_30`. */
  expression: z.string(),
  isTrue: z.boolean(),
  /** The values the expression read (feature, model output, bar field) at the decision. */
  inputs: z.record(z.string(), z.number().nullable()),
});
export type RuleEvaluation = z.infer<typeof ruleEvaluationSchema>;

export const signalSchema = z.object({
  signalId: z.string(),
  /** Sequence number of the audit record that holds this signal (audit:query finds it). */
  auditSeq: z.number().int().nullable(),
  tsMs: z.number(),
  strategyId: z.string(),
  builtin: z.string(),
  symbol: z.string(),
  /** Open time of the closed bar the decision was made on. */
  barTimeMs: z.number(),
  /** entry / exit / protective (stop-loss, take-profit, trailing). */
  role: z.string(),
  side: z.enum(ORDER_SIDES),
  type: z.enum(ORDER_TYPES),
  quantity: z.number(),
  reason: z.string(),
  outcome: z.enum(['sent', 'risk-rejected', 'invalid']),
  clientOrderId: z.string().nullable(),
  message: z.string().nullable(),
  /** Model output behind the signal (model-driven strategies), null otherwise. */
  prediction: z
    .object({
      model: z.object({ name: z.string(), version: z.string(), sha256: z.string() }),
      values: z.record(z.string(), z.number()),
    })
    .nullable(),
});
export type Signal = z.infer<typeof signalSchema>;

export const signalDetailSchema = signalSchema.extend({
  explanation: explanationSchema.nullable(),
  /** Feature values the strategy (and the model) read at the bar. */
  features: z.record(z.string(), z.number().nullable()),
  rules: z.array(ruleEvaluationSchema),
  /** The pre-trade verdict with every check (value, limit); null when the order never reached risk. */
  verdict: riskVerdictSchema.nullable(),
});
export type SignalDetail = z.infer<typeof signalDetailSchema>;

export const strategyStartSchema = z
  .object({
    builtin: builtinId,
    symbol,
    timeframe: z.enum(TIMEFRAMES).default('1m'),
    params: z.record(z.string().max(64), paramValue).default({}),
    sizing: sizingSchema.default({ kind: 'fixed-notional', notional: 1000 }),
    protection: protectionSchema.default({}),
    /** Model for model-driven strategies; default: the default model. */
    model: z.string().min(1).max(128).optional(),
  })
  .strict();
export type StrategyStartRequest = z.output<typeof strategyStartSchema>;

export const strategiesRequests = defineRequests({
  'strategies:start': {
    request: strategyStartSchema,
    response: strategyInstanceSchema,
    description: 'Starts a built-in strategy on a symbol of the active account; audited.',
  },
  'strategies:stop': {
    request: z.object({ strategyId: instanceId }).strict(),
    response: strategyInstanceSchema,
    description: 'Stops one running strategy (its working orders are cancelled); audited.',
  },
  'strategies:list': {
    request: z.object({}).strict(),
    response: z.object({ instances: z.array(strategyInstanceSchema) }),
    description: 'Strategies started in this engine run, running and stopped, with their P&L.',
  },
  'strategies:signals': {
    request: z
      .object({
        strategyId: instanceId.optional(),
        symbol: symbol.optional(),
        limit: z.number().int().min(1).max(5000).default(500),
      })
      .strict(),
    response: z.object({ signals: z.array(signalSchema) }),
    description: 'Recent signals, newest first (optionally of one strategy or symbol).',
  },
  'strategies:signal': {
    request: z.object({ signalId: z.string().min(1).max(128) }).strict(),
    response: signalDetailSchema,
    description: 'One signal with its explanation, feature values, rules evaluated and risk verdict.',
  },
});

export const strategiesStreams = defineStreams({
  'strategies:changed': {
    payload: z.object({ instances: z.array(strategyInstanceSchema) }),
    mode: 'latest',
    description: 'Running and stopped strategies with state and P&L.',
  },
  'strategies:signal': {
    payload: signalSchema,
    mode: 'batch',
    description: 'Every new signal as it is decided.',
  },
});
