import { create } from 'zustand';
import type { VantageApi } from '../../../shared/client.ts';
import type { ResponseOf, StreamPayloadOf } from '../../../shared/contract/index.ts';
import { startStrategiesSync } from './strategies-store.ts';

export type OrderView = ResponseOf<'orders:cancel'>;
export type FillView = ResponseOf<'orders:list'>['fills'][number];
export type PortfolioView = ResponseOf<'portfolio:get'>;
export type RiskView = ResponseOf<'risk:limits'>;
export type AlertView = StreamPayloadOf<'alerts:raised'>;
export type TickerView = StreamPayloadOf<'market:ticks'>['tickers'][number];

export interface TradingState {
  orders: Record<string, OrderView>;
  fills: FillView[];
  portfolio: PortfolioView | null;
  risk: RiskView | null;
  alerts: AlertView[];
  tickers: Record<string, TickerView>;
  /** Symbols known to the feeds, `venue|symbol`. */
  symbols: { venue: string; symbol: string }[];
  /** Where a fill marker click should lead (blotter/audit highlight). */
  focusedOrderId: string | null;
  isTicketOpen: boolean;
  /** Bumped by the kill-switch shortcut; the risk panel then asks for confirmation. */
  killRequest: number;
  loadError: string | null;
  focusOrder(id: string | null): void;
  setTicketOpen(isOpen: boolean): void;
}

export const useTradingStore = create<TradingState>((set) => ({
  orders: {},
  fills: [],
  portfolio: null,
  risk: null,
  alerts: [],
  tickers: {},
  symbols: [],
  focusedOrderId: null,
  isTicketOpen: false,
  killRequest: 0,
  loadError: null,
  focusOrder: (focusedOrderId) => set({ focusedOrderId }),
  setTicketOpen: (isTicketOpen) => set({ isTicketOpen }),
}));

const MAX_FILLS = 500;
const MAX_ALERTS = 200;

/** Loads the trading state once and keeps it current from the engine's streams. Returns a stop function. */
export function startTradingSync(api: VantageApi): () => void {
  const store = useTradingStore;
  const offs: (() => void)[] = [];
  const tickerKey = (t: { venue: string; symbol: string }) => `${t.venue}|${t.symbol}`;

  void api.market.symbols({}).then((reply) => {
    if (!reply.ok) return;
    const tickers: Record<string, TickerView> = {};
    for (const t of reply.value.tickers) tickers[tickerKey(t)] = t;
    store.setState((s) => ({
      symbols: reply.value.symbols,
      tickers: { ...s.tickers, ...tickers },
    }));
  });
  const reloadOrders = () =>
    void api.orders.list({ scope: 'recent', limit: 500 }).then((reply) => {
      if (!reply.ok) {
        store.setState({ loadError: reply.error.message });
        return;
      }
      const orders: Record<string, OrderView> = {};
      for (const o of reply.value.orders) orders[o.clientOrderId] = o;
      store.setState({ orders, fills: reply.value.fills.slice(0, MAX_FILLS), loadError: null });
    });
  reloadOrders();
  void api.portfolio.get({}).then((reply) => reply.ok && store.setState({ portfolio: reply.value }));
  void api.risk.limits({}).then((reply) => reply.ok && store.setState({ risk: reply.value }));

  offs.push(
    api.on('market:ticks', (payload) =>
      store.setState((s) => {
        const tickers = { ...s.tickers };
        for (const t of payload.tickers) tickers[tickerKey(t)] = t;
        return { tickers };
      }),
    ),
    api.on('orders:changed', (changes) => {
      let hasFill = false;
      store.setState((s) => {
        const orders = { ...s.orders };
        for (const o of changes) {
          const before = orders[o.clientOrderId];
          if (!before || o.filledQuantity > before.filledQuantity) hasFill ||= o.filledQuantity > 0;
          orders[o.clientOrderId] = o;
        }
        return { orders };
      });
      // Fills carry their own ids and fees: reload them when an order filled more.
      if (hasFill) {
        void api.orders.list({ scope: 'recent', limit: 500 }).then((reply) => {
          if (reply.ok) store.setState({ fills: reply.value.fills.slice(0, MAX_FILLS) });
        });
      }
    }),
    api.on('portfolio:changed', (portfolio) => store.setState({ portfolio })),
    api.on('risk:changed', (risk) => store.setState({ risk })),
    api.on('alerts:raised', (alerts) =>
      store.setState((s) => ({ alerts: [...alerts.reverse(), ...s.alerts].slice(0, MAX_ALERTS) })),
    ),
  );
  // Running strategies and their signals (Strategies and Signals panels, chart signal markers).
  offs.push(startStrategiesSync(api));
  return () => offs.forEach((off) => off());
}

export function lastPrice(state: TradingState, symbol: string): number | null {
  for (const t of Object.values(state.tickers)) if (t.symbol === symbol) return t.last;
  return null;
}
