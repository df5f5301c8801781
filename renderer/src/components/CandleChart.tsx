import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';

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
  setBars(bars: ChartBar[]): void;
  /** Adds older bars in front (scroll-back), keeping the view where it is. */
  prependBars(bars: ChartBar[]): void;
  /** Updates the last bar or appends a new one. */
  updateBar(bar: ChartBar): void;
  setMarkers(markers: ChartMarker[]): void;
  /** A line in the lower pane (e.g. model output over time). */
  setPaneLine(points: { timeMs: number; value: number }[]): void;
  scrollToTime(timeMs: number): void;
  barCount(): number;
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

export const CandleChart = forwardRef<CandleChartHandle, CandleChartProps>(function CandleChart(props, ref) {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);
  const candlesRef = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const volumeRef = useRef<ISeriesApi<'Histogram'> | null>(null);
  const paneLineRef = useRef<ISeriesApi<'Line'> | null>(null);
  const markersRef = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const barsRef = useRef<ChartBar[]>([]);
  const markerListRef = useRef<ChartMarker[]>([]);
  const propsRef = useRef(props);
  propsRef.current = props;
  // Markers also get real buttons over the canvas: keyboard-focusable, readable by screen readers
  // and clickable by tests, positioned from the chart's coordinates.
  const [markerButtons, setMarkerButtons] = useState<{ id: string; x: number; y: number; label: string }[]>([]);
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
      grid: { vertLines: { color: 'rgba(128,128,128,0.12)' }, horzLines: { color: 'rgba(128,128,128,0.12)' } },
    });
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: '#26a69a',
      downColor: '#ef5350',
      borderVisible: false,
      wickUpColor: '#26a69a',
      wickDownColor: '#ef5350',
    });
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, color: 'rgba(76,154,255,0.35)' });
    chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chartRef.current = chart;
    candlesRef.current = candles;
    volumeRef.current = volume;
    markersRef.current = createSeriesMarkers(candles, []);

    const byTime = (t: Time | undefined): ChartBar | null => {
      if (t === undefined) return null;
      const ms = Number(t) * 1000;
      const bars = barsRef.current;
      let lo = 0;
      let hi = bars.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const v = bars[mid]!.timeMs;
        if (v === ms) return bars[mid]!;
        if (v < ms) lo = mid + 1;
        else hi = mid - 1;
      }
      return null;
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
        const bar = barsRef.current.find((b) => b.timeMs === m.timeMs);
        const y = bar ? candles.priceToCoordinate(m.position === 'belowBar' ? bar.low : bar.high) : null;
        if (x === null || y === null) continue;
        buttons.push({ id: m.id, x, y: m.position === 'belowBar' ? y + 14 : y - 14, label: m.text ?? m.id });
      }
      setMarkerButtons(buttons);
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range && range.from < 20 && barsRef.current.length > 0) propsRef.current.onNeedOlder?.(barsRef.current[0]!.timeMs);
      layoutMarkersRef.current();
      // The visible time span, readable from the DOM (panels and tests can tell what the chart shows).
      const bars = barsRef.current;
      if (range && bars.length > 0) {
        const from = bars[Math.max(0, Math.min(bars.length - 1, Math.ceil(range.from)))]!;
        const to = bars[Math.max(0, Math.min(bars.length - 1, Math.floor(range.to)))]!;
        el.dataset.visibleFromMs = String(from.timeMs);
        el.dataset.visibleToMs = String(to.timeMs);
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

  useImperativeHandle(
    ref,
    () => ({
      setBars(bars) {
        barsRef.current = bars.slice();
        candlesRef.current?.setData(bars.map((b) => ({ time: toTime(b.timeMs), open: b.open, high: b.high, low: b.low, close: b.close })));
        volumeRef.current?.setData(
          bars.map((b) => ({ time: toTime(b.timeMs), value: b.volume, color: b.close >= b.open ? 'rgba(38,166,154,0.35)' : 'rgba(239,83,80,0.35)' })),
        );
      },
      prependBars(older) {
        const first = barsRef.current[0]?.timeMs ?? Infinity;
        const fresh = older.filter((b) => b.timeMs < first);
        if (fresh.length === 0) return;
        const range = chartRef.current?.timeScale().getVisibleLogicalRange();
        this.setBars([...fresh, ...barsRef.current]);
        if (range) chartRef.current?.timeScale().setVisibleLogicalRange({ from: range.from + fresh.length, to: range.to + fresh.length });
      },
      updateBar(bar) {
        const bars = barsRef.current;
        const last = bars[bars.length - 1];
        if (last && bar.timeMs < last.timeMs) return;
        if (last && last.timeMs === bar.timeMs) bars[bars.length - 1] = bar;
        else bars.push(bar);
        candlesRef.current?.update({ time: toTime(bar.timeMs), open: bar.open, high: bar.high, low: bar.low, close: bar.close });
        volumeRef.current?.update({
          time: toTime(bar.timeMs),
          value: bar.volume,
          color: bar.close >= bar.open ? 'rgba(38,166,154,0.35)' : 'rgba(239,83,80,0.35)',
        });
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
          paneLineRef.current = chart.addSeries(LineSeries, { color: '#f0b429', lineWidth: 2, title: propsRef.current.paneTitle ?? '' }, 1);
          chart.panes()[1]?.setHeight(110);
        }
        paneLineRef.current.setData(points.map((p) => ({ time: toTime(p.timeMs), value: p.value })));
      },
      scrollToTime(timeMs) {
        const bars = barsRef.current;
        const index = bars.findIndex((b) => b.timeMs >= timeMs);
        if (index < 0) return;
        chartRef.current?.timeScale().setVisibleLogicalRange({ from: Math.max(0, index - 60), to: index + 60 });
      },
      barCount() {
        return barsRef.current.length;
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
