import { FEATURE_NAME_HELP, parseFeatureName } from '../feature-names.ts';
import type { StrategyContext } from '../types.ts';
import { compileRule, type CompiledRule, type NameResolver, type NumberSource } from './compile.ts';
import { parseRule, ruleNames } from './parser.ts';

/**
 * The names a rule may read, bound to a strategy's context:
 *   open high low close volume        the latest closed bar
 *   <feature>                         any feature name (sma_50, rsi_14, bb_upper_20, ...)
 *   model.<output>                    the latest prediction's output (model.p_up); NaN before one arrives
 *   position.quantity position.average_price position.unrealised_pnl position.bars_held
 *   equity cash
 */

const BAR_NAMES = ['open', 'high', 'low', 'close', 'volume'] as const;
const POSITION_NAMES = [
  'position.quantity',
  'position.average_price',
  'position.unrealised_pnl',
  'position.bars_held',
] as const;
const KNOWN_HELP = `open, high, low, close, volume, equity, cash, ${POSITION_NAMES.join(', ')}, model.<output> (e.g. model.p_up), or a feature: ${FEATURE_NAME_HELP}`;

function isModelName(name: string): boolean {
  return /^model\.[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

function isKnownName(name: string): boolean {
  return (
    (BAR_NAMES as readonly string[]).includes(name) ||
    (POSITION_NAMES as readonly string[]).includes(name) ||
    name === 'equity' ||
    name === 'cash' ||
    isModelName(name) ||
    parseFeatureName(name) !== null
  );
}

/** Feature names a rule reads (the strategy must declare them so the runtime computes them). */
export function ruleFeatureNames(text: string): string[] {
  return [...ruleNames(parseRule(text))].filter((n) => parseFeatureName(n) !== null);
}

/** Parses and checks every name of a rule without a context (for errors before a run starts). */
export function checkRule(text: string): void {
  const resolver: NameResolver = {
    resolve: (name) => (isKnownName(name) ? () => NaN : null),
    describeKnownNames: () => KNOWN_HELP,
  };
  compileRule(text, resolver);
}

export function contextResolver(ctx: StrategyContext): NameResolver {
  return {
    describeKnownNames: () => KNOWN_HELP,
    resolve(name: string): NumberSource | null {
      switch (name) {
        case 'open':
          return () => ctx.bar.open;
        case 'high':
          return () => ctx.bar.high;
        case 'low':
          return () => ctx.bar.low;
        case 'close':
          return () => ctx.bar.close;
        case 'volume':
          return () => ctx.bar.volume;
        case 'equity':
          return () => ctx.portfolio.equity();
        case 'cash':
          return () => ctx.portfolio.cash();
        case 'position.quantity':
          return () => ctx.position.quantity;
        case 'position.average_price':
          return () => ctx.position.averagePrice;
        case 'position.unrealised_pnl':
          return () => ctx.position.unrealisedPnl;
        case 'position.bars_held':
          return () => ctx.position.barsHeld;
        default:
          break;
      }
      if (isModelName(name)) {
        const output = name.slice('model.'.length);
        return () => {
          const p = ctx.prediction;
          if (!p) return NaN;
          const v = p.values[output];
          return v === undefined ? NaN : v;
        };
      }
      if (parseFeatureName(name) !== null) {
        const index = ctx.features.index(name);
        const features = ctx.features;
        return () => features.at(index);
      }
      return null;
    },
  };
}

export function compileContextRule(text: string, ctx: StrategyContext): CompiledRule {
  return compileRule(text, contextResolver(ctx));
}
