import { useMemo, useState, type ReactNode } from 'react';

export interface Column<Row> {
  key: string;
  header: string;
  value(row: Row): number | string | null;
  render?(row: Row): ReactNode;
  isNumeric?: boolean;
  /** Extra class per cell (e.g. good/bad for a P&L). */
  cellClass?(row: Row): string;
  /** data-testid of this column's cells. */
  cellTestId?: string;
  /** Not sortable (e.g. a column of buttons). */
  isUnsortable?: boolean;
}

/** A table sortable by any column (click a header; click again to reverse). */
export function SortableTable<Row>(props: {
  rows: Row[];
  columns: Column<Row>[];
  rowKey(row: Row): string;
  onRowClick?(row: Row): void;
  selectedKey?: string | null;
  initialSort?: { key: string; isDescending: boolean };
  testId?: string;
  /** data-testid of each body row (default "table-row"). */
  rowTestId?: string;
  maxRows?: number;
}) {
  const [sort, setSort] = useState(props.initialSort ?? null);
  const sorted = useMemo(() => {
    if (!sort) return props.rows;
    const column = props.columns.find((c) => c.key === sort.key);
    if (!column) return props.rows;
    const dir = sort.isDescending ? -1 : 1;
    return props.rows.slice().sort((a, b) => {
      const va = column.value(a);
      const vb = column.value(b);
      if (va === vb) return 0;
      if (va === null) return 1;
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * dir;
    });
  }, [props.rows, props.columns, sort]);
  const shown = props.maxRows ? sorted.slice(0, props.maxRows) : sorted;
  return (
    <table className="grid" data-testid={props.testId}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th
              key={c.key}
              className={`${c.isUnsortable ? '' : 'sortable'} ${c.isNumeric ? 'num' : ''}`}
              data-testid={`sort-${c.key}`}
              onClick={
                c.isUnsortable
                  ? undefined
                  : () =>
                      setSort((s) => ({
                        key: c.key,
                        isDescending: s?.key === c.key ? !s.isDescending : true,
                      }))
              }
            >
              {c.header}
              {sort?.key === c.key ? (sort.isDescending ? ' ▼' : ' ▲') : ''}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {shown.map((row) => {
          const key = props.rowKey(row);
          return (
            <tr
              key={key}
              data-testid={props.rowTestId ?? 'table-row'}
              className={`${props.onRowClick ? 'clickable' : ''} ${props.selectedKey === key ? 'selected' : ''}`}
              onClick={props.onRowClick ? () => props.onRowClick!(row) : undefined}
            >
              {props.columns.map((c) => (
                <td
                  key={c.key}
                  className={`${c.isNumeric ? 'num' : ''} ${c.cellClass?.(row) ?? ''}`.trim()}
                  data-testid={c.cellTestId}
                >
                  {c.render ? c.render(row) : formatCell(c.value(row))}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function formatCell(v: number | string | null): string {
  if (v === null) return '–';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return Math.abs(v) >= 1000
      ? v.toLocaleString('en-US', { maximumFractionDigits: 2 })
      : Number(v.toPrecision(6)).toString();
  }
  return v;
}
