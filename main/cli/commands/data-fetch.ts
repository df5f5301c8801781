import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { CliError, EXIT_USAGE, globalOptions, printJson } from '../context.ts';
import { createProgress, type Progress } from '../progress.ts';
import { SystemScheduler } from '../../runtime/system-clock.ts';
import { SeededRandom } from '../../core/random.ts';
import { openDatabase } from '../../core/store/sqlite.ts';
import { marketMigrations } from '../../core/store/market-migrations.ts';
import { CandleStore } from '../../core/data/candle-store.ts';
import { createVenueExchange, listVenueIds } from '../../core/data/ccxt/venues.ts';
import { fetchHistory, type HistoryFetchResult } from '../../core/data/ccxt/history-fetch.ts';
import { AppErrorException } from '../../../shared/errors.ts';
import { TIMEFRAMES, isTimeframe } from '../../../shared/market.ts';

interface FetchOptions {
  venue: string;
  symbol: string;
  timeframe: string;
  since: string;
  until?: string;
  retries: string;
}

/** `VANTAGE_VENUE_URL_<VENUE>` points a venue at a local test server or a self-hosted proxy. */
export function venueUrlOverride(venue: string): string | undefined {
  const value = process.env[`VANTAGE_VENUE_URL_${venue.toUpperCase()}`];
  return value === undefined || value === '' ? undefined : value;
}

/** ISO date/time (UTC when no zone is given) or epoch milliseconds. */
export function parseTime(value: string, option: string): number {
  const trimmed = value.trim();
  if (/^\d{10,}$/.test(trimmed)) return Number(trimmed);
  let ms = NaN;
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed))
    ms = Date.parse(trimmed); // date-only ISO is UTC
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(trimmed))
    ms = Date.parse(`${trimmed}Z`); // no zone: read as UTC
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(trimmed)) ms = Date.parse(trimmed);
  if (!Number.isFinite(ms))
    throw new CliError(
      `${option} "${value}" is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or epoch milliseconds.`,
      EXIT_USAGE,
    );
  return ms;
}

export function registerDataFetch(data: Command): void {
  data
    .command('fetch')
    .description(
      'Download closed candles from a venue (ccxt, paginated, rate limited) into market.db. Resumable: a second run continues after the last stored bar. ' +
        'VANTAGE_VENUE_URL_<VENUE> (e.g. VANTAGE_VENUE_URL_BINANCE=http://127.0.0.1:8080) sends every request of that venue to another origin (a test server or a self-hosted proxy).',
    )
    .requiredOption('--venue <id>', 'ccxt venue id, e.g. binance')
    .requiredOption('--symbol <symbol>', 'unified symbol, e.g. BTC/USDT')
    .requiredOption('--timeframe <tf>', `bar length: ${TIMEFRAMES.join(', ')}`)
    .requiredOption('--since <time>', 'first bar: YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or epoch ms')
    .option('--until <time>', 'stop before this time (default: now; the bar forming now is never stored)')
    .option(
      '--retries <n>',
      'attempts per request before giving up on an unreachable or rate-limiting venue',
      '5',
    )
    .action(async (opts: FetchOptions, cmd: Command) => {
      const { dataDir, json } = globalOptions(cmd);
      const venue = opts.venue.toLowerCase();
      if (!listVenueIds().includes(venue)) {
        throw new CliError(
          `Unknown venue "${opts.venue}". Use a ccxt exchange id such as binance, kraken, coinbase or bybit.`,
          EXIT_USAGE,
        );
      }
      if (!isTimeframe(opts.timeframe)) {
        throw new CliError(
          `Unknown timeframe "${opts.timeframe}". Use one of ${TIMEFRAMES.join(', ')}.`,
          EXIT_USAGE,
        );
      }
      const timeframe = opts.timeframe;
      const sinceMs = parseTime(opts.since, '--since');
      const untilMs = opts.until === undefined ? undefined : parseTime(opts.until, '--until');
      if (untilMs !== undefined && untilMs <= sinceMs)
        throw new CliError('--until must be after --since.', EXIT_USAGE);
      const retries = Number(opts.retries);
      if (!Number.isInteger(retries) || retries < 1 || retries > 20)
        throw new CliError('--retries must be a whole number from 1 to 20.', EXIT_USAGE);

      const baseUrl = venueUrlOverride(venue);
      const exchange = createVenueExchange(venue, baseUrl === undefined ? {} : { baseUrl });
      mkdirSync(dataDir, { recursive: true });
      const market = openDatabase({
        name: 'market.db',
        path: join(dataDir, 'market.db'),
        migrations: marketMigrations,
        durability: 'normal',
      });
      const abort = new AbortController();
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      const bar: { progress: Progress | null } = { progress: null };
      let storedSoFar = 0;
      try {
        const result = await fetchHistory(
          exchange,
          new CandleStore(market.db),
          { venue, symbol: opts.symbol, timeframe, sinceMs, ...(untilMs === undefined ? {} : { untilMs }) },
          {
            scheduler: new SystemScheduler(),
            random: new SeededRandom(randomInt(2 ** 31)),
            policy: {
              initialDelayMs: 500,
              maxDelayMs: 15_000,
              maxAttempts: retries,
              rateLimitedDelayMs: 5_000,
            },
            signal: abort.signal,
            onRetry: ({ attempt, kind, delayMs }) => {
              if (!json)
                process.stderr.write(
                  `${venue}: ${kind === 'rate-limited' ? 'rate limited' : 'request failed'} (attempt ${attempt}), retrying in ${(delayMs / 1000).toFixed(1)} s\n`,
                );
            },
            onProgress: (p) => {
              storedSoFar = p.fetchedBars;
              if (json) return;
              bar.progress ??= createProgress(
                `${venue} ${opts.symbol} ${timeframe}`,
                Math.max(1, p.expectedBars),
              );
              bar.progress.update(
                p.fetchedBars,
                undefined,
                p.lastBarMs === null ? '' : new Date(p.lastBarMs).toISOString().slice(0, 16),
              );
            },
          },
        );
        bar.progress?.stop();
        report(result, json);
      } catch (err) {
        bar.progress?.stop();
        if (err instanceof AppErrorException && err.code === 'CANCELLED') {
          throw new CliError(
            `Interrupted after ${storedSoFar} bars (all stored). Run the same command again to resume.`,
            130,
          );
        }
        if (err instanceof AppErrorException && storedSoFar > 0) {
          throw new AppErrorException(
            err.code,
            `${err.message} ${storedSoFar} bars were stored before the failure; run the same command again to resume.`,
            err.details,
          );
        }
        throw err;
      } finally {
        process.removeListener('SIGINT', onSigint);
        market.close();
        await exchange.close().catch(() => undefined);
      }
    });
}

function report(result: HistoryFetchResult, json: boolean): void {
  if (json) {
    printJson(result);
    return;
  }
  const iso = (ms: number | null): string =>
    ms === null ? '-' : new Date(ms).toISOString().replace(':00.000Z', 'Z');
  const series = `${result.venue} ${result.symbol} ${result.timeframe}`;
  if (result.ranges.length === 0) {
    process.stdout.write(
      `${series}: already up to date (${result.storedBars} bars stored, ${iso(result.firstMs)} .. ${iso(result.lastMs)}).\n`,
    );
    return;
  }
  const resumed = result.resumedAfterMs === null ? '' : ` (resumed after ${iso(result.resumedAfterMs)})`;
  process.stdout.write(
    `${series}: fetched ${result.fetchedBars} bars, ${result.insertedBars} new${resumed}. Stored: ${result.storedBars} bars, ${iso(result.firstMs)} .. ${iso(result.lastMs)}.\n`,
  );
}
