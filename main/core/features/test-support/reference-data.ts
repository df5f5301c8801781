import { readFileSync } from 'node:fs';
import type { CandleColumns } from '../types.ts';

/** Test helpers: reading the reference files under ../shared/data (paths come from testDataPath). */

export function columnsFromRows(rows: readonly (readonly number[])[]): CandleColumns {
  const n = rows.length;
  const cols: CandleColumns = {
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  rows.forEach((r, i) => {
    cols.time[i] = r[0]!;
    cols.open[i] = r[1]!;
    cols.high[i] = r[2]!;
    cols.low[i] = r[3]!;
    cols.close[i] = r[4]!;
    cols.volume[i] = r[5]!;
  });
  return cols;
}

/** A plain CSV with a header line; returns the header and the rows as strings. */
export function readCsv(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  return {
    header: lines[0]!.split(',').map((h) => h.trim()),
    rows: lines.slice(1).map((l) => l.split(',').map((c) => c.trim())),
  };
}

/** Columns of a ta (bukosabino) fixture: High/Low/Close/Volume where present (missing = copy of close / 1). */
export function readTaFixture(path: string): CandleColumns {
  const { header, rows } = readCsv(path);
  const col = (name: string): number => header.indexOf(name);
  const h = col('High');
  const l = col('Low');
  const c = col('Close');
  const v = col('Volume');
  const parsed = rows.map((r, i) => {
    // Empty cells are missing values (NaN), not 0 (Number('') would say 0).
    const num = (idx: number, fallback: number): number =>
      idx < 0 ? fallback : r[idx] === '' || r[idx] === undefined ? NaN : Number(r[idx]);
    const close = num(c, NaN);
    return [i * 86_400_000, close, num(h, close), num(l, close), close, num(v, 1)];
  });
  return columnsFromRows(parsed);
}

export function readTalibRegtest(path: string): CandleColumns {
  const { rows } = readCsv(path);
  return columnsFromRows(
    rows.map((r) => [
      Number(r[0]) * 86_400_000,
      Number(r[1]),
      Number(r[2]),
      Number(r[3]),
      Number(r[4]),
      Number(r[5]),
    ]),
  );
}

export interface FrequiCandles {
  bars: CandleColumns;
  rsi: number[];
  ema20: number[];
  ema50: number[];
}

export function readFrequiCandles(path: string): FrequiCandles {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as {
    columns: string[];
    data: (number | string | null)[][];
  };
  const at = (name: string): number => doc.columns.indexOf(name);
  const [ts, o, h, l, c, v] = ['__date_ts', 'open', 'high', 'low', 'close', 'volume'].map(at) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const bars = columnsFromRows(doc.data.map((r) => [r[ts], r[o], r[h], r[l], r[c], r[v]] as number[]));
  return {
    bars,
    rsi: doc.data.map((r) => r[at('rsi')] as number),
    ema20: doc.data.map((r) => r[at('ema20')] as number),
    ema50: doc.data.map((r) => r[at('ema50')] as number),
  };
}
