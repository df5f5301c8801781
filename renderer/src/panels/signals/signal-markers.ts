import type { ChartMarker } from '../../components/CandleChart.tsx';
import type { Signal } from '../../../../shared/contract/strategies.ts';
import { useStrategiesStore } from '../../trading/strategies-store.ts';
import { chartBus } from '../chart/chart-bus.ts';

/** Chart marker ids of signals carry this prefix; fill markers use the bare client order id. */
const PREFIX = 'signal:';

/**
 * Signal markers for one symbol's chart: circles (fills are arrows), on the bar the decision was
 * made on, blue for buys and amber for sells, grey when the order was not sent.
 */
export function signalMarkers(signals: readonly Signal[], symbol: string, stepMs: number): ChartMarker[] {
  const markers: ChartMarker[] = [];
  for (const s of signals) {
    if (s.symbol !== symbol) continue;
    const isSent = s.outcome === 'sent';
    markers.push({
      id: `${PREFIX}${s.signalId}`,
      timeMs: Math.floor(s.barTimeMs / stepMs) * stepMs,
      // Opposite the fill arrows (buys below, sells above), so a signal and the fill it led to on
      // the next bar never cover each other where bars are only a few pixels apart.
      position: s.side === 'buy' ? 'aboveBar' : 'belowBar',
      shape: 'circle',
      color: !isSent ? '#8a8f98' : s.side === 'buy' ? '#2962ff' : '#ff9800',
      text: `${s.role} ${s.side}${isSent ? '' : ` (${s.outcome})`}`,
    });
  }
  return markers;
}

/** The signal id behind a chart marker id, or null for a fill marker. */
export function signalIdOfMarker(markerId: string): string | null {
  return markerId.startsWith(PREFIX) ? markerId.slice(PREFIX.length) : null;
}

/** Selects a signal and brings the Signals view forward (a click on a signal marker). */
export function showSignal(signalId: string): void {
  useStrategiesStore.getState().selectSignal(signalId);
  chartBus.openPanel('signals');
}
