import { useEffect, useRef, useState } from 'react';
import { getApi } from '../../api.ts';
import { useAppStore } from '../../store.ts';
import { CandleChart, type CandleChartHandle, type ChartBar, type ChartMarker } from '../../components/CandleChart.tsx';
import { useTradingStore } from '../../trading/trading-store.ts';
import { chartBus } from './chart-bus.ts';
import { timeframeMs } from '../../../../shared/market.ts';
import { useChartSelection } from './selection.ts';
import { TIMEFRAMES } from '../../../../shared/market.ts';
import type { CandlesResponse } from '../../../../shared/contract/market.ts';

/** Bars per request: the first paint and each scroll-back page. */
const PAGE_BARS = 2000;

function toChartBars(r: CandlesResponse): ChartBar[] {
  const bars: ChartBar[] = new Array<ChartBar>(r.time.length);
  for (let i = 0; i < r.time.length; i++) {
    bars[i] = { timeMs: r.time[i]!, open: r.open[i]!, high: r.high[i]!, low: r.low[i]!, close: r.close[i]!, volume: r.volume[i]! };
  }
  if (r.forming) bars.push({ timeMs: r.forming.time, ...r.forming });
  return bars;
}

function formatOhlcv(bar: ChartBar): string {
  const t = new Date(bar.timeMs).toISOString().replace('T', ' ').slice(0, 16);
  return `${t}  O ${bar.open}  H ${bar.high}  L ${bar.low}  C ${bar.close}  V ${Number(bar.volume.toPrecision(6))}`;
}

/**
 * Candles + volume for the selected symbol and timeframe: history from the engine (live feed or
 * market.db), scroll back loads older pages, live bar updates go straight to the chart series
 * (CandleChart's imperative handle), never through React state.
 */
export function ChartPanel() {
  const { venue, symbol, timeframe, setTimeframe } = useChartSelection();
  const theme = useAppStore((s) => s.theme);
  const chartRef = useRef<CandleChartHandle>(null);
  const lastRef = useRef<HTMLSpanElement>(null);
  const countRef = useRef<HTMLSpanElement>(null);
  const predictionRef = useRef<HTMLSpanElement>(null);
  const [crosshair, setCrosshair] = useState<string>('');
  const [message, setMessage] = useState<string | null>(null);
  const [source, setSource] = useState<string>('');
  const loadingOlder = useRef(false);
  const hasMoreBefore = useRef(false);

  useEffect(() => {
    const api = getApi();
    let isActive = true;
    let isLoaded = false;
    const showLast = (bar: ChartBar | undefined): void => {
      if (lastRef.current) lastRef.current.textContent = bar ? `${bar.close}` : '';
      if (countRef.current) countRef.current.textContent = String(chartRef.current?.barCount() ?? 0);
    };
    // Prediction pane: the loaded model's output per bar (each from bars up to that bar only),
    // reloaded when a bar of this series closes; one request at a time.
    let isPredicting = false;
    const loadPredictions = (): void => {
      if (isPredicting) return;
      isPredicting = true;
      void api.models.predictions({ venue, symbol, timeframe, limit: PAGE_BARS }).then((p) => {
        isPredicting = false;
        if (!isActive) return;
        if (!p.ok) {
          // No loaded model (or still warming up): clear a line left from the previous series.
          if (predictionRef.current?.textContent) {
            chartRef.current?.setPaneLine([]);
            predictionRef.current.textContent = '';
          }
          return;
        }
        const points = p.value.time.flatMap((t, i) => (p.value.value[i] === null ? [] : [{ timeMs: t, value: p.value.value[i]! }]));
        chartRef.current?.setPaneLine(points);
        if (predictionRef.current) predictionRef.current.textContent = `${p.value.model} ${p.value.output} · ${points.length} points`;
      });
    };
    setMessage('Loading…');
    chartRef.current?.setBars([]);
    void api.market.candles({ venue, symbol, timeframe, limit: PAGE_BARS }).then((reply) => {
      if (!isActive) return;
      if (!reply.ok) {
        setMessage(reply.error.message);
        return;
      }
      const bars = toChartBars(reply.value);
      hasMoreBefore.current = reply.value.hasMoreBefore;
      chartRef.current?.setBars(bars);
      isLoaded = true;
      setSource(reply.value.source);
      setMessage(bars.length === 0 ? 'No bars.' : null);
      showLast(bars[bars.length - 1]);
      loadPredictions();
    });
    const off = api.on('market:bar', (updates) => {
      if (!isLoaded) return;
      let last: ChartBar | undefined;
      let hasClosed = false;
      for (const u of updates) {
        if (u.venue !== venue || u.symbol !== symbol || u.timeframe !== timeframe) continue;
        last = { timeMs: u.bar.time, ...u.bar };
        chartRef.current?.updateBar(last);
        if (u.isClosed) hasClosed = true;
      }
      if (hasClosed) loadPredictions();
      if (last) {
        showLast(last);
        // A replay starts empty: its first bar replaces the "No bars." note.
        setMessage(null);
      }
    });
    // A model loaded, unloaded or imported in the Model manager: redraw the pane.
    const offModels = api.on('models:changed', () => {
      if (isLoaded) loadPredictions();
    });
    return () => {
      isActive = false;
      off();
      offModels();
    };
  }, [venue, symbol, timeframe]);

  // Fill markers for this symbol; a click opens the fill's audit record.
  const fills = useTradingStore((s) => s.fills);
  useEffect(() => {
    const step = timeframeMs(timeframe);
    const markers: ChartMarker[] = fills
      .filter((f) => f.symbol === symbol)
      .map((f) => ({
        id: f.clientOrderId,
        timeMs: Math.floor(f.tsMs / step) * step,
        position: f.side === 'buy' ? 'belowBar' : 'aboveBar',
        shape: f.side === 'buy' ? 'arrowUp' : 'arrowDown',
        color: f.side === 'buy' ? '#26a69a' : '#ef5350',
        text: `${f.side} ${f.quantity}`,
      }));
    chartRef.current?.setMarkers(markers);
  }, [fills, symbol, timeframe]);

  // Other panels (backtest trades, signals) ask the chart to show a time.
  useEffect(() => chartBus.onScrollTo((timeMs) => chartRef.current?.scrollToTime(timeMs)), []);

  const loadOlder = (oldestMs: number): void => {
    if (loadingOlder.current || !hasMoreBefore.current) return;
    loadingOlder.current = true;
    void getApi()
      .market.candles({ venue, symbol, timeframe, toMs: oldestMs, limit: PAGE_BARS, fromEnd: true })
      .then((reply) => {
        if (reply.ok) {
          hasMoreBefore.current = reply.value.hasMoreBefore;
          chartRef.current?.prependBars(toChartBars({ ...reply.value, forming: null }));
          if (countRef.current) countRef.current.textContent = String(chartRef.current?.barCount() ?? 0);
        }
      })
      .finally(() => {
        loadingOlder.current = false;
      });
  };

  return (
    <div className="panel-body" data-testid="chart-panel" style={{ display: 'flex', flexDirection: 'column', padding: 0 }}>
      <div className="toolbar">
        <strong data-testid="chart-symbol">
          {symbol} <span className="muted">{venue}</span>
        </strong>
        {TIMEFRAMES.map((tf) => (
          <button key={tf} data-testid={`tf-${tf}`} className={tf === timeframe ? 'pill selected' : 'pill'} aria-pressed={tf === timeframe} onClick={() => setTimeframe(tf)}>
            {tf}
          </button>
        ))}
        <span className="muted">
          {source} · <span data-testid="chart-bar-count" ref={countRef} /> bars · last <span data-testid="chart-last" ref={lastRef} />
        </span>
        <span className="muted" data-testid="prediction-pane" ref={predictionRef} />
      </div>
      <div className="muted" data-testid="chart-crosshair" style={{ padding: '2px 10px', minHeight: 18, fontVariantNumeric: 'tabular-nums' }}>
        {message ?? crosshair}
      </div>
      <div style={{ flex: 1, minHeight: 0 }}>
        <CandleChart ref={chartRef} theme={theme} testId="market-chart" paneTitle="model" onCrosshair={(bar) => setCrosshair(bar ? formatOhlcv(bar) : '')} onNeedOlder={loadOlder}
          onSelectTime={(t) => chartBus.selectTime(t)}
          onMarkerClick={(id) => {
            useTradingStore.getState().focusOrder(id);
            chartBus.openPanel('audit');
          }}
        />
      </div>
    </div>
  );
}
