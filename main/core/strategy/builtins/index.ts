import { appError } from '../../../../shared/errors.ts';
import { checkRule, compileContextRule, ruleFeatureNames } from '../rules/context-names.ts';
import type { CompiledRule } from '../rules/compile.ts';
import type { ConditionTrace, TracedStrategy } from '../decision-trace.ts';
import type { StrategyContext, StrategyParams } from '../types.ts';

/**
 * Built-in strategies (documented with their parameters in docs/strategies.md). All are long-only
 * except sma-cross with allowShort=1. Entries go through the sizing policy and get the configured
 * protective exits; exits close the whole position at market.
 */

export type BuiltinParamSpec =
  | { name: string; kind: 'int' | 'number'; default: number; min: number; max: number; description: string }
  | { name: string; kind: 'string'; default: string; description: string };

export interface BuiltinInfo {
  id: string;
  title: string;
  description: string;
  params: readonly BuiltinParamSpec[];
  /** Reads model predictions (ctx.prediction): the run needs a prediction source. */
  isModelDriven: boolean;
}

interface BuiltinEntry extends BuiltinInfo {
  create(p: Record<string, number | string>): TracedStrategy;
}

function finite(x: number): boolean {
  return x - x === 0;
}

class SmaCross implements TracedStrategy {
  readonly features: readonly string[];
  private readonly fastName: string;
  private readonly slowName: string;
  private readonly allowShort: boolean;
  // The reasons, made once: every order of a long run carries one.
  private readonly above: string;
  private readonly below: string;
  private fast = -1;
  private slow = -1;
  constructor(fast: number, slow: number, allowShort: boolean) {
    this.fastName = `sma_${fast}`;
    this.slowName = `sma_${slow}`;
    this.above = `${this.fastName} crossed above ${this.slowName}`;
    this.below = `${this.fastName} crossed below ${this.slowName}`;
    this.features = [this.fastName, this.slowName];
    this.allowShort = allowShort;
  }
  start(ctx: StrategyContext): void {
    this.fast = ctx.features.index(this.fastName);
    this.slow = ctx.features.index(this.slowName);
  }
  onBar(ctx: StrategyContext): void {
    const f = ctx.features;
    const a = f.at(this.fast);
    const b = f.at(this.slow);
    const pa = f.previous(this.fast);
    const pb = f.previous(this.slow);
    if (!(finite(a) && finite(b) && finite(pa) && finite(pb))) return;
    // Strict inequalities on correctly rounded averages: equal averages are no crossover.
    const q = ctx.position.quantity;
    if (pa <= pb && a > b) {
      if (q < 0) ctx.exit(this.above);
      if (q <= 0 && !ctx.isEntryPending) ctx.enter('buy', this.above);
    } else if (pa >= pb && a < b) {
      if (q > 0) ctx.exit(this.below);
      if (this.allowShort && q >= 0 && !ctx.isEntryPending) ctx.enter('sell', this.below);
    }
  }
  traceDecision(ctx: StrategyContext): ConditionTrace[] {
    const f = ctx.features;
    const a = f.at(this.fast);
    const b = f.at(this.slow);
    const pa = f.previous(this.fast);
    const pb = f.previous(this.slow);
    const isFinite = finite(a) && finite(b) && finite(pa) && finite(pb);
    const inputs = {
      [this.fastName]: a,
      [this.slowName]: b,
      [`${this.fastName}[1]`]: pa,
      [`${this.slowName}[1]`]: pb,
    };
    return [
      {
        name: 'cross above',
        expression: `${this.fastName} crosses above ${this.slowName}`,
        isTrue: isFinite && pa <= pb && a > b,
        inputs,
      },
      {
        name: 'cross below',
        expression: `${this.fastName} crosses below ${this.slowName}`,
        isTrue: isFinite && pa >= pb && a < b,
        inputs,
      },
    ];
  }
}

class RsiReversion implements TracedStrategy {
  readonly features: readonly string[];
  private readonly name: string;
  private readonly oversold: number;
  private readonly exitAbove: number;
  private index = -1;
  constructor(period: number, oversold: number, exitAbove: number) {
    this.name = `rsi_${period}`;
    this.features = [this.name];
    this.oversold = oversold;
    this.exitAbove = exitAbove;
  }
  start(ctx: StrategyContext): void {
    this.index = ctx.features.index(this.name);
  }
  onBar(ctx: StrategyContext): void {
    const rsi = ctx.features.at(this.index);
    if (!finite(rsi)) return;
    const q = ctx.position.quantity;
    if (q === 0 && !ctx.isEntryPending && rsi < this.oversold)
      ctx.enter('buy', `${this.name} ${rsi.toFixed(2)} < ${this.oversold}`);
    else if (q > 0 && rsi > this.exitAbove) ctx.exit(`${this.name} ${rsi.toFixed(2)} > ${this.exitAbove}`);
  }
  traceDecision(ctx: StrategyContext): ConditionTrace[] {
    const rsi = ctx.features.at(this.index);
    const inputs = { [this.name]: rsi };
    return [
      { name: 'entry', expression: `${this.name} < ${this.oversold}`, isTrue: rsi < this.oversold, inputs },
      { name: 'exit', expression: `${this.name} > ${this.exitAbove}`, isTrue: rsi > this.exitAbove, inputs },
    ];
  }
}

class BollingerBreakout implements TracedStrategy {
  readonly features: readonly string[];
  private readonly upperName: string;
  private readonly middleName: string;
  private upper = -1;
  private middle = -1;
  constructor(period: number, deviations: number) {
    this.upperName = `bb_upper_${period}_${deviations}`;
    this.middleName = `bb_middle_${period}_${deviations}`;
    this.features = [this.upperName, this.middleName];
  }
  start(ctx: StrategyContext): void {
    this.upper = ctx.features.index(this.upperName);
    this.middle = ctx.features.index(this.middleName);
  }
  onBar(ctx: StrategyContext): void {
    const upper = ctx.features.at(this.upper);
    const middle = ctx.features.at(this.middle);
    if (!(finite(upper) && finite(middle))) return;
    const close = ctx.bar.close;
    const q = ctx.position.quantity;
    if (q === 0 && !ctx.isEntryPending && close > upper)
      ctx.enter('buy', `close ${close} broke above the upper band ${upper.toFixed(6)}`);
    else if (q > 0 && close < middle)
      ctx.exit(`close ${close} fell below the middle band ${middle.toFixed(6)}`);
  }
  traceDecision(ctx: StrategyContext): ConditionTrace[] {
    const upper = ctx.features.at(this.upper);
    const middle = ctx.features.at(this.middle);
    const close = ctx.bar.close;
    return [
      {
        name: 'entry',
        expression: `close > ${this.upperName}`,
        isTrue: close > upper,
        inputs: { close, [this.upperName]: upper },
      },
      {
        name: 'exit',
        expression: `close < ${this.middleName}`,
        isTrue: close < middle,
        inputs: { close, [this.middleName]: middle },
      },
    ];
  }
}

class ModelThreshold implements TracedStrategy {
  readonly features: readonly string[] = [];
  private readonly output: string;
  private readonly enterAbove: number;
  private readonly exitBelow: number;
  constructor(output: string, enterAbove: number, exitBelow: number) {
    this.output = output;
    this.enterAbove = enterAbove;
    this.exitBelow = exitBelow;
  }
  onBar(ctx: StrategyContext): void {
    const p = ctx.prediction;
    // Only a prediction for this very bar counts: a stale one (model late) never trades.
    if (!p || p.tsMs !== ctx.bar.closeMs) return;
    const value = p.values[this.output];
    if (value === undefined || !finite(value)) return;
    const explanation = p.explanationId === null ? {} : { explanationId: p.explanationId };
    const q = ctx.position.quantity;
    if (q === 0 && !ctx.isEntryPending && value > this.enterAbove)
      ctx.enter('buy', `model ${this.output} ${value.toFixed(4)} > ${this.enterAbove}`, explanation);
    else if (q > 0 && value < this.exitBelow)
      ctx.exit(`model ${this.output} ${value.toFixed(4)} < ${this.exitBelow}`, explanation);
  }
  traceDecision(ctx: StrategyContext): ConditionTrace[] {
    const p = ctx.prediction;
    // As in onBar: only a prediction for this very bar is read.
    const value = p && p.tsMs === ctx.bar.closeMs ? (p.values[this.output] ?? NaN) : NaN;
    const name = `model.${this.output}`;
    return [
      {
        name: 'entry',
        expression: `${name} > ${this.enterAbove}`,
        isTrue: value > this.enterAbove,
        inputs: { [name]: value },
      },
      {
        name: 'exit',
        expression: `${name} < ${this.exitBelow}`,
        isTrue: value < this.exitBelow,
        inputs: { [name]: value },
      },
    ];
  }
}

class RuleStrategy implements TracedStrategy {
  readonly features: readonly string[];
  private readonly entryText: string;
  private readonly exitText: string;
  private entry: CompiledRule | null = null;
  private exitRule: CompiledRule | null = null;
  constructor(entryText: string, exitText: string) {
    checkRule(entryText);
    checkRule(exitText);
    this.entryText = entryText;
    this.exitText = exitText;
    this.features = [...new Set([...ruleFeatureNames(entryText), ...ruleFeatureNames(exitText)])];
  }
  start(ctx: StrategyContext): void {
    this.entry = compileContextRule(this.entryText, ctx);
    this.exitRule = compileContextRule(this.exitText, ctx);
  }
  onBar(ctx: StrategyContext): void {
    // Both rules are evaluated every bar so crosses_above/below keep their state.
    const isEntry = this.entry!.evaluate();
    const isExit = this.exitRule!.evaluate();
    const p = ctx.prediction;
    const explanation =
      p && p.explanationId !== null && p.tsMs === ctx.bar.closeMs ? { explanationId: p.explanationId } : {};
    const q = ctx.position.quantity;
    if (q === 0 && !ctx.isEntryPending && isEntry)
      ctx.enter('buy', `entry rule: ${this.entryText}`, explanation);
    else if (q > 0 && isExit) ctx.exit(`exit rule: ${this.exitText}`, explanation);
  }
  traceDecision(): ConditionTrace[] {
    const out: ConditionTrace[] = [];
    for (const [name, rule] of [
      ['entry', this.entry],
      ['exit', this.exitRule],
    ] as const) {
      if (!rule) continue;
      const t = rule.trace();
      out.push({ name, expression: rule.text, isTrue: t.isTrue, inputs: t.inputs });
      // The clauses of a compound rule show which part held (inputs are the rule's, not repeated).
      if (t.clauses.length > 1)
        t.clauses.forEach((c, i) =>
          out.push({
            name: `${name}: clause ${i + 1}`,
            expression: c.expression,
            isTrue: c.isTrue,
            inputs: {},
          }),
        );
    }
    return out;
  }
}

const period = (name: string, def: number, description: string): BuiltinParamSpec => ({
  name,
  kind: 'int',
  default: def,
  min: 1,
  max: 100_000,
  description,
});

const ENTRIES: readonly BuiltinEntry[] = [
  {
    id: 'sma-cross',
    title: 'SMA crossover',
    description:
      'Buys when the fast SMA crosses above the slow SMA, exits when it crosses below (with allowShort=1 also sells short on the cross below).',
    params: [
      period('fast', 10, 'fast SMA period (bars)'),
      period('slow', 30, 'slow SMA period (bars), > fast'),
      {
        name: 'allowShort',
        kind: 'int',
        default: 0,
        min: 0,
        max: 1,
        description: '1 = go short on the cross below',
      },
    ],
    isModelDriven: false,
    create: (p) => {
      if (!((p.fast as number) < (p.slow as number)))
        throw appError('STRATEGY_INVALID', `sma-cross: fast (${p.fast}) must be less than slow (${p.slow}).`);
      return new SmaCross(p.fast as number, p.slow as number, p.allowShort === 1);
    },
  },
  {
    id: 'rsi-reversion',
    title: 'RSI mean reversion',
    description: 'Buys when RSI is below the oversold level, exits when RSI rises above exitAbove.',
    params: [
      period('period', 14, 'RSI period (bars, Wilder)'),
      {
        name: 'oversold',
        kind: 'number',
        default: 30,
        min: 0,
        max: 100,
        description: 'enter below this RSI',
      },
      {
        name: 'exitAbove',
        kind: 'number',
        default: 70,
        min: 0,
        max: 100,
        description: 'exit above this RSI',
      },
    ],
    isModelDriven: false,
    create: (p) => new RsiReversion(p.period as number, p.oversold as number, p.exitAbove as number),
  },
  {
    id: 'bollinger-breakout',
    title: 'Bollinger breakout',
    description:
      'Buys when the close breaks above the upper band, exits when it falls below the middle band (the SMA).',
    params: [
      period('period', 20, 'band period (bars)'),
      {
        name: 'deviations',
        kind: 'int',
        default: 2,
        min: 1,
        max: 10,
        description: 'band width in population standard deviations',
      },
    ],
    isModelDriven: false,
    create: (p) => new BollingerBreakout(p.period as number, p.deviations as number),
  },
  {
    id: 'model-threshold',
    title: 'Model threshold',
    description:
      "Buys when the model's output for the bar is above enterAbove, exits when it is below exitBelow. Trades carry the prediction's explanation id.",
    params: [
      { name: 'output', kind: 'string', default: 'p_up', description: 'model output to read' },
      {
        name: 'enterAbove',
        kind: 'number',
        default: 0.55,
        min: -1e9,
        max: 1e9,
        description: 'enter when the output is above this',
      },
      {
        name: 'exitBelow',
        kind: 'number',
        default: 0.45,
        min: -1e9,
        max: 1e9,
        description: 'exit when the output is below this',
      },
    ],
    isModelDriven: true,
    create: (p) => new ModelThreshold(p.output as string, p.enterAbove as number, p.exitBelow as number),
  },
  {
    id: 'hybrid',
    title: 'Hybrid model + rules',
    description:
      'Enters when the entry rule holds and exits when the exit rule holds; rules read model outputs, features, the bar and the position (rule language).',
    params: [
      {
        name: 'entry',
        kind: 'string',
        default: 'model.p_up > 0.55 and rsi_14 < 70 and close > sma_50',
        description: 'entry rule',
      },
      {
        name: 'exit',
        kind: 'string',
        default: 'model.p_up < 0.45 or close < sma_50',
        description: 'exit rule',
      },
    ],
    isModelDriven: true,
    create: (p) => new RuleStrategy(p.entry as string, p.exit as string),
  },
  {
    id: 'rules',
    title: 'Rules',
    description: 'Like hybrid, for rules over features and the bar only (no model).',
    params: [
      { name: 'entry', kind: 'string', default: 'crosses_above(sma_10, sma_30)', description: 'entry rule' },
      { name: 'exit', kind: 'string', default: 'crosses_below(sma_10, sma_30)', description: 'exit rule' },
    ],
    isModelDriven: false,
    create: (p) => new RuleStrategy(p.entry as string, p.exit as string),
  },
];

const BY_ID = new Map(ENTRIES.map((e) => [e.id, e]));

export const BUILTIN_STRATEGY_IDS = ENTRIES.map((e) => e.id);

export function listBuiltinStrategies(): BuiltinInfo[] {
  return ENTRIES.map(({ id, title, description, params, isModelDriven }) => ({
    id,
    title,
    description,
    params,
    isModelDriven,
  }));
}

export function builtinInfo(id: string): BuiltinInfo {
  const entry = BY_ID.get(id);
  if (!entry)
    throw appError(
      'STRATEGY_INVALID',
      `Unknown strategy '${id}'; built-ins: ${BUILTIN_STRATEGY_IDS.join(', ')}.`,
    );
  return entry;
}

/** Parameters with defaults filled in and every value checked; throws STRATEGY_INVALID naming the parameter. */
export function resolveStrategyParams(id: string, given: StrategyParams): Record<string, number | string> {
  const entry = builtinInfo(id);
  const known = new Set(entry.params.map((p) => p.name));
  for (const key of Object.keys(given)) {
    if (!known.has(key))
      throw appError(
        'STRATEGY_INVALID',
        `${id} has no parameter '${key}' (parameters: ${[...known].join(', ')}).`,
        { param: key },
      );
  }
  const out: Record<string, number | string> = {};
  for (const spec of entry.params) {
    const raw = given[spec.name] ?? spec.default;
    if (spec.kind === 'string') {
      if (typeof raw !== 'string' || raw.length === 0 || raw.length > 4000)
        throw appError('STRATEGY_INVALID', `${id}.${spec.name} must be a non-empty text.`, {
          param: spec.name,
        });
      out[spec.name] = raw;
      continue;
    }
    const n =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n))
      throw appError('STRATEGY_INVALID', `${id}.${spec.name} = ${JSON.stringify(raw)} is not a number.`, {
        param: spec.name,
      });
    if (spec.kind === 'int' && !Number.isInteger(n))
      throw appError('STRATEGY_INVALID', `${id}.${spec.name} = ${n} must be an integer.`, {
        param: spec.name,
      });
    if (n < spec.min || n > spec.max)
      throw appError(
        'STRATEGY_INVALID',
        `${id}.${spec.name} = ${n} must be within ${spec.min}..${spec.max}.`,
        { param: spec.name },
      );
    out[spec.name] = n;
  }
  return out;
}

export function createBuiltinStrategy(id: string, params: StrategyParams = {}): TracedStrategy {
  const entry = BY_ID.get(id);
  if (!entry)
    throw appError(
      'STRATEGY_INVALID',
      `Unknown strategy '${id}'; built-ins: ${BUILTIN_STRATEGY_IDS.join(', ')}.`,
    );
  return entry.create(resolveStrategyParams(id, params));
}
