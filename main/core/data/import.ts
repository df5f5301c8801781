import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { appError, AppErrorException } from '../../../shared/errors.ts';
import {
  TIMEFRAMES,
  TIMEFRAME_MS,
  emptyCandleColumns,
  sliceCandleColumns,
  type CandleColumns,
  type SeriesKey,
  type Timeframe,
} from '../../../shared/market.ts';
import type { CandleStore, UpsertResult } from './candle-store.ts';

/**
 * Candle file import: CSV with a header (column names mapped, see HEADER_ALIASES) and Freqtrade
 * JSON ([[ms, open, high, low, close, volume], ...]). Every row is validated and every bad row is
 * reported as `file:line: reason`; a file with any bad row imports nothing.
 */
export const IMPORT_FORMATS = ['csv', 'json'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const TIMESTAMP_UNITS = ['auto', 's', 'ms', 'us', 'ns'] as const;
export type TimestampUnit = (typeof TIMESTAMP_UNITS)[number];

/** Whether a file's timestamps label a bar's open (most venues) or its close. */
export const TIME_LABELS = ['open', 'close'] as const;
export type TimeLabel = (typeof TIME_LABELS)[number];

export interface ImportIssue {
  file: string;
  line: number;
  message: string;
}

export function formatIssue(issue: ImportIssue): string {
  return `${issue.file}:${issue.line}: ${issue.message}`;
}

export interface ParseOptions {
  /** Shown in issues (a path or a name). */
  fileName: string;
  format: ImportFormat;
  /** Required unless it can be inferred from the spacing of the bars. */
  timeframe?: Timeframe;
  timestampUnit?: TimestampUnit;
  timeLabel?: TimeLabel;
}

export interface ParsedCandles {
  fileName: string;
  /** The layout recognised, e.g. 'csv: timestamp,open,high,low,close,volume'. */
  layout: string;
  timeframe: Timeframe | null;
  rowCount: number;
  columns: CandleColumns;
  issues: ImportIssue[];
}

type Field = 'time' | 'date' | 'clock' | 'open' | 'high' | 'low' | 'close' | 'volume';

/** Header names (lower case, spaces/underscores/dashes removed) for each field. */
const HEADER_ALIASES: Record<Field, readonly string[]> = {
  time: ['timestamp', 'datetime', 'opentime', 'ts', 'unix', 'timestampms', 'start'],
  date: ['date', 'day'],
  clock: ['time'],
  open: ['open', 'o', 'openprice'],
  high: ['high', 'h', 'highprice'],
  low: ['low', 'l', 'lowprice'],
  close: ['close', 'c', 'closeprice', 'last'],
  volume: ['volume', 'vol', 'v', 'basevolume'],
};

function normaliseHeader(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_\-.]/g, '');
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;
const COMPACT_DATE = /^(\d{4})(\d{2})(\d{2})$/;

/**
 * Parses a timestamp cell to epoch ms. Text dates without a zone are UTC (never local time: the
 * same file must import the same bars on every machine). Numbers are scaled by `unit`; 'auto'
 * picks the unit by magnitude (seconds < 1e11 <= ms < 1e14 <= µs < 1e17 <= ns).
 */
export function parseTimestamp(text: string, unit: TimestampUnit = 'auto'): number | null {
  const value = text.trim();
  if (value === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(value) && !COMPACT_DATE.test(value)) {
    return numericTimestamp(Number(value), unit);
  }
  const compact = COMPACT_DATE.exec(value);
  if (compact) return utc(+compact[1]!, +compact[2]!, +compact[3]!, 0, 0, 0, 0);
  const m = ISO_PATTERN.exec(value);
  if (!m) return null;
  const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const ms = utc(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), fraction);
  if (ms === null) return null;
  const zone = m[8];
  if (!zone || zone === 'Z') return ms;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return ms - sign * offsetMin * 60_000;
}

/** Epoch number to ms by unit; 'auto' picks it by magnitude (see parseTimestamp). */
function numericTimestamp(n: number, unit: TimestampUnit): number | null {
  if (!Number.isFinite(n)) return null;
  let scale: number;
  if (unit === 'auto') {
    const abs = Math.abs(n);
    scale = abs < 1e11 ? 1000 : abs < 1e14 ? 1 : abs < 1e17 ? 1e-3 : 1e-6;
  } else scale = unit === 's' ? 1000 : unit === 'ms' ? 1 : unit === 'us' ? 1e-3 : 1e-6;
  return Math.round(n * scale);
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  // Day 0 of the next month is the last day of this one: rejects 2021-02-30 instead of rolling over.
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > daysInMonth) return null;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

function parseNumber(text: string): number | null {
  const value = text.trim();
  if (value === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Accumulates validated rows; records an issue for every bad one. */
class RowSink {
  readonly issues: ImportIssue[] = [];
  private columns: CandleColumns;
  private count = 0;
  private previousTime: number | null = null;
  private readonly fileName: string;
  private readonly shiftMs: number;
  timeframe: Timeframe | null;

  constructor(fileName: string, capacity: number, timeframe: Timeframe | null, timeLabel: TimeLabel) {
    this.fileName = fileName;
    this.columns = emptyCandleColumns(Math.max(1, capacity));
    this.timeframe = timeframe;
    this.shiftMs = timeLabel === 'close' && timeframe ? TIMEFRAME_MS[timeframe] : 0;
  }

  issue(line: number, message: string): void {
    this.issues.push({ file: this.fileName, line, message });
  }

  /**
   * Values may be null (unparseable); each problem of the row is reported in one message.
   * textOf(i) gives the cell text of open..volume (i = 0..4) for messages; called only on failure.
   */
  add(
    line: number,
    time: number | null,
    timeText: string,
    o: number | null,
    h: number | null,
    l: number | null,
    c: number | null,
    v: number | null,
    textOf: (i: number) => string,
  ): void {
    let openMs: number | null = null;
    let isTimeOk = false;
    if (time !== null) {
      openMs = time - this.shiftMs;
      isTimeOk =
        (!this.timeframe || openMs % TIMEFRAME_MS[this.timeframe] === 0) &&
        (this.previousTime === null || openMs > this.previousTime);
    }
    // Fast path: a good row allocates nothing.
    if (
      isTimeOk &&
      o !== null &&
      h !== null &&
      l !== null &&
      c !== null &&
      v !== null &&
      h >= (o > c ? o : c) &&
      l <= (o < c ? o : c) &&
      v >= 0
    ) {
      this.previousTime = openMs;
      if (this.count === this.columns.time.length) this.grow();
      const k = this.count++;
      this.columns.time[k] = openMs!;
      this.columns.open[k] = o;
      this.columns.high[k] = h;
      this.columns.low[k] = l;
      this.columns.close[k] = c;
      this.columns.volume[k] = v;
      return;
    }
    const problems: string[] = [];
    if (time === null) problems.push(`unreadable timestamp ${JSON.stringify(timeText)}`);
    const names = ['open', 'high', 'low', 'close', 'volume'] as const;
    [o, h, l, c, v].forEach((value, i) => {
      if (value === null) problems.push(`${names[i]} ${JSON.stringify(textOf(i))} is not a finite number`);
    });
    if (o !== null && h !== null && l !== null && c !== null) {
      if (h < Math.max(o, c)) problems.push(`high ${h} is below max(open ${o}, close ${c})`);
      if (l > Math.min(o, c)) problems.push(`low ${l} is above min(open ${o}, close ${c})`);
    }
    if (v !== null && v < 0) problems.push(`volume ${v} is negative`);
    if (openMs !== null) {
      if (this.timeframe && openMs % TIMEFRAME_MS[this.timeframe] !== 0) {
        problems.push(`time ${isoUtc(openMs)} is not on a ${this.timeframe} bar boundary`);
      }
      if (this.previousTime !== null && openMs <= this.previousTime) {
        problems.push(
          `time ${isoUtc(openMs)} is not after the previous row's ${isoUtc(this.previousTime)} (times must strictly increase)`,
        );
      }
      this.previousTime = openMs;
    }
    this.issue(line, problems.join('; '));
  }

  private grow(): void {
    const bigger = emptyCandleColumns(this.columns.time.length * 2);
    for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const)
      bigger[f].set(this.columns[f]);
    this.columns = bigger;
  }

  result(): CandleColumns {
    return sliceCandleColumns(this.columns, 0, this.count);
  }
}

/** 2021-01-01T00:00:00Z style text for messages. */
export function isoUtc(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(ms);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The timeframe whose length is the most common spacing between the first bars, if any. */
export function inferTimeframe(times: Float64Array): Timeframe | null {
  const counts = new Map<number, number>();
  const n = Math.min(times.length, 2000);
  for (let i = 1; i < n; i++) {
    const d = times[i]! - times[i - 1]!;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best: Timeframe | null = null;
  let bestCount = 0;
  for (const tf of TIMEFRAMES) {
    const count = counts.get(TIMEFRAME_MS[tf]) ?? 0;
    if (count > bestCount) {
      best = tf;
      bestCount = count;
    }
  }
  return best;
}

export function parseCandleText(text: string, options: ParseOptions): ParsedCandles {
  const result = options.format === 'csv' ? parseCsvCandles(text, options) : parseJsonCandles(text, options);
  if (result.issues.length === 0 && result.rowCount === 0) {
    result.issues.push({ file: options.fileName, line: 1, message: 'the file holds no bars' });
  }
  if (!result.timeframe && result.issues.length === 0) {
    result.timeframe = inferTimeframe(result.columns.time);
    if (!result.timeframe) {
      result.issues.push({
        file: options.fileName,
        line: 1,
        message: `cannot tell the timeframe from the bar spacing; pass one of ${TIMEFRAMES.join(', ')}`,
      });
    } else {
      // Re-parse with the inferred timeframe so alignment (and a close-time label) is checked too.
      return parseCandleText(text, { ...options, timeframe: result.timeframe });
    }
  }
  return result;
}

function parseCsvCandles(text: string, options: ParseOptions): ParsedCandles {
  const file = options.fileName;
  let records: CsvRecord[];
  try {
    records = parseCsv(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
      trim: true,
    }) as unknown as CsvRecord[];
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 1;
    return failed(
      file,
      'csv',
      line,
      `not readable as CSV: ${err instanceof Error ? err.message : String(err)}`,
      options.timeframe,
    );
  }
  const header = records[0];
  if (!header) return failed(file, 'csv', 1, 'the file is empty', options.timeframe);
  const names = header.record.map(normaliseHeader);
  const index = (field: Field): number => {
    for (const alias of HEADER_ALIASES[field]) {
      const i = names.indexOf(alias);
      if (i >= 0) return i;
    }
    return -1;
  };
  let timeIndex = index('time');
  const dateIndex = index('date');
  let clockIndex = index('clock');
  if (timeIndex < 0 && dateIndex < 0 && clockIndex >= 0) {
    timeIndex = clockIndex;
    clockIndex = -1;
  }
  const fields = {
    open: index('open'),
    high: index('high'),
    low: index('low'),
    close: index('close'),
    volume: index('volume'),
  };
  const missing = Object.entries(fields)
    .filter(([, i]) => i < 0)
    .map(([name]) => name);
  if (timeIndex < 0 && dateIndex < 0) missing.unshift('timestamp (or date)');
  if (missing.length > 0) {
    return failed(
      file,
      'csv',
      header.info.lines,
      `the header ${JSON.stringify(header.record.join(','))} has no column for ${missing.join(', ')}; expected e.g. timestamp,open,high,low,close,volume or Date,Open,High,Low,Close,Volume`,
      options.timeframe,
    );
  }
  const useDateAndClock = timeIndex < 0 && clockIndex >= 0;
  const stampIndex = timeIndex >= 0 ? timeIndex : dateIndex;
  const layout = `csv: ${header.record.join(',')}`;
  const sink = new RowSink(file, records.length - 1, options.timeframe ?? null, options.timeLabel ?? 'open');
  const unit = options.timestampUnit ?? 'auto';
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r]!;
    if (record.length !== header.record.length) {
      sink.issue(info.lines, `${record.length} columns, the header has ${header.record.length}`);
      continue;
    }
    const stampText = useDateAndClock ? `${record[dateIndex]} ${record[clockIndex]}` : record[stampIndex]!;
    const columnOf = [fields.open, fields.high, fields.low, fields.close, fields.volume];
    sink.add(
      info.lines,
      parseTimestamp(stampText, unit),
      stampText,
      parseNumber(record[fields.open]!),
      parseNumber(record[fields.high]!),
      parseNumber(record[fields.low]!),
      parseNumber(record[fields.close]!),
      parseNumber(record[fields.volume]!),
      (i) => record[columnOf[i]!] ?? '',
    );
  }
  return {
    fileName: file,
    layout,
    timeframe: sink.timeframe,
    rowCount: records.length - 1,
    columns: sink.result(),
    issues: sink.issues,
  };
}

function failed(
  file: string,
  layout: string,
  line: number,
  message: string,
  timeframe: Timeframe | undefined,
): ParsedCandles {
  return {
    fileName: file,
    layout,
    timeframe: timeframe ?? null,
    rowCount: 0,
    columns: emptyCandleColumns(0),
    issues: [{ file, line, message }],
  };
}

/** Line number (1-based) of the start of each top-level array element, for issue reports. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let isInString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    if (isInString) {
      if (ch === 92) i++;
      else if (ch === 34) isInString = false;
      continue;
    }
    if (ch === 34) isInString = true;
    else if (ch === 91 || ch === 123) {
      depth++;
      if (depth === 2) lines.push(line);
    } else if (ch === 93 || ch === 125) depth--;
    else if (depth === 1 && ch > 32 && ch !== 44) lines.push(line); // a scalar element
  }
  return lines;
}

function parseJsonCandles(text: string, options: ParseOptions): ParsedCandles {
  const file = options.fileName;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return failed(
      file,
      'json',
      1,
      `not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      options.timeframe,
    );
  }
  if (!Array.isArray(data))
    return failed(
      file,
      'json',
      1,
      'expected a JSON array of [time, open, high, low, close, volume] rows (Freqtrade layout)',
      options.timeframe,
    );
  let lines: number[] | null = null;
  const lineOf = (i: number): number => (lines ??= elementLines(text))[i] ?? 1;
  const sink = new RowSink(file, data.length, options.timeframe ?? null, options.timeLabel ?? 'open');
  const unit = options.timestampUnit ?? 'auto';
  const asNumber = (v: unknown): number | null =>
    typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' ? parseNumber(v) : null;
  for (let i = 0; i < data.length; i++) {
    const row: unknown = data[i];
    if (!Array.isArray(row) || row.length < 6) {
      sink.issue(
        lineOf(i),
        `row ${i + 1}: expected [time, open, high, low, close, volume], got ${JSON.stringify(row)?.slice(0, 80)}`,
      );
      continue;
    }
    const stamp: unknown = row[0];
    const time =
      typeof stamp === 'number'
        ? numericTimestamp(stamp, unit)
        : typeof stamp === 'string'
          ? parseTimestamp(stamp, unit)
          : null;
    const before = sink.issues.length;
    sink.add(
      lineOf(i),
      time,
      JSON.stringify(stamp) ?? '',
      asNumber(row[1]),
      asNumber(row[2]),
      asNumber(row[3]),
      asNumber(row[4]),
      asNumber(row[5]),
      (k) => JSON.stringify(row[k + 1]) ?? '',
    );
    if (sink.issues.length > before)
      sink.issues[before]!.message = `row ${i + 1}: ${sink.issues[before]!.message}`;
  }
  return {
    fileName: file,
    layout: 'json: freqtrade [[time, open, high, low, close, volume], ...]',
    timeframe: sink.timeframe,
    rowCount: data.length,
    columns: sink.result(),
    issues: sink.issues,
  };
}

/** Guesses the format from the file name (.json -> json, anything else csv). */
export function formatFromName(name: string): ImportFormat {
  return /\.json$/i.test(name) ? 'json' : 'csv';
}

export interface ImportRequest {
  venue: string;
  symbol: string;
  timeframe?: Timeframe;
  format?: ImportFormat;
  timestampUnit?: TimestampUnit;
  timeLabel?: TimeLabel;
  /** Either a path to read, or content with a name for reports. */
  path?: string;
  content?: string;
  fileName?: string;
}

export interface ImportReport extends UpsertResult {
  file: string;
  layout: string;
  venue: string;
  symbol: string;
  timeframe: Timeframe;
  barCount: number;
  firstMs: number;
  lastMs: number;
}

/** Issues beyond this many stay counted but are not carried in the error details. */
export const MAX_REPORTED_ISSUES = 1000;

/**
 * Parses, validates and stores one file, all or nothing: any bad row raises DATA_INVALID (details:
 * issues, issueCount) before anything is written; the write itself is one transaction. Importing
 * the same file again stores nothing new (inserted 0, updated 0).
 */
export function importCandles(store: CandleStore, request: ImportRequest): ImportReport {
  let text: string;
  let fileName: string;
  if (request.path !== undefined) {
    fileName = request.fileName ?? request.path;
    try {
      text = readFileSync(request.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw appError(
        'NOT_FOUND',
        `Cannot read ${request.path}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}.`,
        { path: request.path },
      );
    }
  } else if (request.content !== undefined) {
    fileName = request.fileName ?? 'upload';
    text = request.content;
  } else {
    throw appError('BAD_INPUT', 'An import needs a file path or file content.');
  }
  const format = request.format ?? formatFromName(fileName);
  const parsed = parseCandleText(text, {
    fileName,
    format,
    ...(request.timeframe ? { timeframe: request.timeframe } : {}),
    ...(request.timestampUnit ? { timestampUnit: request.timestampUnit } : {}),
    ...(request.timeLabel ? { timeLabel: request.timeLabel } : {}),
  });
  if (parsed.issues.length > 0 || !parsed.timeframe) {
    throw new AppErrorException(
      'DATA_INVALID',
      `${basename(fileName)}: ${parsed.issues.length} bad row${parsed.issues.length === 1 ? '' : 's'} (first: ${parsed.issues[0] ? formatIssue(parsed.issues[0]) : 'unknown'}). Nothing was imported; fix the rows and import again.`,
      { issues: parsed.issues.slice(0, MAX_REPORTED_ISSUES), issueCount: parsed.issues.length },
    );
  }
  const key: SeriesKey = { venue: request.venue, symbol: request.symbol, timeframe: parsed.timeframe };
  const result = store.upsert(key, parsed.columns);
  return {
    ...result,
    file: fileName,
    layout: parsed.layout,
    ...key,
    barCount: parsed.columns.time.length,
    firstMs: parsed.columns.time[0]!,
    lastMs: parsed.columns.time[parsed.columns.time.length - 1]!,
  };
}
