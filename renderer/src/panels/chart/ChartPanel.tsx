import { useEffect, useRef, useState } from 'react';
import { getApi } from '../../api.ts';
import { useAppStore } from '../../store.ts';
import { useTradingStore } from '../../trading/trading-store.ts';
import {
  CandleChart,
  type CandleChartHandle,
  type ChartBar,
  type ChartMarker,
} from '../../components/CandleChart.tsx';
import { TIMEFRAMES, type Timeframe } from '../../../../shared/market.ts';
import type { ResponseOf } from '../../../../shared/contract/index.ts';
import { chartBus } from './chart-bus.ts';

const PAGE_BARS = 2000;

function toBars(c: ResponseOf<'market:candles'>): ChartBar[] {
  const bars: ChartBar[] = new Array(c.time.length);
  for (let i = 0; i < c.time.length; i++) {
    bars[i] = {
      timeMs: c.time[i]!,
      open: c.open[i]!,
      high: c.high[i]!,
      low: c.low[i]!,
      close: c.close[i]!,
      volume: c.volume[i]!,
    };
  }
  if (c.forming)
    bars.push({
      timeMs: c.forming.time,
      open: c.forming.open,
      high: c.forming.high,
      low: c.forming.low,
      close: c.forming.close,
      volume: c.forming.volume,
    });
  return bars;
}

const fmtTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/**
 * Candles + volume for the selected symbol and timeframe: history from the engine (live feed or
 * market.db), live bar updates applied to the chart series directly (never through React state),
 * scroll-back loading, crosshair OHLCV, fill markers that open their audit record.
 */
export function ChartPanel() {
  const theme = useAppStore((s) => s.theme);
  const selected = useTradingStore((s) => s.selected);
  const timeframe = useTradingStore((s) => s.timeframe);
  const setTimeframe = useTradingStore((s) => s.setTimeframe);
  const fills = useTradingStore((s) => s.fills);
  const chartRef = useRef<CandleChartHandle>(null);
  const liveLabelRef = useRef<HTMLSpanElement>(null);
  const [hover, setHover] = useState<ChartBar | null>(null);
  const [info, setInfo] = useState<{ source: string; bars: number; error: string | null }>({
    source: '',
    bars: 0,
    error: null,
  });
  const loadingOlder = useRef(false);
  const hasMoreBefore = useRef(false);

  useEffect(() => {
    if (!selected) return;
    let isCurrent = true;
    const api = getApi();
    hasMoreBefore.current = false;
    void api.market
      .candles({ venue: selected.venue, symbol: selected.symbol, timeframe, limit: PAGE_BARS, fromEnd: true })
      .then((reply) => {
        if (!isCurrent) return;
        if (!reply.ok) {
          chartRef.current?.setBars([]);
          setInfo({ source: '', bars: 0, error: reply.error.message });
          return;
        }
        const bars = toBars(reply.value);
        chartRef.current?.setBars(bars);
        hasMoreBefore.current = reply.value.hasMoreBefore;
        setInfo({ source: reply.value.source, bars: bars.length, error: null });
        const last = bars[bars.length - 1];
        if (liveLabelRef.current && last)
          liveLabelRef.current.textContent = `${fmtTime(last.timeMs)} close ${last.close}`;
      });
    // Live ticks go straight into the series; React does not re-render per update.
    const off = api.on('market:bar', (updates) => {
      for (const u of updates) {
        if (u.venue !== selected.venue || u.symbol !== selected.symbol || u.timeframe !== timeframe) continue;
        const bar = {
          timeMs: u.bar.time,
          open: u.bar.open,
          high: u.bar.high,
          low: u.bar.low,
          close: u.bar.close,
          volume: u.bar.volume,
        };
        chartRef.current?.updateBar(bar);
        const el = liveLabelRef.current;
        if (el) {
          el.textContent = `${fmtTime(bar.timeMs)} close ${bar.close}`;
          el.dataset.updates = String(Number(el.dataset.updates ?? '0') + 1);
        }
      }
    });
    return () => {
      isCurrent = false;
      off();
    };
  }, [selected, timeframe]);

  // Fill markers for the selected symbol.
  useEffect(() => {
    if (!selected) return;
    const markers: ChartMarker[] = fills
      .filter((f) => f.symbol === selected.symbol)
      .map((f) => ({
        id: f.clientOrderId,
        timeMs: Math.floor(f.tsMs / 60_000) * 60_000,
        position: f.side === 'buy' ? 'belowBar' : 'aboveBar',
        shape: f.side === 'buy' ? 'arrowUp' : 'arrowDown',
        color: f.side === 'buy' ? '#26a69a' : '#ef5350',
        text: `${f.side} ${f.quantity}`,
      }));
    chartRef.current?.setMarkers(markers);
  }, [fills, selected]);

  // Other panels (backtest trades, explanations) ask the chart to show a time.
  useEffect(() => chartBus.onScrollTo((timeMs) => chartRef.current?.scrollToTime(timeMs)), []);

  const loadOlder = (oldestMs: number) => {
    if (!selected || loadingOlder.current || !hasMoreBefore.current) return;
    loadingOlder.current = true;
    void getApi()
      .market.candles({
        venue: selected.venue,
        symbol: selected.symbol,
        timeframe,
        toMs: oldestMs,
        limit: PAGE_BARS,
        fromEnd: true,
      })
      .then((reply) => {
        loadingOlder.current = false;
        if (!reply.ok) return;
        hasMoreBefore.current = reply.value.hasMoreBefore;
        const older = toBars({ ...reply.value, forming: null });
        chartRef.current?.prependBars(older);
        setInfo((i) => ({ ...i, bars: chartRef.current?.barCount() ?? i.bars }));
      });
  };

  return (
    <div className="panel-body chart-panel" data-testid="chart-panel">
      <div className="row">
        <strong data-testid="chart-symbol">
          {selected ? `${selected.symbol} · ${selected.venue}` : 'No symbol'}
        </strong>
        <span role="group" aria-label="Timeframe">
          {TIMEFRAMES.map((tf) => (
            <button
              key={tf}
              type="button"
              data-testid={`timeframe-${tf}`}
              className={tf === timeframe ? 'selected-tf' : ''}
              aria-pressed={tf === timeframe}
              onClick={() => setTimeframe(tf as Timeframe)}
            >
              {tf}
            </button>
          ))}
        </span>
        <span className="muted" data-testid="chart-info" data-source={info.source} data-bars={info.bars}>
          {info.error ? '' : `${info.bars} bars (${info.source})`}
        </span>
        <span className="muted" ref={liveLabelRef} data-testid="chart-last-bar" />
      </div>
      {info.error && (
        <p className="bad" data-testid="chart-error">
          {info.error}
        </p>
      )}
      <div className="crosshair muted" data-testid="chart-crosshair">
        {hover
          ? `${fmtTime(hover.timeMs)}  O ${hover.open}  H ${hover.high}  L ${hover.low}  C ${hover.close}  V ${Number(hover.volume.toPrecision(6))}`
          : 'Move over the chart for OHLCV'}
      </div>
      <div className="chart-host">
        <CandleChart
          ref={chartRef}
          theme={theme}
          onCrosshair={setHover}
          onNeedOlder={loadOlder}
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
