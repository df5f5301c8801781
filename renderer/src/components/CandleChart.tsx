import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  type CandlestickData,
  type Logical,
  type ISeriesMarkersPluginApi,
  type ISeriesPrimitive,
  type IPrimitivePaneRenderer,
  type IPrimitivePaneView,
  type SeriesAttachedParameter,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { emptyCandleColumns, type CandleColumns } from '../../../shared/market.ts';

export interface ChartBar {
  /** Bar open time, epoch ms. */
  timeMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface ChartMarker {
  timeMs: number;
  position: 'aboveBar' | 'belowBar' | 'inBar';
  shape: 'arrowUp' | 'arrowDown' | 'circle' | 'square';
  color: string;
  text?: string;
  id: string;
}

/** Imperative API: live ticks go straight to the series, never through React state. */
export interface CandleChartHandle {
  /**
   * Replaces the bars with these columns (plus the forming bar, if any). Columns, not objects:
   * a 200,000-bar history arrives as Float64Arrays and goes into the series in one pass.
   */
  setBars(columns: CandleColumns, forming?: ChartBar | null): void;
  /** Adds older bars in front (scroll-back, background history), keeping the view where it is. */
  prependBars(columns: CandleColumns): void;
  /**
   * Live bar updates in order: a closed bar is final (appended, or replaces the last closed bar
   * with its time); a forming bar replaces the previous forming one.
   */
  updateBars(updates: readonly { bar: ChartBar; isClosed: boolean }[]): void;
  setMarkers(markers: ChartMarker[]): void;
  /** A line in the lower pane (e.g. model output over time). */
  setPaneLine(points: { timeMs: number; value: number }[]): void;
  scrollToTime(timeMs: number): void;
  /** Shows the latest bar at the right edge, if the view is at the right edge already. */
  scrollToLatest(): void;
  barCount(): number;
  /** Calls back once what was set so far has been drawn (two animation frames later). */
  afterPaint(callback: () => void): void;
  /** Sets data-* attributes on the chart element (state that tests and benchmarks read). */
  annotate(attributes: Record<string, string>): void;
}

export interface CandleChartProps {
  theme: 'dark' | 'light';
  onCrosshair?(bar: ChartBar | null): void;
  onSelectTime?(timeMs: number): void;
  onMarkerClick?(id: string): void;
  /** Called when the user scrolls near the oldest loaded bar. */
  onNeedOlder?(oldestTimeMs: number): void;
  paneTitle?: string;
  testId?: string;
}

const toTime = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
const UP_VOLUME = 'rgba(38,166,154,0.35)';
const DOWN_VOLUME = 'rgba(239,83,80,0.35)';

/**
 * The chart's bars: closed bars as growable columns (the source of truth for crosshair lookups
 * and markers) plus the series data lightweight-charts was given for them, kept so a prepend
 * builds objects only for the new bars; and the forming bar apart (it lives in its own series).
 */
class ChartBars {
  columns: CandleColumns = emptyCandleColumns(0);
  /** Closed bars held. */
  length = 0;
  candles: CandlestickData<UTCTimestamp>[] = [];
  forming: ChartBar | null = null;

  /** Closed bars plus the forming one: the chart's logical indices 0..total()-1. */
  total(): number {
    return this.length + (this.forming ? 1 : 0);
  }

  timeAt(i: number): number {
    return i < this.length ? this.columns.time[i]! : (this.forming?.timeMs ?? NaN);
  }

  /** The bar that opens at timeMs (closed or forming), or null. */
  find(timeMs: number): ChartBar | null {
    if (this.forming?.timeMs === timeMs) return this.forming;
    const i = this.lowerBound(timeMs);
    if (i >= this.length || this.columns.time[i] !== timeMs) return null;
    const c = this.columns;
    return {
      timeMs,
      open: c.open[i]!,
      high: c.high[i]!,
      low: c.low[i]!,
      close: c.close[i]!,
      volume: c.volume[i]!,
    };
  }

  /** First index whose time is >= timeMs (total() if none). */
  lowerBound(timeMs: number): number {
    const times = this.columns.time;
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! < timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.length && this.forming && this.forming.timeMs < timeMs ? this.total() : lo;
  }

  /** Puts the first olderCount bars of `older` in front of the closed bars (one preallocated pass). */
  prepend(older: CandleColumns, olderCount: number): void {
    const n = olderCount + this.length;
    const next = emptyCandleColumns(Math.max(1024, Math.ceil(n * 1.25)));
    const candles = new Array<CandlestickData<UTCTimestamp>>(n);
    for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
      next[f].set(older[f].subarray(0, olderCount));
      next[f].set(this.columns[f].subarray(0, this.length), olderCount);
    }
    const { time, open, high, low, close } = older;
    for (let i = 0; i < olderCount; i++) {
      const t = toTime(time[i]!);
      const o = open[i]!;
      const c = close[i]!;
      candles[i] = { time: t, open: o, high: high[i]!, low: low[i]!, close: c };
    }
    for (let i = 0; i < this.length; i++) {
      candles[olderCount + i] = this.candles[i]!;
    }
    this.columns = next;
    this.length = n;
    this.candles = candles;
  }

  /**
   * Adds a closed bar (or replaces the last closed one with the same time). Returns 'append',
   * 'replace', or null for a bar older than the last closed one (ignored).
   */
  putClosed(bar: ChartBar): 'append' | 'replace' | null {
    const last = this.length - 1;
    if (last >= 0 && bar.timeMs < this.columns.time[last]!) return null;
    const isReplace = last >= 0 && bar.timeMs === this.columns.time[last];
    const i = isReplace ? last : this.length;
    if (!isReplace) {
      if (this.length === this.columns.time.length) {
        const bigger = emptyCandleColumns(Math.max(1024, this.length * 2));
        for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'] as const)
          bigger[f].set(this.columns[f]);
        this.columns = bigger;
      }
      this.length++;
    }
    const c = this.columns;
    c.time[i] = bar.timeMs;
    c.open[i] = bar.open;
    c.high[i] = bar.high;
    c.low[i] = bar.low;
    c.close[i] = bar.close;
    c.volume[i] = bar.volume;
    this.candles[i] = toCandle(bar);
    if (this.forming && this.forming.timeMs <= bar.timeMs) this.forming = null;
    return isReplace ? 'replace' : 'append';
  }

  clear(): void {
    this.columns = emptyCandleColumns(0);
    this.length = 0;
    this.candles = [];
    this.forming = null;
  }
}

function toCandle(bar: ChartBar): CandlestickData<UTCTimestamp> {
  return { time: toTime(bar.timeMs), open: bar.open, high: bar.high, low: bar.low, close: bar.close };
}

/** Volume of bar i (closed bars, then the forming one) and whether it closed up. */
function volumeAt(bars: ChartBars, i: number): { volume: number; isUp: boolean } {
  if (i < bars.length) {
    const c = bars.columns;
    return { volume: c.volume[i]!, isUp: c.close[i]! >= c.open[i]! };
  }
  const f = bars.forming!;
  return { volume: f.volume, isUp: f.close >= f.open };
}

/**
 * Volume bars drawn straight from the chart's Float64Array columns, under the candles (bottom
 * 20% of the pane, scaled to the largest visible volume). Why not a histogram series: a series
 * holds an object per bar and lightweight-charts re-processes all of them on every setData (and
 * rebuilds its drawing items on every update), which is as much work as the candles themselves
 * for 200,000 bars; this draws only the visible bars, one column per pixel when zoomed out.
 */
class VolumePrimitive implements ISeriesPrimitive<Time> {
  private chart: IChartApi | null = null;
  private requestRedraw: (() => void) | null = null;
  private readonly getBars: () => ChartBars;
  private readonly view: IPrimitivePaneView;

  constructor(getBars: () => ChartBars) {
    this.getBars = getBars;
    const renderer: IPrimitivePaneRenderer = { draw: (target) => this.draw(target) };
    this.view = { zOrder: () => 'bottom', renderer: () => renderer };
  }

  attached(param: SeriesAttachedParameter<Time>): void {
    this.chart = param.chart;
    this.requestRedraw = param.requestUpdate;
  }

  detached(): void {
    this.chart = null;
    this.requestRedraw = null;
  }

  paneViews(): readonly IPrimitivePaneView[] {
    return [this.view];
  }

  redraw(): void {
    this.requestRedraw?.();
  }

  private draw(target: Parameters<IPrimitivePaneRenderer['draw']>[0]): void {
    const chart = this.chart;
    const bars = this.getBars();
    const total = bars.total();
    if (!chart || total === 0) return;
    const timeScale = chart.timeScale();
    const range = timeScale.getVisibleLogicalRange();
    if (!range) return;
    const from = Math.max(0, Math.floor(range.from));
    const to = Math.min(total - 1, Math.ceil(range.to));
    if (to < from) return;
    const x0 = timeScale.logicalToCoordinate(from as Logical);
    const x1 = timeScale.logicalToCoordinate((from + 1) as Logical);
    if (x0 === null || x1 === null) return;
    const spacing = x1 - x0;
    let maxVolume = 0;
    for (let i = from; i <= to; i++) maxVolume = Math.max(maxVolume, volumeAt(bars, i).volume);
    if (!(maxVolume > 0)) return;
    target.useBitmapCoordinateSpace(({ context, bitmapSize, horizontalPixelRatio }) => {
      const zone = bitmapSize.height * 0.2;
      const width = Math.max(1, Math.floor(spacing * horizontalPixelRatio * 0.8));
      let column = -1;
      let columnVolume = 0;
      let columnUp = true;
      const flush = (): void => {
        if (column < 0) return;
        const height = Math.max(1, Math.round((columnVolume / maxVolume) * zone));
        context.fillStyle = columnUp ? UP_VOLUME : DOWN_VOLUME;
        context.fillRect(column - Math.floor(width / 2), bitmapSize.height - height, width, height);
      };
      for (let i = from; i <= to; i++) {
        const x = Math.round((x0 + (i - from) * spacing) * horizontalPixelRatio);
        const { volume, isUp } = volumeAt(bars, i);
        // Zoomed out (bars narrower than a pixel): one column per pixel, its largest volume.
        if (x === column) {
          if (volume > columnVolume) {
            columnVolume = volume;
            columnUp = isUp;
          }
          continue;
        }
        flush();
        column = x;
        columnVolume = volume;
        columnUp = isUp;
      }
      flush();
    });
  }
}

export const CandleChart = forwardRef<CandleChartHandle, CandleChartProps>(function CandleChart(props, ref) {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);
  const candlesRef = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const volumeRef = useRef<VolumePrimitive | null>(null);
  const formingCandleRef = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const paneLineRef = useRef<ISeriesApi<'Line'> | null>(null);
  const markersRef = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const barsRef = useRef(new ChartBars());
  const markerListRef = useRef<ChartMarker[]>([]);
  const propsRef = useRef(props);
  propsRef.current = props;
  // Markers also get real buttons over the canvas: keyboard-focusable, readable by screen readers
  // and clickable by tests, positioned from the chart's coordinates.
  const [markerButtons, setMarkerButtons] = useState<{ id: string; x: number; y: number; label: string }[]>(
    [],
  );
  const layoutMarkersRef = useRef<() => void>(() => undefined);

  useEffect(() => {
    const el = containerRef.current!;
    const chart = createChart(el, {
      autoSize: true,
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: true, secondsVisible: false },
      // The attribution logo injects an inline <style> that our CSP (style-src 'self') blocks;
      // the attribution TradingView asks for is in the System panel and the README instead.
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: '#8a94a6',
        panes: { separatorColor: '#2a303a' },
        attributionLogo: false,
      },
      grid: {
        vertLines: { color: 'rgba(128,128,128,0.12)' },
        horzLines: { color: 'rgba(128,128,128,0.12)' },
      },
    });
    const candleStyle = {
      upColor: '#26a69a',
      downColor: '#ef5350',
      borderVisible: false,
      wickUpColor: '#26a69a',
      wickDownColor: '#ef5350',
    };
    // Closed bars and the forming bar are separate series. Why: lightweight-charts rebuilds a
    // series' items on every update() (O(bars): ~0.3 s per tick at 200,000 bars, measured), so
    // live ticks go to a one-bar series and the big series changes only when a bar closes.
    const candles = chart.addSeries(CandlestickSeries, {
      ...candleStyle,
      lastValueVisible: false,
      priceLineVisible: false,
    });
    const formingCandle = chart.addSeries(CandlestickSeries, candleStyle);
    const volume = new VolumePrimitive(() => barsRef.current);
    candles.attachPrimitive(volume);
    chartRef.current = chart;
    candlesRef.current = candles;
    volumeRef.current = volume;
    formingCandleRef.current = formingCandle;
    markersRef.current = createSeriesMarkers(candles, []);

    const byTime = (t: Time | undefined): ChartBar | null => {
      if (t === undefined) return null;
      return barsRef.current.find(Number(t) * 1000);
    };
    chart.subscribeCrosshairMove((param) => propsRef.current.onCrosshair?.(byTime(param.time)));
    chart.subscribeClick((param) => {
      const markerId = param.hoveredObjectId;
      if (typeof markerId === 'string' && markerListRef.current.some((m) => m.id === markerId)) {
        propsRef.current.onMarkerClick?.(markerId);
        return;
      }
      if (param.time !== undefined) {
        const bar = byTime(param.time);
        // A click near a marker's bar selects that marker (markers are small targets).
        const marker = bar ? markerListRef.current.find((m) => m.timeMs === bar.timeMs) : undefined;
        if (marker) propsRef.current.onMarkerClick?.(marker.id);
        propsRef.current.onSelectTime?.(Number(param.time) * 1000);
      }
    });
    layoutMarkersRef.current = () => {
      const buttons: { id: string; x: number; y: number; label: string }[] = [];
      for (const m of markerListRef.current) {
        const x = chart.timeScale().timeToCoordinate(toTime(m.timeMs));
        const bar = barsRef.current.find(m.timeMs);
        const y = bar ? candles.priceToCoordinate(m.position === 'belowBar' ? bar.low : bar.high) : null;
        if (x === null || y === null) continue;
        buttons.push({ id: m.id, x, y: m.position === 'belowBar' ? y + 14 : y - 14, label: m.text ?? m.id });
      }
      setMarkerButtons(buttons);
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      const bars = barsRef.current;
      const total = bars.total();
      if (range && range.from < 20 && total > 0) propsRef.current.onNeedOlder?.(bars.timeAt(0));
      layoutMarkersRef.current();
      // The visible time span, readable from the DOM (panels and tests can tell what the chart shows).
      if (range && total > 0) {
        el.dataset.visibleFromMs = String(
          bars.timeAt(Math.max(0, Math.min(total - 1, Math.ceil(range.from)))),
        );
        el.dataset.visibleToMs = String(bars.timeAt(Math.max(0, Math.min(total - 1, Math.floor(range.to)))));
      }
    });
    chart.timeScale().subscribeSizeChange(() => layoutMarkersRef.current());
    return () => {
      chart.remove();
      chartRef.current = null;
    };
  }, []);

  useEffect(() => {
    chartRef.current?.applyOptions({ layout: { textColor: props.theme === 'dark' ? '#8a94a6' : '#4a5262' } });
  }, [props.theme]);

  // The last price label and line belong to the forming bar when there is one (live feeds), else
  // to the last closed bar (a stored series).
  const lastPriceOnRef = useRef<'forming' | 'closed' | null>(null);
  const showLastPriceOn = (which: 'forming' | 'closed'): void => {
    if (lastPriceOnRef.current === which) return;
    lastPriceOnRef.current = which;
    candlesRef.current?.applyOptions({
      lastValueVisible: which === 'closed',
      priceLineVisible: which === 'closed',
    });
  };

  useImperativeHandle(
    ref,
    () => ({
      setBars(columns, forming) {
        const bars = barsRef.current;
        bars.clear();
        bars.prepend(columns, columns.time.length);
        bars.forming =
          forming && (bars.length === 0 || forming.timeMs > bars.timeAt(bars.length - 1)) ? forming : null;
        candlesRef.current?.setData(bars.candles);
        formingCandleRef.current?.setData(bars.forming ? [toCandle(bars.forming)] : []);
        // A new series opens on its latest bar, the forming one included: lightweight-charts
        // fits the view to the first setData and does not shift it for the forming bar's series;
        // its time scale settles in the next frame, so scroll then (the zoom is left as it is).
        requestAnimationFrame(() => this.scrollToLatest());
        volumeRef.current?.redraw();
        showLastPriceOn(bars.forming ? 'forming' : 'closed');
      },
      prependBars(older) {
        const bars = barsRef.current;
        // Only bars before the first one shown (a page may overlap what is loaded).
        const first = bars.total() > 0 ? bars.timeAt(0) : Infinity;
        let count = 0;
        while (count < older.time.length && older.time[count]! < first) count++;
        if (count === 0) return;
        const range = chartRef.current?.timeScale().getVisibleLogicalRange();
        bars.prepend(older, count);
        candlesRef.current?.setData(bars.candles);
        if (range)
          chartRef.current
            ?.timeScale()
            .setVisibleLogicalRange({ from: range.from + count, to: range.to + count });
      },
      updateBars(updates) {
        const bars = barsRef.current;
        let closedCount = 0;
        const formingBefore = bars.forming;
        for (const { bar, isClosed } of updates) {
          if (isClosed) {
            const kind = bars.putClosed(bar);
            if (kind === null) continue;
            closedCount++;
            // One closed bar: update() the big series; several (a replay at full speed): one setData below.
            if (closedCount === 1) {
              candlesRef.current?.update(bars.candles[bars.length - 1]!);
            }
          } else if (bars.length === 0 || bar.timeMs > bars.timeAt(bars.length - 1)) {
            if (!bars.forming || bar.timeMs >= bars.forming.timeMs) bars.forming = bar;
          }
        }
        // setData, unlike update(), does not shift the view when bars are added at the right edge:
        // keep the latest bar as far from the edge as it was, if it was in view (what
        // lightweight-charts' shiftVisibleRangeOnNewBar does for update()).
        const timeScale = chartRef.current?.timeScale();
        const position = timeScale?.scrollPosition();
        const keepLatestInView = (): void => {
          if (timeScale && position !== undefined && position >= -2)
            timeScale.scrollToPosition(Math.max(0, position), false);
        };
        if (closedCount > 1) {
          candlesRef.current?.setData(bars.candles);
          keepLatestInView();
        }
        volumeRef.current?.redraw();
        const forming = bars.forming;
        if (forming === formingBefore && closedCount === 0) return;
        showLastPriceOn(forming ? 'forming' : 'closed');
        if (!forming) formingCandleRef.current?.setData([]);
        else if (formingBefore && formingBefore.timeMs === forming.timeMs && closedCount === 0)
          formingCandleRef.current?.update(toCandle(forming));
        else {
          formingCandleRef.current?.setData([toCandle(forming)]);
          keepLatestInView();
        }
      },
      setMarkers(markers) {
        markerListRef.current = markers.slice().sort((a, b) => a.timeMs - b.timeMs);
        const list: SeriesMarker<Time>[] = markerListRef.current.map((m) => ({
          time: toTime(m.timeMs),
          position: m.position,
          shape: m.shape,
          color: m.color,
          id: m.id,
          ...(m.text ? { text: m.text } : {}),
        }));
        markersRef.current?.setMarkers(list);
        requestAnimationFrame(() => layoutMarkersRef.current());
      },
      setPaneLine(points) {
        const chart = chartRef.current;
        if (!chart) return;
        if (!paneLineRef.current) {
          paneLineRef.current = chart.addSeries(
            LineSeries,
            { color: '#f0b429', lineWidth: 2, title: propsRef.current.paneTitle ?? '' },
            1,
          );
          chart.panes()[1]?.setHeight(110);
        }
        paneLineRef.current.setData(points.map((p) => ({ time: toTime(p.timeMs), value: p.value })));
      },
      scrollToTime(timeMs) {
        const bars = barsRef.current;
        const index = bars.lowerBound(timeMs);
        if (index >= bars.total()) return;
        chartRef.current
          ?.timeScale()
          .setVisibleLogicalRange({ from: Math.max(0, index - 60), to: index + 60 });
      },
      scrollToLatest() {
        // Only when the view is at (or next to) the right edge: never pull a user out of history.
        const timeScale = chartRef.current?.timeScale();
        if (timeScale && timeScale.scrollPosition() >= -2) timeScale.scrollToPosition(0, false);
      },
      barCount() {
        return barsRef.current.total();
      },
      afterPaint(callback) {
        // lightweight-charts draws in the next animation frame; the one after it runs once that
        // frame has been produced.
        requestAnimationFrame(() => requestAnimationFrame(callback));
      },
      annotate(attributes) {
        if (containerRef.current) Object.assign(containerRef.current.dataset, attributes);
      },
    }),
    [],
  );

  return (
    <div className="candle-chart-wrap">
      <div ref={containerRef} className="candle-chart" data-testid={props.testId ?? 'candle-chart'} />
      {markerButtons.map((b) => (
        <button
          key={b.id}
          type="button"
          className="chart-marker"
          data-testid={`chart-marker-${b.id}`}
          aria-label={`Marker: ${b.label}`}
          title={b.label}
          style={{ left: b.x - 7, top: b.y - 7 }}
          onClick={() => propsRef.current.onMarkerClick?.(b.id)}
        />
      ))}
    </div>
  );
});
