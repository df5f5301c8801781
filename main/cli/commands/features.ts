import type { Command } from 'commander';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { CliError, EXIT_USAGE, globalOptions, printJson, resolveDataDir } from '../context.ts';
import { listIndicators, type ParamSpec } from '../../core/features/catalog.ts';
import { parseFeatureSpec } from '../../core/features/pipeline.ts';
import { computeFeatureColumnsParallel } from '../../core/features/parallel.ts';
import { checkSpecLookAhead, defaultCuts } from '../../core/features/look-ahead.ts';
import { formatFeatureTable, type ExportFormat } from '../../core/features/export.ts';
import { loadSeriesFile, loadStoredSeries, parseStoredSeriesKey } from '../../core/features/series-file.ts';
import type { CandleColumns } from '../../core/features/types.ts';
import type { FeatureSpec } from '../../../shared/feature-spec.ts';

/**
 * `vantage features list | check | export`: the feature pipeline for users' own specs and data.
 * A spec file is either a bare feature spec ({ features, layout?, normalisation? }) or a model card
 * holding one under `featureSpec`.
 */

export function readSpecFile(path: string): FeatureSpec {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`Cannot read feature spec ${path}: ${(error as Error).message}`);
  }
  const spec =
    doc && typeof doc === 'object' && 'featureSpec' in doc
      ? (doc as { featureSpec: unknown }).featureSpec
      : doc;
  return parseFeatureSpec(spec);
}

/**
 * A series file, or a stored series `venue:symbol:timeframe` (e.g. binance:BTC/USDT:1h) read from
 * market.db in the data folder (default: --data-dir / VANTAGE_DATA_DIR / the OS user data folder).
 * A path that exists always wins over the stored-series reading.
 */
export function readSeries(arg: string, dataDir: string = resolveDataDir(undefined)): CandleColumns {
  if (existsSync(arg)) return loadSeriesFile(arg);
  const key = parseStoredSeriesKey(arg);
  if (key) return loadStoredSeries(join(dataDir, 'market.db'), key);
  throw new CliError(
    `No such series file: ${arg} (a stored series is written venue:symbol:timeframe, e.g. binance:BTC/USDT:1h)`,
  );
}

function describeParam(p: ParamSpec): string {
  if (p.kind === 'enum') return `${p.name}=${p.default} (${p.values.join('|')})`;
  if (p.kind === 'boolean') return `${p.name}=${p.default}`;
  return `${p.name}=${p.default} (${p.kind} ${p.min}..${p.max})`;
}

function parseFormat(value: string): ExportFormat {
  if (value !== 'csv' && value !== 'json')
    throw new CliError(`--format must be csv or json, not '${value}'.`, EXIT_USAGE);
  return value;
}

function parseCuts(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2 || n > 1000)
    throw new CliError(`--cuts must be an integer 2..1000, not '${value}'.`, EXIT_USAGE);
  return n;
}

/** Writes next to the target then renames, so a failed export never leaves a half-written file. */
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

export function register(program: Command): void {
  const features = program
    .command('features')
    .description(
      'Indicators and feature specs: list indicators, check a spec for look-ahead, export feature columns.',
    );

  features
    .command('list')
    .description(
      'List every indicator with its parameters (defaults and ranges), outputs and conventions (TA-Lib/pandas).',
    )
    .action((_opts: unknown, cmd: Command) => {
      const { json } = globalOptions(cmd);
      const indicators = listIndicators();
      if (json) {
        printJson(indicators);
        return;
      }
      const lines: string[] = [];
      for (const info of indicators) {
        lines.push(`${info.id.padEnd(14)} ${info.title}`);
        lines.push(
          `  params:  ${info.params.length > 0 ? info.params.map(describeParam).join(', ') : '(none)'}`,
        );
        lines.push(
          `  outputs: ${info.outputs.join(', ')}${info.outputs.length > 1 ? `  (columns <name>.${info.outputs[0]} ... unless the spec picks one with "output")` : ''}`,
        );
        lines.push(`  ${info.convention}`);
        lines.push('');
      }
      process.stdout.write(lines.join('\n'));
    });

  features
    .command('check')
    .description(
      'Check a feature spec for look-ahead on a series: changes the bars after each of several cut points and names every feature whose earlier values change. Exit 1 if any does.',
    )
    .requiredOption('--spec <file>', 'feature spec JSON (or a model card with featureSpec)')
    .requiredOption(
      '--data <series>',
      'series file (Freqtrade JSON, FreqUI JSON or CSV timestamp,open,high,low,close,volume) or stored series venue:symbol:timeframe in the data folder',
    )
    .option('--cuts <n>', 'number of cut points spread over the series', '12')
    .action((opts: { spec: string; data: string; cuts: string }, cmd: Command) => {
      const { json, dataDir } = globalOptions(cmd);
      const cutCount = parseCuts(opts.cuts);
      const spec = readSpecFile(opts.spec);
      const bars = readSeries(opts.data, dataDir);
      if (bars.close.length < 2)
        throw new CliError(`The series has ${bars.close.length} bar(s); the check needs at least 2.`);
      const report = checkSpecLookAhead(bars, spec, defaultCuts(bars.close.length, cutCount));
      if (json) {
        printJson({
          ok: report.leakingColumns.length === 0,
          bars: report.bars,
          cuts: report.cuts,
          columns: report.columns,
          leakingColumns: report.leakingColumns,
          violations: report.violations,
        });
      } else if (report.leakingColumns.length === 0) {
        process.stdout.write(
          `No look-ahead: ${report.columns.length} column(s) unchanged at bars 0..t when bars after t were removed or changed (${report.cuts.length} cut points over ${report.bars} bars).\n`,
        );
      } else {
        const lines = [
          `Look-ahead found in ${report.leakingColumns.length} of ${report.columns.length} column(s):`,
        ];
        for (const name of report.leakingColumns) {
          const v = report.violations.find((x) => x.column === name)!;
          lines.push(
            `  ${name}: value at bar ${v.bar} changed from ${v.before} to ${v.after} when the bars after ${v.cut} were ${v.change}`,
          );
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (report.leakingColumns.length > 0) process.exitCode = 1;
    });

  features
    .command('export')
    .description(
      'Compute every feature of a spec over a series and write it as full columns aligned with the bars (time first; warm-up empty/null; multi-output as <name>.<output>).',
    )
    .requiredOption(
      '--data <series>',
      'series file (Freqtrade JSON, FreqUI JSON or CSV timestamp,open,high,low,close,volume) or stored series venue:symbol:timeframe in the data folder',
    )
    .requiredOption('--spec <file>', 'feature spec JSON (or a model card with featureSpec)')
    .requiredOption('--out <file>', 'output file')
    .option('--format <format>', 'csv or json (default: from the --out extension, else csv)')
    .action(async (opts: { data: string; spec: string; out: string; format?: string }, cmd: Command) => {
      const { json, dataDir } = globalOptions(cmd);
      const format = parseFormat(opts.format ?? (opts.out.toLowerCase().endsWith('.json') ? 'json' : 'csv'));
      const spec = readSpecFile(opts.spec);
      const bars = readSeries(opts.data, dataDir);
      const columns = await computeFeatureColumnsParallel(bars, spec);
      writeAtomically(opts.out, formatFeatureTable(bars, columns, format));
      const summary = { out: opts.out, format, rows: bars.close.length, columns: ['time', ...columns.names] };
      if (json) printJson(summary);
      else
        process.stdout.write(
          `Wrote ${summary.rows} rows x ${summary.columns.length} columns (${summary.columns.join(', ')}) to ${opts.out}\n`,
        );
    });
}
