import { strategyStartSchema, type StrategyStartRequest } from '../../../../shared/contract/strategies.ts';
import type { ResponseOf } from '../../../../shared/contract/index.ts';
import type { AppError } from '../../../../shared/errors.ts';
import type { Timeframe } from '../../../../shared/market.ts';

export type BuiltinStrategy = ResponseOf<'backtest:strategies'>[number];
export type ParamSpec = BuiltinStrategy['params'][number];

export const SIZING_KINDS = [
  'fixed-notional',
  'fixed-quantity',
  'percent-equity',
  'volatility-target',
  'kelly',
] as const;
export type SizingKind = (typeof SIZING_KINDS)[number];

/** The fields of each sizing policy, as the contract's sizingSchema names them; blank optional fields take its defaults. */
export const SIZING_FIELDS: Record<
  SizingKind,
  { name: string; label: string; isRequired: boolean; placeholder: string }[]
> = {
  'fixed-notional': [{ name: 'notional', label: 'Notional (quote)', isRequired: true, placeholder: '1000' }],
  'fixed-quantity': [{ name: 'quantity', label: 'Quantity (base)', isRequired: true, placeholder: '0.01' }],
  'percent-equity': [{ name: 'percent', label: '% of equity', isRequired: true, placeholder: '5' }],
  'volatility-target': [
    {
      name: 'annualVolatility',
      label: 'Annual volatility (0.1 = 10%)',
      isRequired: true,
      placeholder: '0.2',
    },
    { name: 'barsPerYear', label: 'Bars per year', isRequired: true, placeholder: '525600' },
    { name: 'lookbackBars', label: 'Lookback (bars)', isRequired: false, placeholder: '20' },
    { name: 'maxLeverage', label: 'Max leverage (x)', isRequired: false, placeholder: '1' },
  ],
  kelly: [
    { name: 'cap', label: 'Cap (share of equity)', isRequired: false, placeholder: '0.25' },
    { name: 'fraction', label: 'Kelly fraction', isRequired: false, placeholder: '0.5' },
    { name: 'minTrades', label: 'Min closed trades', isRequired: false, placeholder: '20' },
    { name: 'fallbackPercent', label: 'Fallback % of equity', isRequired: false, placeholder: '5' },
  ],
};

/** Protective exits, entered in percent of the entry price (the contract takes fractions). */
export const PROTECTION_FIELDS = [
  { name: 'stopLoss', label: 'Stop-loss %' },
  { name: 'takeProfit', label: 'Take-profit %' },
  { name: 'trailingStop', label: 'Trailing stop %' },
] as const;

/** What the user typed, as text, before validation. */
export interface StartFormInput {
  builtin: string;
  symbol: string;
  timeframe: Timeframe;
  /** Parameter name -> text; a missing entry means the spec's default. */
  params: Record<string, string>;
  sizingKind: SizingKind;
  sizing: Record<string, string>;
  protection: Record<string, string>;
  /** Empty: the default model. */
  model: string;
}

/** Field keys: `param.<name>`, `sizing.<name>`, `protection.<name>`, `symbol`, `builtin`, `model`, `form`. */
export type FieldErrors = Record<string, string>;

export type StartFormResult =
  { ok: true; request: StrategyStartRequest } | { ok: false; errors: FieldErrors };

function parseNumber(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : Number.NaN;
}

/**
 * Checks what the user typed against the built-in's parameter specs and the contract's schemas,
 * and builds the strategies:start request. Every problem is reported on its own field.
 */
export function buildStartRequest(
  input: StartFormInput,
  strategy: BuiltinStrategy | undefined,
): StartFormResult {
  const errors: FieldErrors = {};
  if (!strategy) return { ok: false, errors: { builtin: 'Choose a strategy.' } };
  if (input.symbol === '') errors.symbol = 'Choose a symbol.';

  const params: Record<string, number | string> = {};
  for (const spec of strategy.params) {
    const text = input.params[spec.name] ?? String(spec.default);
    const key = `param.${spec.name}`;
    if (spec.kind === 'string') {
      if (text.trim() === '') errors[key] = 'Required.';
      else if (text.length > 500) errors[key] = `At most 500 characters (${text.length}).`;
      else params[spec.name] = text;
      continue;
    }
    const n = parseNumber(text);
    if (n === null) errors[key] = 'Required.';
    else if (Number.isNaN(n)) errors[key] = `"${text}" is not a number.`;
    else if (spec.kind === 'int' && !Number.isInteger(n)) errors[key] = `${n} must be a whole number.`;
    else if (spec.min !== undefined && n < spec.min) errors[key] = `${n} is below the minimum ${spec.min}.`;
    else if (spec.max !== undefined && n > spec.max) errors[key] = `${n} is above the maximum ${spec.max}.`;
    else params[spec.name] = n;
  }

  const sizing: Record<string, unknown> = { kind: input.sizingKind };
  for (const field of SIZING_FIELDS[input.sizingKind]) {
    const key = `sizing.${field.name}`;
    const n = parseNumber(input.sizing[field.name] ?? '');
    if (n === null) {
      if (field.isRequired) errors[key] = 'Required.';
    } else if (Number.isNaN(n)) errors[key] = `"${input.sizing[field.name]}" is not a number.`;
    else sizing[field.name] = n;
  }

  const protection: Record<string, number> = {};
  for (const field of PROTECTION_FIELDS) {
    const key = `protection.${field.name}`;
    const n = parseNumber(input.protection[field.name] ?? '');
    if (n === null) continue;
    if (Number.isNaN(n)) errors[key] = `"${input.protection[field.name]}" is not a number.`;
    else protection[field.name] = n / 100;
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const candidate = {
    builtin: strategy.id,
    symbol: input.symbol,
    timeframe: input.timeframe,
    params,
    sizing,
    protection,
    ...(strategy.isModelDriven && input.model !== '' ? { model: input.model } : {}),
  };
  const parsed = strategyStartSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [top, name] = issue.path;
      const key =
        top === 'params' || top === 'sizing' || top === 'protection'
          ? `${top === 'params' ? 'param' : top}.${String(name)}`
          : String(top ?? 'form');
      const message = top === 'protection' ? protectionMessage(issue.message, String(name)) : issue.message;
      errors[key] ??= message;
    }
    return { ok: false, errors };
  }
  return { ok: true, request: parsed.data };
}

/** The schema speaks in fractions; the form in percent. */
function protectionMessage(message: string, name: string): string {
  const limit = name === 'takeProfit' ? '10000' : '99';
  return `Must be above 0 and at most ${limit}% (${message}).`;
}

/** Puts an engine refusal on the field it names (STRATEGY_INVALID carries `details.param`), else on the form. */
export function errorsFromEngine(error: AppError): FieldErrors {
  const details = error.details as { param?: unknown } | undefined;
  if (details && typeof details.param === 'string') return { [`param.${details.param}`]: error.message };
  return { form: error.message };
}
