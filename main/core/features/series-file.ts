import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { appError } from '../../../shared/errors.ts';
import type { CandleColumns } from './types.ts';

/**
 * Reads a candle series from a file for the features commands (check, export).
 *
 * Formats:
 * - Freqtrade JSON: `[[timeMs, open, high, low, close, volume], ...]`
 * - FreqUI pair-candles JSON: `{ "columns": [...], "data": [[...], ...] }` with `date` or `__date_ts`
 * - CSV with a header naming `timestamp|time|date|datetime|open_time`, `open`, `high`, `low`, `close`,
 *   `volume` (any order, case-insensitive; extra columns ignored). Numeric times are read by size:
 *   >= 1e14 microseconds, >= 1e11 milliseconds, otherwise seconds. Text times are ISO-8601-like
 *   (`2021-12-31 23:01:00.000000`, `1995-01-03`) and read as UTC unless they carry an offset.
 *
 * Rows must be finite and strictly increasing in time; the first bad row is named in a DATA_INVALID error.
 */

const TIME_NAMES = ['timestamp', 'time', 'date', 'datetime', 'open_time', '__date_ts'];

export function loadSeriesFile(path: string): CandleColumns {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw appError('NOT_FOUND', `Cannot read series file ${path}: ${(error as Error).message}`);
  }
  const extension = extname(path).toLowerCase();
  const trimmed = text.trimStart();
  const rows = extension === '.json' || trimmed.startsWith('[') || trimmed.startsWith('{') ? rowsFromJson(text, path) : rowsFromCsv(text, path);
  return toColumns(rows, path);
}

function rowsFromJson(text: string, path: string): unknown[][] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw appError('DATA_INVALID', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(doc)) return doc.map((row, i) => (Array.isArray(row) ? row : badRow(path, i, 'is not an array [time, open, high, low, close, volume]')));
  if (doc && typeof doc === 'object' && Array.isArray((doc as { columns?: unknown }).columns) && Array.isArray((doc as { data?: unknown }).data)) {
    const { columns, data } = doc as { columns: unknown[]; data: unknown[][] };
    const names = columns.map((c) => String(c).toLowerCase());
    return pickColumns(names, data, path);
  }
  throw appError('DATA_INVALID', `${path}: expected a Freqtrade candle array [[time, open, high, low, close, volume], ...] or a {columns, data} object.`);
}

function rowsFromCsv(text: string, path: string): unknown[][] {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (error) {
    throw appError('DATA_INVALID', `${path} is not valid CSV: ${(error as Error).message}`);
  }
  if (records.length === 0) throw appError('DATA_INVALID', `${path} is empty.`);
  const header = records[0]!.map((h) => h.toLowerCase());
  return pickColumns(header, records.slice(1), path, 2);
}

function pickColumns(names: string[], data: unknown[][], path: string, firstLine = 0): unknown[][] {
  const time = TIME_NAMES.map((n) => names.indexOf(n)).find((i) => i >= 0);
  const fields = ['open', 'high', 'low', 'close', 'volume'].map((f) => names.indexOf(f));
  const missing = ['open', 'high', 'low', 'close', 'volume'].filter((_, k) => fields[k]! < 0);
  if (time === undefined || missing.length > 0) {
    throw appError('DATA_INVALID', `${path}: header needs a time column (${TIME_NAMES.join('|')}) and open, high, low, close, volume${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}.`, {
      header: names,
    });
  }
  const indexes = [time, ...fields];
  return data.map((row) => indexes.map((i) => row[i])).map((row, i) => (firstLine > 0 ? Object.assign(row, { line: firstLine + i }) : row));
}

function badRow(path: string, i: number, why: string): never {
  throw appError('DATA_INVALID', `${path}: row ${i + 1} ${why}.`, { row: i + 1 });
}

/** Milliseconds since the epoch from a number (µs/ms/s by size) or an ISO-like UTC text. */
export function parseTimeMs(value: unknown): number {
  if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()))) {
    const n = Number(value);
    if (!Number.isFinite(n)) return NaN;
    const magnitude = Math.abs(n);
    if (magnitude >= 1e14) return Math.round(n / 1000);
    if (magnitude >= 1e11) return n;
    return n * 1000;
  }
  if (typeof value !== 'string') return NaN;
  const text = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return NaN;
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) + Math.round(fraction);
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
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
    const where = (row as { line?: number }).line !== undefined ? `line ${(row as { line?: number }).line}` : `row ${i + 1}`;
    const time = parseTimeMs(row[0]);
    if (!Number.isFinite(time)) throw appError('DATA_INVALID', `${path}: ${where} has an unreadable time ${JSON.stringify(row[0])}.`, { row: i + 1 });
    if (i > 0 && time <= cols.time[i - 1]!) {
      throw appError('DATA_INVALID', `${path}: ${where} time ${time} is not after the previous bar (${cols.time[i - 1]}); sort and de-duplicate the series.`, { row: i + 1 });
    }
    cols.time[i] = time;
    for (let k = 0; k < 5; k++) {
      const raw = row[k + 1];
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value)) throw appError('DATA_INVALID', `${path}: ${where} has a missing or non-numeric ${names[k]} (${JSON.stringify(raw)}).`, { row: i + 1, field: names[k] });
      cols[names[k]!][i] = value;
    }
  }
  return cols;
}
