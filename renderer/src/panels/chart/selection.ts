import { create } from 'zustand';
import type { Timeframe } from '../../../../shared/market.ts';

/** Which series the chart shows; the watchlist and the data manager set it. */
export interface ChartSelection {
  venue: string;
  symbol: string;
  timeframe: Timeframe;
  select(venue: string, symbol: string): void;
  selectSeries(venue: string, symbol: string, timeframe: Timeframe): void;
  setTimeframe(timeframe: Timeframe): void;
}

export const useChartSelection = create<ChartSelection>((set) => ({
  venue: 'demo',
  symbol: 'BTC/USDT',
  timeframe: '1m',
  select: (venue, symbol) => set({ venue, symbol }),
  selectSeries: (venue, symbol, timeframe) => set({ venue, symbol, timeframe }),
  setTimeframe: (timeframe) => set({ timeframe }),
}));
