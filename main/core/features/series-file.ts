import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { appError } from '../../../shared/errors.ts';
import { isTimeframe, type SeriesKey } from '../../../shared/market.ts';
import { formatIssue, parseCandleText, parseTimestamp } from '../data/import.ts';
import { CandleStore } from '../data/candle-store.ts';
import { openDatabase } from '../store/sqlite.ts';
import { marketMigrations } from '../store/market-migrations.ts';
import type { CandleColumns } from './types.ts';

/**
 * Reads a candle series from a file for the features commands (check, export) and training.
 *
 * - Freqtrade JSON `[[timeMs, open, high, low, close, volume], ...]` and CSV files go through the
 *   candle importer's parser (main/core/data/import.ts), so a file that `vantage data import`
 *   accepts reads the same here, with the same file:line reports. The timeframe is inferred when
 *   the bars are regular; an irregular series (daily bars with weekends, samples) is still read.
 * - FreqUI pair-candles JSON `{ "columns": [...], "data": [[...], ...] }` (a bot's analysed candles,
 *   time in `date` or `__date_ts`) is read here: the importer does not know that layout.
 *
 * Rows must be finite and strictly increasing in time; the first problems are named in a
 * DATA_INVALID error.
 */

const TIME_NAMES = ['__date_ts', 'date', 'timestamp', 'time', 'datetime', 'open_time'];
const MAX_LISTED_ISSUES = 5;

export function loadSeriesFile(path: string): CandleColumns {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw appError('NOT_FOUND', `Cannot read series file ${path}: ${(error as Error).message}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return toColumns(rowsFromFrequi(text, path), path);
  const isJson = extname(path).toLowerCase() === '.json' || trimmed.startsWith('[');
  const parsed = parseCandleText(text, { fileName: path, format: isJson ? 'json' : 'csv' });
  // The importer needs a timeframe to store bars; features do not, so an irregular series is fine.
  const issues = parsed.issues.filter((issue) => !issue.message.startsWith('cannot tell the timeframe'));
  if (issues.length > 0) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue).join('; ');
    const more = issues.length > MAX_LISTED_ISSUES ? ` (and ${issues.length - MAX_LISTED_ISSUES} more)` : '';
    throw appError('DATA_INVALID', `Cannot read ${path}: ${listed}${more}`, { issues: issues.length });
  }
  return parsed.columns;
}

function rowsFromFrequi(text: string, path: string): unknown[][] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw appError('DATA_INVALID', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (
    doc &&
    typeof doc === 'object' &&
    Array.isArray((doc as { columns?: unknown }).columns) &&
    Array.isArray((doc as { data?: unknown }).data)
  ) {
    const { columns, data } = doc as { columns: unknown[]; data: unknown[][] };
    const names = columns.map((c) => String(c).toLowerCase());
    const time = TIME_NAMES.map((n) => names.indexOf(n)).find((i) => i >= 0);
    const fields = ['open', 'high', 'low', 'close', 'volume'].map((f) => names.indexOf(f));
    const missing = ['open', 'high', 'low', 'close', 'volume'].filter((_, k) => fields[k]! < 0);
    if (time === undefined || missing.length > 0) {
      throw appError(
        'DATA_INVALID',
        `${path}: columns need a time (${TIME_NAMES.join('|')}) and open, high, low, close, volume${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}.`,
      );
    }
    const indexes = [time, ...fields];
    return data.map((row) => (Array.isArray(row) ? indexes.map((i) => row[i]) : []));
  }
  throw appError(
    'DATA_INVALID',
    `${path}: expected a Freqtrade candle array [[time, open, high, low, close, volume], ...], a CSV file or a FreqUI {columns, data} object.`,
  );
}

/** Epoch ms from a FreqUI time cell (number or text), read as the importer reads timestamps. */
function parseTimeMs(value: unknown): number {
  if (typeof value !== 'number' && typeof value !== 'string') return NaN;
  return parseTimestamp(String(value)) ?? NaN;
}

function toColumns(rows: unknown[][], path: string): CandleColumns {
  const n = rows.length;
  if (n === 0) throw appError('DATA_INVALID', `${path} holds no candles.`);
  const cols: CandleColumns = {
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  const names = ['open', 'high', 'low', 'close', 'volume'] as const;
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    const where = `row ${i + 1}`;
    const time = parseTimeMs(row[0]);
    if (!Number.isFinite(time))
      throw appError('DATA_INVALID', `${path}: ${where} has an unreadable time ${JSON.stringify(row[0])}.`, {
        row: i + 1,
      });
    if (i > 0 && time <= cols.time[i - 1]!) {
      throw appError(
        'DATA_INVALID',
        `${path}: ${where} time ${time} is not after the previous bar (${cols.time[i - 1]}); sort and de-duplicate the series.`,
        { row: i + 1 },
      );
    }
    cols.time[i] = time;
    for (let k = 0; k < 5; k++) {
      const raw = row[k + 1];
      const value =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value))
        throw appError(
          'DATA_INVALID',
          `${path}: ${where} has a missing or non-numeric ${names[k]} (${JSON.stringify(raw)}).`,
          { row: i + 1, field: names[k] },
        );
      cols[names[k]!][i] = value;
    }
  }
  return cols;
}

/**
 * `venue:symbol:timeframe` (e.g. `binance:BTC/USDT:1h`; the symbol may itself hold ':' as in
 * ccxt's `BTC/USDT:USDT`), or null when the text does not have that shape.
 */
export function parseStoredSeriesKey(text: string): SeriesKey | null {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return null;
  const timeframe = text.slice(last + 1);
  if (!isTimeframe(timeframe)) return null;
  return { venue: text.slice(0, first), symbol: text.slice(first + 1, last), timeframe };
}

/** All bars of a stored series from market.db (opened read-only; never migrated or changed here). */
export function loadStoredSeries(marketDbPath: string, key: SeriesKey): CandleColumns {
  const label = `${key.venue}:${key.symbol}:${key.timeframe}`;
  if (!existsSync(marketDbPath))
    throw appError(
      'NOT_FOUND',
      `No market data at ${marketDbPath}, so no stored series ${label}; import or fetch candles first (vantage data ...).`,
    );
  const market = openDatabase({
    name: 'market.db',
    path: marketDbPath,
    migrations: marketMigrations,
    durability: 'normal',
    isReadOnly: true,
  });
  try {
    const store = new CandleStore(market.db);
    const bars = store.query(key);
    if (bars.time.length === 0) {
      const known = store.listSeries().map((s) => `${s.venue}:${s.symbol}:${s.timeframe}`);
      throw appError(
        'NOT_FOUND',
        `No stored series ${label} in ${marketDbPath}${known.length > 0 ? `; stored: ${known.slice(0, 20).join(', ')}` : ' (it holds no series)'}.`,
      );
    }
    return bars;
  } finally {
    market.close();
  }
}
