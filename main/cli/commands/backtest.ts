import type { Command } from 'commander';
import { basename, dirname, join } from 'node:path';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { CliError, EXIT_USAGE, globalOptions, printJson } from '../context.ts';
import { createProgress } from '../progress.ts';
import { readSeries } from './features.ts';
import { parseStoredSeriesKey } from '../../core/features/series-file.ts';
import {
  backtestConfigSchema,
  METRIC_NAMES,
  type BacktestConfig,
  type SizingInput,
} from '../../../shared/contract/backtest.ts';
import { AppErrorException } from '../../../shared/errors.ts';
import { BUILTIN_STRATEGY_IDS, listBuiltinStrategies } from '../../core/strategy/builtins/index.ts';
import { buildReport, runConfiguredBacktest } from '../../core/backtest/report.ts';
import { renderHtmlReport } from '../../core/backtest/html-report.ts';
import { builtinInfo } from '../../core/strategy/builtins/index.ts';
import { predictionSource, predictionsFromRegistry } from '../../core/backtest/model-predictions.ts';
import { ModelRegistry } from '../../core/models/registry.ts';
import { DEFAULT_MODEL } from '../../core/models/module.ts';
import { resourcesDir } from '../context.ts';

/**
 * `vantage backtest`: one built-in strategy over a series file or a stored series, through the
 * same strategy, risk, order manager and portfolio code as live (docs/strategies.md,
 * docs/backtest-metrics.md). Writes report.json (trades, equity, metrics, config) and optionally
 * a self-contained HTML report.
 */

interface RawOptions {
  data?: string;
  strategy: string;
  param: string[];
  size?: string;
  notional?: string;
  percentEquity?: string;
  fill: string;
  feesBps?: string;
  makerBps?: string;
  takerBps?: string;
  slippageBps?: string;
  participation?: string;
  stopLossPct?: string;
  takeProfitPct?: string;
  trailingStopPct?: string;
  cash: string;
  currency: string;
  symbol?: string;
  out?: string;
  html?: string;
  list?: boolean;
  model?: string;
}

function number(
  flag: string,
  text: string | undefined,
  isValid: (n: number) => boolean,
  what: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !isValid(n))
    throw new CliError(`${flag} must be ${what}, not '${text}'.`, EXIT_USAGE);
  return n;
}

function parseParams(list: string[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError(`--param takes name=value, not '${item}'.`, EXIT_USAGE);
    const key = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1);
    const n = Number(raw);
    out[key] = raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  return out;
}

export function buildConfig(raw: RawOptions): BacktestConfig {
  const sizes = [raw.size, raw.notional, raw.percentEquity].filter((v) => v !== undefined);
  if (sizes.length > 1)
    throw new CliError('Give at most one of --size, --notional, --percent-equity.', EXIT_USAGE);
  let sizing: SizingInput = { kind: 'fixed-quantity', quantity: 1 };
  const size = number('--size', raw.size, (n) => n > 0, 'a positive quantity');
  const notional = number('--notional', raw.notional, (n) => n > 0, 'a positive amount');
  const percent = number(
    '--percent-equity',
    raw.percentEquity,
    (n) => n > 0 && n <= 100,
    'a percentage in (0, 100]',
  );
  if (size !== undefined) sizing = { kind: 'fixed-quantity', quantity: size };
  if (notional !== undefined) sizing = { kind: 'fixed-notional', notional };
  if (percent !== undefined) sizing = { kind: 'percent-equity', percent };
  if (raw.fill !== 'next-open' && raw.fill !== 'close')
    throw new CliError(`--fill must be next-open or close, not '${raw.fill}'.`, EXIT_USAGE);
  const bps = (flag: string, v: string | undefined): number | undefined =>
    number(flag, v, (n) => n >= 0 && n <= 1000, 'basis points in [0, 1000]');
  const fees = bps('--fees-bps', raw.feesBps);
  const pct = (flag: string, v: string | undefined, max: number): number | undefined => {
    const n = number(flag, v, (x) => x > 0 && x <= max, `a percentage in (0, ${max}]`);
    return n === undefined ? undefined : n / 100;
  };
  const protection: Record<string, number> = {};
  const stopLoss = pct('--stop-loss-pct', raw.stopLossPct, 99);
  const takeProfit = pct('--take-profit-pct', raw.takeProfitPct, 10_000);
  const trailing = pct('--trailing-stop-pct', raw.trailingStopPct, 99);
  if (stopLoss !== undefined) protection.stopLoss = stopLoss;
  if (takeProfit !== undefined) protection.takeProfit = takeProfit;
  if (trailing !== undefined) protection.trailingStop = trailing;
  const fill: Record<string, number | string> = { marketFill: raw.fill };
  const maker = bps('--maker-bps', raw.makerBps) ?? fees;
  const taker = bps('--taker-bps', raw.takerBps) ?? fees;
  if (maker !== undefined) fill.makerFeeBps = maker;
  if (taker !== undefined) fill.takerFeeBps = taker;
  const slippage = bps('--slippage-bps', raw.slippageBps);
  if (slippage !== undefined) fill.slippageBps = slippage;
  const participation = number(
    '--participation',
    raw.participation,
    (n) => n >= 0 && n <= 1,
    'a share of bar volume in [0, 1]',
  );
  if (participation !== undefined) fill.participation = participation;
  const parsed = backtestConfigSchema.safeParse({
    strategy: { id: raw.strategy, params: parseParams(raw.param) },
    sizing,
    protection,
    fill,
    cash: number('--cash', raw.cash, (n) => n > 0, 'a positive amount'),
    currency: raw.currency,
    ...(raw.symbol ? { symbol: raw.symbol } : {}),
    ...(raw.model ? { model: raw.model } : {}),
  });
  if (!parsed.success)
    throw new CliError(
      `Invalid backtest settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      EXIT_USAGE,
    );
  return parsed.data;
}

function writeAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.partial`);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliError(`Cannot write ${path}: ${(error as Error).message}`);
  }
}

function symbolFor(data: string, config: BacktestConfig): string {
  if (config.symbol) return config.symbol;
  if (!existsSync(data)) {
    const key = parseStoredSeriesKey(data);
    if (key) return key.symbol;
  }
  return basename(data).replace(/\.[^.]+$/, '');
}

export function register(program: Command): void {
  program
    .command('backtest')
    .description(
      'Backtest a built-in strategy on a series file or a stored series through the live risk/order/portfolio code; writes a JSON (and HTML) report.',
    )
    .option('--data <series>', 'series file (Freqtrade JSON, CSV) or stored series venue:symbol:timeframe')
    .option('--strategy <id>', `built-in strategy (${BUILTIN_STRATEGY_IDS.join(', ')})`, 'sma-cross')
    .option(
      '--param <name=value>',
      'strategy parameter (repeatable), e.g. --param fast=10 --param slow=30',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--size <quantity>', 'fixed quantity per entry in base units (default 1)')
    .option('--notional <amount>', 'fixed notional per entry in the quote currency')
    .option('--percent-equity <pct>', 'entry size as a percentage of equity')
    .option(
      '--fill <model>',
      'market orders fill at the next bar open (next-open) or the decision bar close (close)',
      'next-open',
    )
    .option('--fees-bps <bps>', 'maker and taker fee in basis points (default 10)')
    .option('--maker-bps <bps>', 'maker fee (limit fills) in basis points')
    .option('--taker-bps <bps>', 'taker fee (market/stop fills) in basis points')
    .option('--slippage-bps <bps>', 'slippage against taker fills in basis points (default 0)')
    .option('--participation <share>', 'max share of a bar volume filled per bar (0 = no cap)')
    .option('--stop-loss-pct <pct>', 'stop-loss attached to entries, % below (long) the entry fill')
    .option('--take-profit-pct <pct>', 'take-profit attached to entries, % above (long) the entry fill')
    .option('--trailing-stop-pct <pct>', 'trailing stop attached to entries, % from the best price')
    .option('--cash <amount>', 'starting cash', '100000')
    .option('--currency <code>', 'quote currency of the account', 'USD')
    .option('--symbol <symbol>', 'symbol name in the report (default: from the series)')
    .option('--out <file>', 'write the JSON report here')
    .option('--html <file>', 'write a self-contained HTML report here')
    .option(
      '--model <name>',
      `model for model-threshold and hybrid (bundled or in the data folder's models/; default ${DEFAULT_MODEL})`,
    )
    .option('--list', 'list the built-in strategies and their parameters')
    .action(async (raw: RawOptions, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      if (raw.list) {
        const list = listBuiltinStrategies();
        if (json) printJson(list);
        else
          for (const s of list)
            process.stdout.write(
              `${s.id}: ${s.description}\n  ${s.params.map((p) => `${p.name}=${p.default}`).join(' ')}\n`,
            );
        return;
      }
      if (!raw.data)
        throw new CliError('--data is required (a series file or venue:symbol:timeframe).', EXIT_USAGE);
      const config = buildConfig(raw);
      const bars = readSeries(raw.data, dataDir);
      const symbol = symbolFor(raw.data, config);
      const progress = createProgress('backtest', bars.time.length);
      const started = performance.now();
      let result;
      try {
        let predictions;
        if (builtinInfo(config.strategy.id).isModelDriven) {
          config.model ??= DEFAULT_MODEL;
          const registry = new ModelRegistry({ resourcesDir: resourcesDir(), dataDir });
          try {
            predictions = predictionSource(
              await predictionsFromRegistry(registry, config.model, symbol, bars),
            );
          } finally {
            // An open ONNX session keeps the process alive.
            await registry.unload(config.model);
          }
        }
        result = await runConfiguredBacktest(config, symbol, bars, {
          onProgress: (done, total) => progress.update(done, total),
          ...(predictions ? { predictions } : {}),
        });
      } catch (error) {
        if (error instanceof AppErrorException)
          throw new CliError(
            error.message,
            error.code === 'STRATEGY_INVALID' ||
              error.code === 'RULE_PARSE_ERROR' ||
              error.code === 'NOT_FOUND'
              ? EXIT_USAGE
              : 1,
          );
        throw error;
      } finally {
        progress.stop();
      }
      const report = buildReport(config, symbol, result.bars, result.run, performance.now() - started);
      if (raw.out) writeAtomically(raw.out, `${JSON.stringify(report)}\n`);
      if (raw.html) writeAtomically(raw.html, renderHtmlReport(report));
      if (json) {
        printJson({
          symbol,
          barCount: report.barCount,
          metrics: report.metrics,
          benchmark: report.benchmark.metrics,
          out: raw.out ?? null,
          html: raw.html ?? null,
        });
        return;
      }
      const lines = [
        `${config.strategy.id} on ${symbol}: ${report.barCount} bars, ${report.metrics.tradeCount} trades, ${report.elapsedMs.toFixed(0)} ms`,
      ];
      for (const m of METRIC_NAMES)
        lines.push(
          `  ${m.padEnd(24)} ${report.metrics[m] === null ? '-' : String(Number(report.metrics[m]!.toPrecision(6)))}`,
        );
      lines.push(
        `  buy-and-hold totalReturn  ${report.benchmark.metrics.totalReturn === null ? '-' : Number(report.benchmark.metrics.totalReturn.toPrecision(6))}`,
      );
      if (raw.out) lines.push(`report: ${raw.out}`);
      if (raw.html) lines.push(`html: ${raw.html}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
