import { z } from 'zod';
import { defineRequests, defineStreams } from './define.ts';
import { symbolField } from './fields.ts';
import { ORDER_SIDES, ORDER_STATES, ORDER_TYPES, TIME_IN_FORCE } from '../trading.ts';

const symbol = symbolField;
const id = z.string().min(1).max(64);
const positive = z.number().finite().positive();
const percent = z.number().finite().positive().max(10_000);

export const trailingSchema = z
  .object({
    offsetFraction: z.number().finite().positive().lt(1).optional(),
    offsetQuote: positive.optional(),
  })
  .strict()
  .refine((t) => (t.offsetFraction === undefined) !== (t.offsetQuote === undefined), {
    message: 'exactly one of offsetFraction or offsetQuote',
  });

export const orderIntentSchema = z
  .object({
    symbol,
    side: z.enum(ORDER_SIDES),
    type: z.enum(ORDER_TYPES),
    quantity: positive.max(1e15),
    price: positive.max(1e15).optional(),
    stopPrice: positive.max(1e15).optional(),
    trailing: trailingSchema.optional(),
    tif: z.enum(TIME_IN_FORCE).default('GTC'),
    isPostOnly: z.boolean().optional(),
    isReduceOnly: z.boolean().optional(),
    strategyId: id.optional(),
    reason: z.string().min(1).max(200).default('manual'),
  })
  .strict();

export const orderSchema = z.object({
  clientOrderId: z.string(),
  venueOrderId: z.string().nullable(),
  venue: z.string(),
  account: z.string(),
  symbol: z.string(),
  side: z.enum(ORDER_SIDES),
  type: z.enum(ORDER_TYPES),
  quantity: z.number(),
  price: z.number().nullable(),
  stopPrice: z.number().nullable(),
  trailing: z
    .object({ offsetFraction: z.number().optional(), offsetQuote: z.number().optional() })
    .nullable(),
  tif: z.enum(TIME_IN_FORCE),
  isPostOnly: z.boolean(),
  isReduceOnly: z.boolean(),
  strategyId: z.string(),
  reason: z.string(),
  state: z.enum(ORDER_STATES),
  filledQuantity: z.number(),
  averageFillPrice: z.number(),
  createdMs: z.number(),
  updatedMs: z.number(),
  message: z.string().nullable(),
  isExternal: z.boolean(),
});

export const fillSchema = z.object({
  fillId: z.string(),
  clientOrderId: z.string(),
  venueOrderId: z.string().nullable(),
  symbol: z.string(),
  side: z.enum(ORDER_SIDES),
  price: z.number(),
  quantity: z.number(),
  fee: z.number(),
  feeCurrency: z.string(),
  tsMs: z.number(),
  isMaker: z.boolean(),
  strategyId: z.string(),
});

export const riskCheckResultSchema = z.object({
  check: z.string(),
  isPassed: z.boolean(),
  value: z.number(),
  limit: z.number(),
  unit: z.string(),
  message: z.string(),
});

export const riskVerdictSchema = z.object({
  isApproved: z.boolean(),
  checks: z.array(riskCheckResultSchema),
  reason: z.string().nullable(),
});

/** Trading hours as minutes of the UTC day; start > end wraps midnight. */
export const tradingHoursSchema = z
  .object({
    startMinuteUtc: z.number().int().min(0).max(1439),
    endMinuteUtc: z.number().int().min(1).max(1440),
  })
  .strict();

/** Every limit; defaults are the documented ones (docs/risk.md). */
export const riskLimitsSchema = z
  .object({
    maxPositionPctOfEquity: percent,
    maxGrossLeverage: z.number().finite().positive().max(100),
    maxOrderNotional: positive.max(1e15),
    maxOrderPctOfAvailable: percent,
    priceBandPct: percent,
    maxOpenOrders: z.number().int().positive().max(100_000),
    maxOrdersPerWindow: z.number().int().positive().max(1_000_000),
    maxGlobalOrdersPerWindow: z.number().int().positive().max(1_000_000),
    orderRateWindowMs: z.number().int().positive().max(86_400_000),
    duplicateWindowMs: z.number().int().nonnegative().max(86_400_000),
    allowedSymbols: z.array(symbol).max(10_000).nullable(),
    tradingHours: tradingHoursSchema.nullable(),
    maxFeedAgeMs: z.number().int().positive().max(86_400_000),
    dailyLossLimitPct: percent,
    maxDrawdownPct: percent,
  })
  .strict();
export type RiskLimits = z.infer<typeof riskLimitsSchema>;

export const riskLimitsPatchSchema = riskLimitsSchema.partial().strict();
export type RiskLimitsPatch = z.infer<typeof riskLimitsPatchSchema>;

export const riskConfigSchema = z
  .object({
    global: riskLimitsSchema,
    strategies: z.record(id, riskLimitsPatchSchema).refine((r) => Object.keys(r).length <= 1000),
    symbols: z.record(symbol, riskLimitsPatchSchema).refine((r) => Object.keys(r).length <= 10_000),
  })
  .strict();
export type RiskConfig = z.infer<typeof riskConfigSchema>;

export const riskStateSchema = z.object({
  config: riskConfigSchema,
  isKillSwitchEngaged: z.boolean(),
  killSwitchReason: z.string().nullable(),
  halts: z.array(
    z.object({ kind: z.string(), symbol: z.string().nullable(), message: z.string(), sinceMs: z.number() }),
  ),
  reduceOnlySymbols: z.array(z.string()),
  isAccountReduceOnly: z.boolean(),
  utilisation: z.array(
    z.object({
      check: z.string(),
      symbol: z.string().nullable(),
      value: z.number(),
      limit: z.number(),
      unit: z.string(),
    }),
  ),
  startOfDayEquity: z.number(),
  peakEquity: z.number(),
});
export type RiskState = z.infer<typeof riskStateSchema>;

export const positionSchema = z.object({
  symbol: z.string(),
  strategyId: z.string(),
  quantity: z.number(),
  averagePrice: z.number(),
  markPrice: z.number(),
  realisedPnl: z.number(),
  unrealisedPnl: z.number(),
  feesPaid: z.number(),
});

export const portfolioSnapshotSchema = z.object({
  tsMs: z.number(),
  account: z.object({
    currency: z.string(),
    cash: z.number(),
    equity: z.number(),
    grossExposure: z.number(),
    netExposure: z.number(),
    realisedPnl: z.number(),
    unrealisedPnl: z.number(),
    feesPaid: z.number(),
    availableBalance: z.number(),
  }),
  positions: z.array(positionSchema),
  strategies: z.array(
    z.object({
      strategyId: z.string(),
      realisedPnl: z.number(),
      unrealisedPnl: z.number(),
      feesPaid: z.number(),
    }),
  ),
});

export const alertSchema = z.object({
  id: z.string(),
  tsMs: z.number(),
  severity: z.enum(['info', 'warning', 'critical']),
  kind: z.string(),
  symbol: z.string().nullable(),
  message: z.string(),
});
export type Alert = z.infer<typeof alertSchema>;

const empty = z.object({}).strict();

export const tradingRequests = defineRequests({
  'orders:submit': {
    request: orderIntentSchema,
    response: z.object({
      status: z.enum(['sent', 'risk-rejected']),
      order: orderSchema.nullable(),
      verdict: riskVerdictSchema,
    }),
    description: 'Risk-checks, records and sends an order on the active account (paper by default).',
  },
  'orders:cancel': {
    request: z.object({ clientOrderId: id }).strict(),
    response: orderSchema,
    description: 'Requests cancellation of one working order.',
  },
  'orders:cancelAll': {
    request: z.object({ symbol: symbol.optional(), strategyId: id.optional() }).strict(),
    response: z.object({ requested: z.number().int().nonnegative() }),
    description: 'Requests cancellation of every working order (optionally of one symbol or strategy).',
  },
  'orders:list': {
    request: z
      .object({
        scope: z.enum(['working', 'recent']).default('working'),
        limit: z.number().int().positive().max(5000).default(500),
      })
      .strict(),
    response: z.object({ orders: z.array(orderSchema), fills: z.array(fillSchema) }),
    description: 'Working orders (or recent orders) and the most recent fills.',
  },
  'orders:preview': {
    request: orderIntentSchema,
    response: z.object({ order: orderSchema, verdict: riskVerdictSchema }),
    description: 'The rounded order and every risk check with its headroom, without sending.',
  },
  'portfolio:get': {
    request: empty,
    response: portfolioSnapshotSchema,
    description: 'Positions, cash, equity and P&L, per strategy and total.',
  },
  'risk:limits': {
    request: empty,
    response: riskStateSchema,
    description: 'Risk limits, halts, kill switch state and utilisation of every limit.',
  },
  'risk:setLimits': {
    request: z.object({ config: riskConfigSchema, reason: z.string().min(1).max(200) }).strict(),
    response: riskStateSchema,
    description: 'Replaces the risk limits (validated; the change is audited).',
  },
  'risk:killSwitch': {
    request: z
      .object({
        action: z.enum(['engage', 'release']),
        isFlattening: z.boolean().default(false),
        reason: z.string().min(1).max(200),
      })
      .strict(),
    response: riskStateSchema,
    description:
      'Engages the kill switch (cancels all working orders, stops strategies, optionally flattens) or releases it.',
  },
});

export const tradingStreams = defineStreams({
  'orders:changed': {
    payload: orderSchema,
    mode: 'batch',
    description: 'Every order state change.',
  },
  'portfolio:changed': {
    payload: portfolioSnapshotSchema,
    mode: 'latest',
    description: 'The portfolio after fills and price moves.',
  },
  'risk:changed': {
    payload: riskStateSchema,
    mode: 'latest',
    description: 'Risk state after limit changes, halts, kill switch.',
  },
  'alerts:raised': {
    payload: alertSchema,
    mode: 'batch',
    description: 'Risk breaches, kill switch, reconciliation findings (EXTERNAL orders).',
  },
});
