import { riskConfigSchema, type RiskConfig, type RiskLimits } from '../../../shared/contract/trading.ts';
import { appError } from '../../../shared/errors.ts';

/** The documented defaults (docs/risk.md). */
export const DEFAULT_RISK_LIMITS: RiskLimits = {
  maxPositionPctOfEquity: 10,
  maxGrossLeverage: 3,
  maxOrderNotional: 100_000,
  maxOrderPctOfAvailable: 50,
  priceBandPct: 2,
  maxOpenOrders: 50,
  maxOrdersPerWindow: 20,
  maxGlobalOrdersPerWindow: 50,
  orderRateWindowMs: 1000,
  duplicateWindowMs: 2000,
  allowedSymbols: null,
  tradingHours: null,
  maxFeedAgeMs: 5000,
  dailyLossLimitPct: 5,
  maxDrawdownPct: 20,
};

export function defaultRiskConfig(): RiskConfig {
  return { global: { ...DEFAULT_RISK_LIMITS }, strategies: {}, symbols: {} };
}

/**
 * Effective limits of an order: global, overridden by the strategy's, overridden by the symbol's
 * (the most specific setting wins, so a symbol can be tightened or loosened on purpose).
 */
export function effectiveLimits(config: RiskConfig, strategyId: string, symbol: string): RiskLimits {
  const strategy = config.strategies[strategyId];
  const perSymbol = config.symbols[symbol];
  if (!strategy && !perSymbol) return config.global;
  return { ...config.global, ...stripUndefined(strategy), ...stripUndefined(perSymbol) };
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Validates a config (schema plus cross-field rules); throws BAD_INPUT naming every problem. */
export function validateRiskConfig(input: unknown): RiskConfig {
  const parsed = riskConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw appError('BAD_INPUT', `Risk limits not changed: ${issues.join('; ')}.`, { issues });
  }
  const config = parsed.data;
  const problems: string[] = [];
  const check = (where: string, l: Partial<RiskLimits>): void => {
    if (
      l.maxOrdersPerWindow !== undefined &&
      l.maxGlobalOrdersPerWindow !== undefined &&
      l.maxOrdersPerWindow > l.maxGlobalOrdersPerWindow
    ) {
      problems.push(
        `${where}: per-strategy order rate ${l.maxOrdersPerWindow} exceeds the global rate ${l.maxGlobalOrdersPerWindow}`,
      );
    }
    if (l.tradingHours && l.tradingHours.startMinuteUtc === l.tradingHours.endMinuteUtc) {
      problems.push(`${where}: trading hours start and end at the same minute`);
    }
  };
  check('global', config.global);
  for (const [k, v] of Object.entries(config.strategies))
    check(`strategy ${k}`, { ...config.global, ...stripUndefined(v) });
  for (const [k, v] of Object.entries(config.symbols))
    check(`symbol ${k}`, { ...config.global, ...stripUndefined(v) });
  if (problems.length > 0)
    throw appError('BAD_INPUT', `Risk limits not changed: ${problems.join('; ')}.`, { issues: problems });
  return config;
}
