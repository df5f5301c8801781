import { describe, expect, it } from 'vitest';
import { showSignal, signalIdOfMarker, signalMarkers } from './signal-markers.ts';
import { useStrategiesStore } from '../../trading/strategies-store.ts';
import { chartBus } from '../chart/chart-bus.ts';
import type { Signal } from '../../../../shared/contract/strategies.ts';

const MINUTE = 60_000;

function signal(overrides: Partial<Signal>): Signal {
  return {
    signalId: 'signal-1',
    auditSeq: 1,
    tsMs: 0,
    strategyId: 'rules-BTC-USDT-1',
    builtin: 'rules',
    symbol: 'BTC/USDT',
    barTimeMs: 0,
    role: 'entry',
    side: 'buy',
    type: 'market',
    quantity: 0.01,
    reason: '',
    outcome: 'sent',
    clientOrderId: 'c1',
    message: null,
    prediction: null,
    ...overrides,
  };
}

describe('signal markers on the chart', () => {
  it("marks only the chart's symbol, on the chart bar that holds the decision bar", () => {
    const markers = signalMarkers(
      [
        signal({ signalId: 'signal-1', barTimeMs: 7 * MINUTE }),
        signal({ signalId: 'signal-2', symbol: 'ETH/USDT', barTimeMs: 7 * MINUTE }),
      ],
      'BTC/USDT',
      5 * MINUTE,
    );
    expect(markers).toHaveLength(1);
    expect(markers[0]!.timeMs).toBe(5 * MINUTE);
    expect(signalIdOfMarker(markers[0]!.id)).toBe('signal-1');
  });

  it('draws circles on the other side of the bar from the fill arrows, grey when the order was not sent', () => {
    const [buy, sell, rejected] = signalMarkers(
      [
        signal({ signalId: 'a', side: 'buy' }),
        signal({ signalId: 'b', side: 'sell' }),
        signal({ signalId: 'c', outcome: 'risk-rejected' }),
      ],
      'BTC/USDT',
      MINUTE,
    );
    // Fill arrows: buys below the bar, sells above.
    expect(buy).toMatchObject({ shape: 'circle', position: 'aboveBar' });
    expect(sell).toMatchObject({ shape: 'circle', position: 'belowBar' });
    expect(rejected!.color).not.toBe(buy!.color);
    expect(rejected!.text).toContain('risk-rejected');
  });

  it('tells fill markers (client order ids) from signal markers', () => {
    expect(signalIdOfMarker('vt_tp21x0_1')).toBeNull();
    expect(signalIdOfMarker('signal:signal-42')).toBe('signal-42');
  });

  it('a click on a signal marker selects the signal and asks for the Signals panel', () => {
    const opened: string[] = [];
    const off = chartBus.onOpenPanel((id) => opened.push(id));
    showSignal('signal-42');
    off();
    expect(useStrategiesStore.getState().selectedSignalId).toBe('signal-42');
    expect(opened).toEqual(['signals']);
  });
});
