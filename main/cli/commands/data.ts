import type { Command } from 'commander';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError, EXIT_USAGE, globalOptions, printJson } from '../context.ts';
import { openDatabase, type OpenedDatabase } from '../../core/store/sqlite.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { CandleStore, type SeriesInfo } from '../../core/data/candle-store.ts';
import {
  IMPORT_FORMATS,
  TIMESTAMP_UNITS,
  TIME_LABELS,
  formatIssue,
  importCandles,
  isoUtc,
  type ImportFormat,
  type ImportIssue,
  type TimeLabel,
  type TimestampUnit,
} from '../../core/data/import.ts';
import { AppErrorException } from '../../../shared/errors.ts';
import { TIMEFRAMES, isTimeframe, type CandleColumns, type Timeframe } from '../../../shared/market.ts';
import { registerDataFetch } from './data-fetch.ts';

function openMarket(dataDir: string): OpenedDatabase {
  mkdirSync(dataDir, { recursive: true });
  return openDatabase({
    name: 'market.db',
    path: join(dataDir, 'market.db'),
    migrations: marketMigrations,
    durability: 'normal',
  });
}

function withStore<T>(dataDir: string, fn: (store: CandleStore) => T): T {
  const market = openMarket(dataDir);
  try {
    return fn(new CandleStore(market.db));
  } finally {
    market.close();
  }
}

function requireTimeframe(value: string | undefined, option = '--timeframe'): Timeframe | undefined {
  if (value === undefined) return undefined;
  if (!isTimeframe(value))
    throw new CliError(`${option} must be one of ${TIMEFRAMES.join(', ')} (got ${value})`, EXIT_USAGE);
  return value;
}

function requireChoice<T extends string>(
  value: string | undefined,
  choices: readonly T[],
  option: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value))
    throw new CliError(`${option} must be one of ${choices.join(', ')} (got ${value})`, EXIT_USAGE);
  return value as T;
}

function formatTime(ms: number | null): string {
  return ms === null ? '-' : isoUtc(ms).replace('T', ' ').replace(/:00Z$/, 'Z');
}

function parseTimeOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{10,}$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(
    /^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$/.test(trimmed)
      ? `${trimmed.length === 10 ? `${trimmed}T00:00:00` : trimmed}Z`
      : trimmed,
  );
  if (!Number.isFinite(ms))
    throw new CliError(`${option} must be an ISO date/time (UTC) or epoch ms (got ${value})`, EXIT_USAGE);
  return ms;
}

/** Writes bars as CSV (timestamp in ms, the layout `data import` reads back) or Freqtrade JSON. */
export function formatCandles(columns: CandleColumns, format: ImportFormat): string {
  const n = columns.time.length;
  if (format === 'json') {
    const rows: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++)
      rows[i] =
        `[${columns.time[i]},${columns.open[i]},${columns.high[i]},${columns.low[i]},${columns.close[i]},${columns.volume[i]}]`;
    return `[${rows.join(',\n')}]\n`;
  }
  const lines: string[] = ['timestamp,open,high,low,close,volume'];
  for (let i = 0; i < n; i++)
    lines.push(
      `${columns.time[i]},${columns.open[i]},${columns.high[i]},${columns.low[i]},${columns.close[i]},${columns.volume[i]}`,
    );
  return `${lines.join('\n')}\n`;
}

interface ImportOptions {
  file: string;
  format?: string;
  venue: string;
  symbol: string;
  timeframe?: string;
  timestampUnit?: string;
  timeLabel?: string;
}

export function register(program: Command): void {
  const data = program
    .command('data')
    .description('Market data: import, list, find gaps, export (and fetch from venues).');

  data
    .command('import')
    .description(
      'Import a candle file into market.db, all or nothing. Every bad row is reported as file:line: reason (exit 1, nothing stored). Re-importing the same file changes nothing.',
    )
    .requiredOption(
      '--file <path>',
      'CSV with a header (timestamp,open,high,low,close,volume / Date,Open,High,Low,Close,Volume[,OpenInterest] / Yahoo with Adj Close) or Freqtrade JSON',
    )
    .option('--format <format>', `file format: ${IMPORT_FORMATS.join(' | ')} (default: from the extension)`)
    .requiredOption('--venue <venue>', 'venue id the bars belong to (e.g. binance)')
    .requiredOption('--symbol <symbol>', 'symbol (e.g. BTC/USDT)')
    .option(
      '--timeframe <tf>',
      `bar timeframe: ${TIMEFRAMES.join(', ')} (default: inferred from the bar spacing)`,
    )
    .option('--timestamp-unit <unit>', `unit of numeric timestamps: ${TIMESTAMP_UNITS.join(', ')}`, 'auto')
    .option('--time-label <label>', `whether timestamps are bar ${TIME_LABELS.join(' or ')} times`, 'open')
    .action((opts: ImportOptions, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const timeframe = requireTimeframe(opts.timeframe);
      const format = requireChoice<ImportFormat>(opts.format, IMPORT_FORMATS, '--format');
      const timestampUnit = requireChoice<TimestampUnit>(
        opts.timestampUnit,
        TIMESTAMP_UNITS,
        '--timestamp-unit',
      );
      const timeLabel = requireChoice<TimeLabel>(opts.timeLabel, TIME_LABELS, '--time-label');
      try {
        const report = withStore(dataDir, (store) =>
          importCandles(store, {
            path: resolve(opts.file),
            fileName: opts.file,
            venue: opts.venue,
            symbol: opts.symbol,
            ...(timeframe ? { timeframe } : {}),
            ...(format ? { format } : {}),
            ...(timestampUnit ? { timestampUnit } : {}),
            ...(timeLabel ? { timeLabel } : {}),
          }),
        );
        if (json) printJson(report);
        else {
          process.stdout.write(
            `Imported ${report.file} (${report.layout}) into ${report.venue} ${report.symbol} ${report.timeframe}: ` +
              `${report.barCount} bars ${formatTime(report.firstMs)} .. ${formatTime(report.lastMs)}; ` +
              `${report.inserted} new, ${report.updated} changed, ${report.unchanged} already stored.\n`,
          );
        }
      } catch (err) {
        if (err instanceof AppErrorException && err.code === 'DATA_INVALID') {
          const details = err.details as { issues?: ImportIssue[]; issueCount?: number } | undefined;
          const issues = details?.issues ?? [];
          if (json) printJson({ ok: false, issueCount: details?.issueCount ?? issues.length, issues });
          else for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`);
          const hidden = (details?.issueCount ?? issues.length) - issues.length;
          throw new CliError(
            `${opts.file}: ${details?.issueCount ?? issues.length} bad row(s)${hidden > 0 ? ` (first ${issues.length} shown)` : ''}; nothing was imported.`,
          );
        }
        if (err instanceof AppErrorException && err.code === 'NOT_FOUND') throw new CliError(err.message);
        throw err;
      }
    });

  data
    .command('list')
    .description('List stored series: venue, symbol, timeframe, first and last bar (UTC), bar count.')
    .action((_opts: unknown, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const series = withStore(dataDir, (store) => store.listSeries());
      if (json) {
        printJson({ series });
        return;
      }
      if (series.length === 0) {
        process.stdout.write(
          `No stored series in ${join(dataDir, 'market.db')}. Import one with: vantage data import --file F --venue V --symbol S\n`,
        );
        return;
      }
      const rows = series.map((s) => [
        s.venue,
        s.symbol,
        s.timeframe,
        formatTime(s.firstMs),
        formatTime(s.lastMs),
        String(s.barCount),
      ]);
      printTable(['venue', 'symbol', 'tf', 'first', 'last', 'bars'], rows);
    });

  data
    .command('gaps')
    .description(
      'Missing bars per stored series (runs of absent bar slots between the first and last bar). A series with no weekend bars (a stock exchange) has a weekdays calendar: weekends are not gaps and runs of 1-2 whole weekdays without bars are listed as closures (holidays). Filter with --venue/--symbol/--timeframe.',
    )
    .option('--venue <venue>', 'only this venue')
    .option('--symbol <symbol>', 'only this symbol')
    .option('--timeframe <tf>', 'only this timeframe')
    .option('--max <n>', 'gaps listed per series (all are counted)', '50')
    .action((opts: { venue?: string; symbol?: string; timeframe?: string; max: string }, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const timeframe = requireTimeframe(opts.timeframe);
      const max = Number(opts.max);
      if (!Number.isSafeInteger(max) || max < 0)
        throw new CliError(`--max must be a whole number (got ${opts.max})`, EXIT_USAGE);
      const results = withStore(dataDir, (store) =>
        store
          .listSeries()
          .filter(
            (s) =>
              (!opts.venue || s.venue === opts.venue) &&
              (!opts.symbol || s.symbol === opts.symbol) &&
              (!timeframe || s.timeframe === timeframe),
          )
          .map((s: SeriesInfo) => ({ ...s, ...store.gaps(s, { maxGaps: max }) })),
      );
      if (json) {
        printJson({ series: results });
        return;
      }
      if (results.length === 0) {
        process.stdout.write('No stored series match.\n');
        return;
      }
      for (const r of results) {
        const closures =
          r.calendar === 'weekdays'
            ? `; weekdays calendar, ${r.closureCount} closure(s) (holidays), ${r.closedBars} bar(s)`
            : '';
        process.stdout.write(
          `${r.venue} ${r.symbol} ${r.timeframe}: ${r.gapCount} gap(s), ${r.missingBars} missing bar(s) in ${r.barCount} bars${closures}\n`,
        );
        for (const g of r.gaps)
          process.stdout.write(
            `  ${formatTime(g.fromMs)} .. ${formatTime(g.toMs)}  ${g.missingBars} bar(s)\n`,
          );
        if (r.gapCount > r.gaps.length)
          process.stdout.write(`  ... ${r.gapCount - r.gaps.length} more (use --max)\n`);
      }
    });

  data
    .command('export')
    .description(
      'Export a stored series to CSV (timestamp in ms) or Freqtrade JSON; both import back unchanged.',
    )
    .requiredOption('--venue <venue>', 'venue id')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--timeframe <tf>', `timeframe: ${TIMEFRAMES.join(', ')}`)
    .requiredOption('--out <path>', 'output file')
    .option('--format <format>', `${IMPORT_FORMATS.join(' | ')} (default: from the extension)`)
    .option('--from <time>', 'first bar open time, inclusive (ISO UTC or epoch ms)')
    .option('--to <time>', 'end, exclusive (ISO UTC or epoch ms)')
    .action(
      (
        opts: {
          venue: string;
          symbol: string;
          timeframe: string;
          out: string;
          format?: string;
          from?: string;
          to?: string;
        },
        cmd: Command,
      ) => {
        const { dataDir, json } = globalOptions(cmd);
        const timeframe = requireTimeframe(opts.timeframe)!;
        const format =
          requireChoice<ImportFormat>(opts.format, IMPORT_FORMATS, '--format') ??
          (/\.json$/i.test(opts.out) ? 'json' : 'csv');
        const fromMs = parseTimeOption(opts.from, '--from');
        const toMs = parseTimeOption(opts.to, '--to');
        const key = { venue: opts.venue, symbol: opts.symbol, timeframe };
        const columns = withStore(dataDir, (store) => {
          if (!store.getSeries(key))
            throw new CliError(
              `No stored series ${opts.venue} ${opts.symbol} ${timeframe}; see vantage data list.`,
            );
          return store.query(key, {
            ...(fromMs !== undefined ? { fromMs } : {}),
            ...(toMs !== undefined ? { toMs } : {}),
          });
        });
        const out = resolve(opts.out);
        mkdirSync(dirname(out), { recursive: true });
        // Write then rename, so a failed export never leaves a half-written file under the name.
        const temp = `${out}.partial`;
        writeFileSync(temp, formatCandles(columns, format));
        renameSync(temp, out);
        const summary = {
          path: out,
          format,
          barCount: columns.time.length,
          firstMs: columns.time[0] ?? null,
          lastMs: columns.time[columns.time.length - 1] ?? null,
        };
        if (json) printJson(summary);
        else
          process.stdout.write(
            `Wrote ${summary.barCount} bars (${formatTime(summary.firstMs)} .. ${formatTime(summary.lastMs)}) to ${out} as ${format}.\n`,
          );
      },
    );

  registerDataFetch(data);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${line(header)}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}
