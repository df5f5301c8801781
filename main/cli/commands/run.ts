import type { Command } from 'commander';
import { CliError, EXIT_USAGE, globalOptions, printJson, resourcesDir } from '../context.ts';
import type { Scheduler, TimerHandle } from '../../core/clock.ts';
import { PaperSession, type SessionSummary } from '../../core/execution/paper-session.ts';
import { BUILTIN_STRATEGY_IDS, builtinInfo } from '../../core/strategy/builtins/index.ts';
import { ModelRegistry } from '../../core/models/registry.ts';
import { DEFAULT_MODEL } from '../../core/models/module.ts';
import { isAppErrorException } from '../../../shared/errors.ts';
import { isTimeframe, type Timeframe } from '../../../shared/market.ts';
import type { SizingInput, ProtectionSpec } from '../../core/strategy/sizing.ts';

/**
 * Wall clock running `speed` times faster than real time (speed 1 = real time): the demo venue
 * and every engine timer run on it, so a 10-minute session at --speed 60 takes 10 seconds.
 */
export class ScaledScheduler implements Scheduler {
  private readonly speed: number;
  private readonly startWallMs = Date.now();
  private readonly startRealMs = performance.now();

  constructor(speed: number) {
    this.speed = speed;
  }

  nowMs(): number {
    return Math.floor(this.startWallMs + (performance.now() - this.startRealMs) * this.speed);
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs / this.speed));
    return { cancel: () => clearTimeout(t) };
  }
}

/** "10m", "90s", "2h", "500ms" -> ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new CliError(`--for takes a duration like 30s, 10m or 2h, not '${text}'.`, EXIT_USAGE);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(m[1]) * unit;
  if (!(ms > 0)) throw new CliError('--for must be longer than 0.', EXIT_USAGE);
  return ms;
}

function parseParams(items: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError(`--param takes name=value, not '${item}'.`, EXIT_USAGE);
    const value = item.slice(eq + 1);
    out[item.slice(0, eq)] = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return out;
}

function positiveNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`${name} must be a positive number, not '${text}'.`, EXIT_USAGE);
  return n;
}

interface RunOptions {
  account: string;
  venue: string;
  strategy: string;
  param: string[];
  symbol: string;
  timeframe: string;
  for?: string;
  speed: string;
  size?: string;
  notional?: string;
  percentEquity?: string;
  stopLossPct?: string;
  takeProfitPct?: string;
  trailingStopPct?: string;
  seed: string;
  model?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'Run a strategy headless on the paper account with risk, orders, portfolio and audit exactly as the app does; prints fills and a summary. Ctrl-C stops cleanly (working orders cancelled, ledger consistent).',
    )
    .option('--account <account>', 'account to trade (only paper is available headless)', 'paper')
    .option('--venue <venue>', 'market data venue for the paper account (demo)', 'demo')
    .option('--strategy <id>', `built-in strategy (${BUILTIN_STRATEGY_IDS.join(', ')}) or none`, 'none')
    .option(
      '--param <name=value>',
      'strategy parameter (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--symbol <symbol>', 'symbol to trade', 'BTC/USDT')
    .option('--timeframe <tf>', 'bar timeframe the strategy trades on', '1m')
    .option('--for <duration>', 'stop after this much market time (e.g. 10m, 90s); default: until Ctrl-C')
    .option('--speed <n>', 'market time runs this many times faster than real time', '1')
    .option('--size <quantity>', 'fixed quantity per entry in base units')
    .option('--notional <amount>', 'fixed notional per entry in the quote currency (default 1000)')
    .option('--percent-equity <pct>', 'entry size as a percentage of equity')
    .option('--stop-loss-pct <pct>', 'stop-loss attached to entries, % from the entry fill')
    .option('--take-profit-pct <pct>', 'take-profit attached to entries, % from the entry fill')
    .option('--trailing-stop-pct <pct>', 'trailing stop attached to entries, % from the best price')
    .option('--seed <n>', 'demo market seed', '20261125')
    .option(
      '--model <name>',
      `model for model-driven strategies (model-threshold, hybrid); default ${DEFAULT_MODEL}`,
    )
    .action(async (raw: RunOptions, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      if (raw.account !== 'paper')
        throw new CliError(
          `Only the paper account can run headless (got --account ${raw.account}); live trading runs from the app.`,
          EXIT_USAGE,
        );
      if (raw.venue !== 'demo')
        throw new CliError(
          `--venue ${raw.venue} is not available for headless paper trading; use --venue demo.`,
          EXIT_USAGE,
        );
      if (!isTimeframe(raw.timeframe))
        throw new CliError(
          `--timeframe must be one of 1m, 5m, 15m, 1h, 4h, 1d (got ${raw.timeframe}).`,
          EXIT_USAGE,
        );
      if (raw.strategy !== 'none' && !BUILTIN_STRATEGY_IDS.includes(raw.strategy)) {
        throw new CliError(
          `Unknown strategy '${raw.strategy}'; built-ins: ${BUILTIN_STRATEGY_IDS.join(', ')}, or none.`,
          EXIT_USAGE,
        );
      }
      const speed = positiveNumber('--speed', raw.speed) ?? 1;
      if (speed > 10_000) throw new CliError('--speed must be at most 10000.', EXIT_USAGE);
      const forMs = raw.for === undefined ? null : parseDuration(raw.for);
      const seed = Number(raw.seed);
      if (!Number.isSafeInteger(seed))
        throw new CliError(`--seed must be an integer, not '${raw.seed}'.`, EXIT_USAGE);
      let sizing: SizingInput = { kind: 'fixed-notional', notional: 1000 };
      const size = positiveNumber('--size', raw.size);
      const notional = positiveNumber('--notional', raw.notional);
      const percent = positiveNumber('--percent-equity', raw.percentEquity);
      if (size !== undefined) sizing = { kind: 'fixed-quantity', quantity: size };
      if (notional !== undefined) sizing = { kind: 'fixed-notional', notional };
      if (percent !== undefined) sizing = { kind: 'percent-equity', percent };
      const protection: ProtectionSpec = {};
      const sl = positiveNumber('--stop-loss-pct', raw.stopLossPct);
      const tp = positiveNumber('--take-profit-pct', raw.takeProfitPct);
      const ts = positiveNumber('--trailing-stop-pct', raw.trailingStopPct);
      if (sl !== undefined) protection.stopLoss = sl / 100;
      if (tp !== undefined) protection.takeProfit = tp / 100;
      if (ts !== undefined) protection.trailingStop = ts / 100;

      const scheduler = new ScaledScheduler(speed);
      const out = (line: string): void => void process.stdout.write(`${line}\n`);
      const isModelDriven = raw.strategy !== 'none' && builtinInfo(raw.strategy).isModelDriven;
      if (raw.model !== undefined && !isModelDriven)
        throw new CliError(
          `--model is only for model-driven strategies (model-threshold, hybrid), not ${raw.strategy}.`,
          EXIT_USAGE,
        );
      const models = isModelDriven ? new ModelRegistry({ resourcesDir: resourcesDir(), dataDir }) : null;
      let session: PaperSession;
      try {
        session = new PaperSession({
          dataDir,
          scheduler,
          symbol: raw.symbol,
          strategy: raw.strategy,
          params: parseParams(raw.param),
          timeframe: raw.timeframe as Timeframe,
          sizing,
          protection,
          seed,
          speed,
          ...(models ? { models, model: raw.model ?? DEFAULT_MODEL } : {}),
          onSignal: (sig) =>
            json
              ? out(JSON.stringify({ event: 'signal', ...sig }))
              : out(
                  `signal ${new Date(sig.tsMs).toISOString()}  ${sig.role} ${sig.side.toUpperCase()} ${sig.quantity} ${sig.symbol}  ${sig.outcome}${sig.message ? ` (${sig.message})` : ''}  ${sig.reason}${
                    sig.prediction
                      ? `  [${sig.prediction.model.name} ${Object.entries(sig.prediction.values)
                          .map(([k, v]) => `${k}=${v.toFixed(4)}`)
                          .join(' ')}]`
                      : ''
                  }  audit #${sig.auditSeq}`,
                ),
          onFill: (f) =>
            json
              ? out(JSON.stringify({ event: 'fill', ...f }))
              : out(
                  `fill  ${new Date(f.tsMs).toISOString()}  ${f.side.toUpperCase().padEnd(4)} ${f.quantity} ${f.symbol} @ ${f.price}  fee ${f.fee.toFixed(4)} ${f.feeCurrency}${f.isMaker ? ' (maker)' : ''}  ${f.clientOrderId}`,
                ),
          onAlert: (a) =>
            json
              ? out(JSON.stringify({ event: 'alert', ...a }))
              : process.stderr.write(`alert [${a.severity}] ${a.message}\n`),
        });
      } catch (err) {
        await models?.close();
        if (isAppErrorException(err))
          throw new CliError(err.message, err.code === 'STORE_CORRUPT' ? 1 : EXIT_USAGE);
        throw err;
      }
      try {
        await session.start();
      } catch (err) {
        // A model that fails to load (or any start failure): stop cleanly, then report it.
        await session.stop();
        await models?.close();
        if (isAppErrorException(err)) throw new CliError(err.message, 1);
        throw err;
      }
      if (!json)
        out(
          `running ${raw.strategy} on ${raw.symbol} (paper, demo venue, ${raw.timeframe} bars, speed ${speed}x)${forMs ? ` for ${raw.for}` : ''}; Ctrl-C stops`,
        );
      else out(JSON.stringify({ event: 'started', strategy: raw.strategy, symbol: raw.symbol, speed }));

      const summary = await new Promise<SessionSummary>((resolveStop) => {
        let isStopping = false;
        let timer: TimerHandle | null = null;
        const stop = (why: string): void => {
          if (isStopping) return;
          isStopping = true;
          timer?.cancel();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (!json) process.stderr.write(`stopping (${why}): cancelling working orders...\n`);
          void session.stop().then(resolveStop);
        };
        const onSignal = (signal: NodeJS.Signals): void => stop(signal);
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        if (forMs !== null) timer = scheduler.schedule(forMs, () => stop(`--for ${raw.for} elapsed`));
      });
      await models?.close();
      if (json) printJson({ event: 'summary', ...summary });
      else out(formatSummary(summary));
      if (!summary.isAuditOk || summary.stillWorking > 0) process.exitCode = 1;
    });
}

function formatSummary(s: SessionSummary): string {
  const money = (v: number): string => v.toFixed(2);
  return [
    `summary  ${s.strategy} on ${s.symbol}, ${((s.stoppedMs - s.startedMs) / 1000).toFixed(0)} s of market time, ${s.bars} bars, ${s.signals} signals`,
    `  orders ${s.ordersSent} sent, ${s.ordersRejectedByRisk} refused by risk, ${s.fills} fills, ${s.canceledAtStop} cancelled at stop, ${s.stillWorking} still working`,
    `  position ${s.position}  realised ${money(s.realisedPnl)}  unrealised ${money(s.unrealisedPnl)}  fees ${money(s.feesPaid)}  equity ${money(s.equity)}`,
    `  reconciled at start: ${s.reconciliation.resolved} orders resolved, ${s.reconciliation.external} external, ${s.reconciliation.fillsApplied} fills applied`,
    `  audit ${s.isAuditOk ? 'OK' : 'BROKEN'} (head ${s.auditHeadSeq})`,
  ].join('\n');
}
