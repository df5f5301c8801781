import type { FeatureColumns } from './pipeline.ts';
import type { CandleColumns } from './types.ts';

/**
 * Feature tables for quants' own tools: `time` (bar open, ms since epoch UTC) first, then every
 * column in spec order, one row per bar, aligned with the input series. Warm-up values are empty
 * (CSV) or null (JSON). Numbers are written in the shortest form that reads back to the same double.
 */

export type ExportFormat = 'csv' | 'json';

function csvName(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

export function formatFeatureCsv(bars: CandleColumns, features: FeatureColumns): string {
  const lines: string[] = [['time', ...features.names].map(csvName).join(',')];
  const n = bars.time.length;
  const cells = new Array<string>(features.columns.length + 1);
  for (let i = 0; i < n; i++) {
    cells[0] = String(bars.time[i]);
    for (let c = 0; c < features.columns.length; c++) {
      const x = features.columns[c]![i]!;
      cells[c + 1] = Number.isFinite(x) ? String(x) : '';
    }
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** JSON: `{ "columns": ["time", ...], "rows": <n>, "data": { "time": [...], "<column>": [...] } }`. */
export function formatFeatureJson(bars: CandleColumns, features: FeatureColumns): string {
  const toJson = (column: Float64Array): string =>
    `[${Array.from(column, (x) => (Number.isFinite(x) ? JSON.stringify(x) : 'null')).join(',')}]`;
  const entries = [
    `${JSON.stringify('time')}:${toJson(bars.time)}`,
    ...features.names.map((name, c) => `${JSON.stringify(name)}:${toJson(features.columns[c]!)}`),
  ];
  return `{"columns":${JSON.stringify(['time', ...features.names])},"rows":${bars.time.length},"data":{${entries.join(',\n')}}}\n`;
}

export function formatFeatureTable(
  bars: CandleColumns,
  features: FeatureColumns,
  format: ExportFormat,
): string {
  return format === 'csv' ? formatFeatureCsv(bars, features) : formatFeatureJson(bars, features);
}
