/** Small SVG charts (no external library): line/area series, waterfall, heatmap. */

export interface LineSeriesData {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

export function LineChart(props: {
  series: LineSeriesData[];
  height?: number;
  width?: number;
  formatY?(v: number): string;
  testId?: string;
  isArea?: boolean;
}) {
  const width = props.width ?? 600;
  const height = props.height ?? 180;
  const pad = { l: 56, r: 8, t: 8, b: 18 };
  const xs = props.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = props.series.flatMap((s) => s.points.map((p) => p.y));
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y: number) => pad.t + (1 - (y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const fmt = props.formatY ?? ((v: number) => v.toFixed(2));
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      className="svg-chart"
      data-testid={props.testId}
      preserveAspectRatio="none"
    >
      {[0, 0.5, 1].map((f) => {
        const v = y0 + f * (y1 - y0);
        return (
          <g key={f}>
            <line x1={pad.l} x2={width - pad.r} y1={sy(v)} y2={sy(v)} className="gridline" />
            <text x={pad.l - 4} y={sy(v) + 4} textAnchor="end" className="axis-label">
              {fmt(v)}
            </text>
          </g>
        );
      })}
      {props.series.map((s) => {
        if (s.points.length === 0) return null;
        const step = Math.max(1, Math.floor(s.points.length / 2000));
        const pts = s.points.filter((_, i) => i % step === 0 || i === s.points.length - 1);
        const d = pts
          .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
          .join('');
        const area = props.isArea
          ? `${d}L${sx(pts[pts.length - 1]!.x).toFixed(1)},${sy(Math.min(0, y1)).toFixed(1)}L${sx(pts[0]!.x).toFixed(1)},${sy(Math.min(0, y1)).toFixed(1)}Z`
          : '';
        return (
          <g key={s.name}>
            {props.isArea && <path d={area} fill={s.color} opacity={0.2} />}
            <path d={d} fill="none" stroke={s.color} strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
          </g>
        );
      })}
      <g className="legend">
        {props.series.map((s, i) => (
          <text key={s.name} x={pad.l + 6 + i * 130} y={pad.t + 12} fill={s.color} className="legend-label">
            {s.name}
          </text>
        ))}
      </g>
    </svg>
  );
}

export interface WaterfallItem {
  label: string;
  value: number;
  /** The feature's value, shown beside its name. */
  detail?: string;
}

/** Contributions from a base value to a prediction, sorted by size, with the running total. */
export function Waterfall(props: {
  base: number;
  prediction: number;
  items: WaterfallItem[];
  testId?: string;
  format?(v: number): string;
}) {
  const fmt = props.format ?? ((v: number) => v.toFixed(4));
  const items = props.items.slice().sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const rowH = 22;
  const width = 560;
  const labelW = 200;
  const height = (items.length + 2) * rowH + 10;
  let running = props.base;
  const levels = [props.base];
  for (const it of items) {
    running += it.value;
    levels.push(running);
  }
  levels.push(props.prediction);
  const [lo, hi] = extent(levels);
  const sx = (v: number) => labelW + ((v - lo) / (hi - lo)) * (width - labelW - 70);
  // Running totals before and after each contribution, computed once.
  const starts = levels.slice(0, items.length);
  return (
    <svg viewBox={`0 0 ${width} ${height}`} className="svg-chart waterfall" data-testid={props.testId}>
      <text x={4} y={rowH - 6} className="axis-label">
        base value
      </text>
      <line x1={sx(props.base)} x2={sx(props.base)} y1={4} y2={height - 4} className="gridline" />
      <text x={sx(props.base) + 4} y={rowH - 6} className="axis-label">
        {fmt(props.base)}
      </text>
      {items.map((it, i) => {
        const from = starts[i]!;
        const acc = from + it.value;
        const x = Math.min(sx(from), sx(acc));
        const w = Math.max(1, Math.abs(sx(acc) - sx(from)));
        const y = (i + 1) * rowH + 4;
        return (
          <g key={it.label} data-testid="waterfall-bar" data-value={it.value}>
            <text x={4} y={y + 14} className="axis-label">
              {it.label}
              {it.detail !== undefined ? ` = ${it.detail}` : ''}
            </text>
            <rect
              x={x}
              y={y + 3}
              width={w}
              height={rowH - 8}
              fill={it.value >= 0 ? 'var(--good)' : 'var(--bad)'}
            />
            <text x={Math.max(sx(from), sx(acc)) + 4} y={y + 14} className="axis-label">
              {it.value >= 0 ? '+' : ''}
              {fmt(it.value)}
            </text>
          </g>
        );
      })}
      <text x={4} y={(items.length + 1) * rowH + 18} className="axis-label strong">
        prediction
      </text>
      <line
        x1={sx(props.prediction)}
        x2={sx(props.prediction)}
        y1={4}
        y2={height - 4}
        stroke="var(--accent)"
        strokeDasharray="3 3"
      />
      <text
        x={sx(props.prediction) + 4}
        y={(items.length + 1) * rowH + 18}
        className="axis-label strong"
        data-testid="waterfall-prediction"
      >
        {fmt(props.prediction)}
      </text>
    </svg>
  );
}

/** A heatmap of a metric over a grid of two parameters. */
export function Heatmap(props: {
  xLabel: string;
  yLabel: string;
  xs: number[];
  ys: number[];
  value(x: number, y: number): number | null;
  testId?: string;
  format?(v: number): string;
}) {
  const fmt = props.format ?? ((v: number) => v.toFixed(2));
  const cell = 44;
  const padL = 60;
  const padT = 24;
  const width = padL + props.xs.length * cell + 10;
  const height = padT + props.ys.length * cell + 30;
  const values = props.xs
    .flatMap((x) => props.ys.map((y) => props.value(x, y)))
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const [lo, hi] = extent(values);
  const color = (v: number) => {
    const t = (v - lo) / (hi - lo);
    const r = Math.round(239 * (1 - t) + 38 * t);
    const g = Math.round(83 * (1 - t) + 166 * t);
    const b = Math.round(80 * (1 - t) + 154 * t);
    return `rgb(${r},${g},${b})`;
  };
  return (
    <svg viewBox={`0 0 ${width} ${height}`} className="svg-chart" data-testid={props.testId}>
      {props.ys.map((y, j) => (
        <text
          key={`y${y}`}
          x={padL - 6}
          y={padT + j * cell + cell / 2 + 4}
          textAnchor="end"
          className="axis-label"
        >
          {y}
        </text>
      ))}
      {props.xs.map((x, i) => (
        <text
          key={`x${x}`}
          x={padL + i * cell + cell / 2}
          y={padT - 8}
          textAnchor="middle"
          className="axis-label"
        >
          {x}
        </text>
      ))}
      {props.xs.map((x, i) =>
        props.ys.map((y, j) => {
          const v = props.value(x, y);
          return (
            <g key={`${x}-${y}`}>
              <rect
                x={padL + i * cell}
                y={padT + j * cell}
                width={cell - 2}
                height={cell - 2}
                fill={v === null ? 'transparent' : color(v)}
              />
              {v !== null && (
                <text
                  x={padL + i * cell + cell / 2 - 1}
                  y={padT + j * cell + cell / 2 + 3}
                  textAnchor="middle"
                  className="cell-label"
                >
                  {fmt(v)}
                </text>
              )}
            </g>
          );
        }),
      )}
      <text x={padL} y={height - 8} className="axis-label">
        x: {props.xLabel}, y: {props.yLabel}
      </text>
    </svg>
  );
}

/** A model explanation as the waterfall shows it (shared/contract/models.ts Explanation, structurally). */
export interface WaterfallExplanation {
  baseValue: number;
  prediction: number;
  contributions: readonly {
    feature: string;
    value: number;
    contribution: number;
    standardError?: number | undefined;
  }[];
}

/**
 * The waterfall of a model explanation: base value, then each feature's contribution (largest first,
 * with the feature's value and, for sampled Shapley, its standard error), then the prediction.
 */
export function ExplanationWaterfall(props: {
  explanation: WaterfallExplanation;
  testId: string;
  formatValue(v: number): string;
}) {
  const { explanation, formatValue } = props;
  return (
    <Waterfall
      testId={props.testId}
      base={explanation.baseValue}
      prediction={explanation.prediction}
      items={explanation.contributions.map((c) => ({
        label: c.feature,
        value: c.contribution,
        detail:
          c.standardError !== undefined
            ? `${formatValue(c.value)} (±${c.standardError.toFixed(4)})`
            : formatValue(c.value),
      }))}
    />
  );
}
