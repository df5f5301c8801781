import { useEffect, useRef, useState } from 'react';
import { getApi } from '../../api.ts';
import { useAppStore } from '../../store.ts';
import {
  CandleChart,
  type CandleChartHandle,
  type ChartBar,
  type ChartMarker,
} from '../../components/CandleChart.tsx';
import { useTradingStore } from '../../trading/trading-store.ts';
import { useStrategiesStore } from '../../trading/strategies-store.ts';
import { showSignal, signalIdOfMarker, signalMarkers } from '../signals/signal-markers.ts';
import { chartBus } from './chart-bus.ts';
import { timeframeMs } from '../../../../shared/market.ts';
import { useChartSelection } from './selection.ts';
import { TIMEFRAMES, emptyCandleColumns } from '../../../../shared/market.ts';

/**
 * Bars of the first request: what is painted first (a screen shows a few hundred bars), so the
 * chart is up in a fraction of a second whatever the length of the series.
 */
const FIRST_PAGE_BARS = 2000;
/**
 * Older bars loaded right after the first paint, in one request and one series update
 * (lightweight-charts re-processes the whole series on every setData, so history goes in once,
 * not page by page).
 */
const HISTORY_BARS = 200_000;
/** Each scroll-back page beyond that history. */
const OLDER_PAGE_BARS = 50_000;
/** Bars the prediction pane asks for. */
const PREDICTION_BARS = 2000;

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
  const hasMoreBefore = useRef(false);
  /** Loads bars before oldestMs for the series shown (set by the effect of that series). */
  const olderRef = useRef<(oldestMs: number, limit: number, onDone?: () => void) => void>(() => undefined);

  useEffect(() => {
    const api = getApi();
    let isActive = true;
    let isLoaded = false;
    let isLoadingOlder = false;
    const showCount = (): void => {
      if (countRef.current) countRef.current.textContent = String(chartRef.current?.barCount() ?? 0);
    };
    const showLast = (bar: ChartBar | undefined): void => {
      if (lastRef.current) lastRef.current.textContent = bar ? `${bar.close}` : '';
      showCount();
    };
    // Prediction pane: the loaded model's output per bar (each from bars up to that bar only),
    // reloaded when a bar of this series closes; one request at a time.
    let isPredicting = false;
    const loadPredictions = (): void => {
      if (isPredicting) return;
      isPredicting = true;
      void api.models.predictions({ venue, symbol, timeframe, limit: PREDICTION_BARS }).then((p) => {
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
        const points = p.value.time.flatMap((t, i) =>
          p.value.value[i] === null ? [] : [{ timeMs: t, value: p.value.value[i]! }],
        );
        chartRef.current?.setPaneLine(points);
        if (predictionRef.current)
          predictionRef.current.textContent = `${p.value.model} ${p.value.output} · ${points.length} points`;
      });
    };
    setMessage('Loading…');
    // What the chart holds, readable from the DOM (tests and the chart benchmark wait on these):
    // data-series, data-first-paint ("done" once the first page is drawn) and data-history
    // ("loading" while older bars are being loaded in the background, "complete" when the
    // series' history is in the chart or the rest is left to scroll-back).
    const mark = (attributes: Record<string, string>): void => chartRef.current?.annotate(attributes);
    mark({ series: `${venue}|${symbol}|${timeframe}`, firstPaint: 'pending', history: 'pending' });
    chartRef.current?.setBars(emptyCandleColumns(0));
    olderRef.current = (oldestMs, limit, onDone) => {
      if (isLoadingOlder || !hasMoreBefore.current) return onDone?.();
      isLoadingOlder = true;
      void api.market
        .candles({ venue, symbol, timeframe, toMs: oldestMs, limit, fromEnd: true })
        .then((reply) => {
          if (!isActive) return;
          if (!reply.ok) {
            setMessage(reply.error.message);
            return;
          }
          hasMoreBefore.current = reply.value.hasMoreBefore;
          chartRef.current?.prependBars(reply.value);
          showCount();
        })
        .finally(() => {
          isLoadingOlder = false;
          if (isActive) onDone?.();
        });
    };
    void api.market.candles({ venue, symbol, timeframe, limit: FIRST_PAGE_BARS }).then((reply) => {
      if (!isActive) return;
      if (!reply.ok) {
        setMessage(reply.error.message);
        return;
      }
      const value = reply.value;
      const forming: ChartBar | null = value.forming
        ? { timeMs: value.forming.time, ...value.forming }
        : null;
      hasMoreBefore.current = value.hasMoreBefore;
      chartRef.current?.setBars(value, forming);
      isLoaded = true;
      setSource(value.source);
      const n = value.time.length;
      setMessage(n === 0 && !forming ? 'No bars.' : null);
      showLast(
        forming ??
          (n > 0
            ? {
                timeMs: value.time[n - 1]!,
                open: value.open[n - 1]!,
                high: value.high[n - 1]!,
                low: value.low[n - 1]!,
                close: value.close[n - 1]!,
                volume: value.volume[n - 1]!,
              }
            : undefined),
      );
      loadPredictions();
      chartRef.current?.afterPaint(() => {
        if (!isActive) return;
        chartRef.current?.scrollToLatest();
        mark({ firstPaint: 'done' });
        if (!hasMoreBefore.current || n === 0) {
          mark({ history: 'complete' });
          return;
        }
        // The rest of the history, after the first page is on screen.
        mark({ history: 'loading' });
        olderRef.current(value.time[0]!, HISTORY_BARS, () =>
          chartRef.current?.afterPaint(() => {
            if (!isActive) return;
            chartRef.current?.scrollToLatest();
            mark({ history: 'complete' });
          }),
        );
      });
    });
    const off = api.on('market:bar', (updates) => {
      if (!isLoaded) return;
      let last: ChartBar | undefined;
      let hasClosed = false;
      const mine: { bar: ChartBar; isClosed: boolean }[] = [];
      for (const u of updates) {
        if (u.venue !== venue || u.symbol !== symbol || u.timeframe !== timeframe) continue;
        last = { timeMs: u.bar.time, ...u.bar };
        mine.push({ bar: last, isClosed: u.isClosed });
        if (u.isClosed) hasClosed = true;
      }
      if (mine.length > 0) chartRef.current?.updateBars(mine);
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
      olderRef.current = () => undefined;
      off();
      offModels();
    };
  }, [venue, symbol, timeframe]);

  // Fill markers (arrows) and strategy signal markers (circles) for this symbol; a click opens
  // the fill's audit record or the signal in the Signals view.
  const fills = useTradingStore((s) => s.fills);
  const signals = useStrategiesStore((s) => s.signals);
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
    chartRef.current?.setMarkers([...markers, ...signalMarkers(signals, symbol, step)]);
  }, [fills, signals, symbol, timeframe]);

  // Other panels (backtest trades, signals) ask the chart to show a time.
  useEffect(() => chartBus.onScrollTo((timeMs) => chartRef.current?.scrollToTime(timeMs)), []);

  const loadOlder = (oldestMs: number): void => olderRef.current(oldestMs, OLDER_PAGE_BARS);

  return (
    <div
      className="panel-body"
      data-testid="chart-panel"
      style={{ display: 'flex', flexDirection: 'column', padding: 0 }}
    >
      <div className="toolbar">
        <strong data-testid="chart-symbol">
          {symbol} <span className="muted">{venue}</span>
        </strong>
        {TIMEFRAMES.map((tf) => (
          <button
            key={tf}
            data-testid={`tf-${tf}`}
            className={tf === timeframe ? 'pill selected' : 'pill'}
            aria-pressed={tf === timeframe}
            onClick={() => setTimeframe(tf)}
          >
            {tf}
          </button>
        ))}
        <span className="muted">
          {source} · <span data-testid="chart-bar-count" ref={countRef} /> bars · last{' '}
          <span data-testid="chart-last" ref={lastRef} />
        </span>
        <span className="muted" data-testid="prediction-pane" ref={predictionRef} />
      </div>
      <div
        className="muted"
        data-testid="chart-crosshair"
        style={{ padding: '2px 10px', minHeight: 18, fontVariantNumeric: 'tabular-nums' }}
      >
        {message ?? crosshair}
      </div>
      <div style={{ flex: 1, minHeight: 0 }}>
        <CandleChart
          ref={chartRef}
          theme={theme}
          testId="market-chart"
          paneTitle="model"
          onCrosshair={(bar) => setCrosshair(bar ? formatOhlcv(bar) : '')}
          onNeedOlder={loadOlder}
          onSelectTime={(t) => chartBus.selectTime(t)}
          onMarkerClick={(id) => {
            const signalId = signalIdOfMarker(id);
            if (signalId !== null) return showSignal(signalId);
            useTradingStore.getState().focusOrder(id);
            chartBus.openPanel('audit');
          }}
        />
      </div>
    </div>
  );
}
