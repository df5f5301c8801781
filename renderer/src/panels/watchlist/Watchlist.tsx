import { useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import { useChartSelection } from '../chart/selection.ts';
import { VenuesSection } from './VenuesSection.tsx';
import type { FeedState, Ticker } from '../../../../shared/market.ts';

interface Row {
  key: string;
  /** The demo venue's symbols go by their name alone; other venues' as `venue:symbol`. */
  testId: string;
  venue: string;
  symbol: string;
  ticker: Ticker | null;
  state: FeedState | null;
}

function formatPrice(value: number): string {
  const digits = value >= 1000 ? 2 : value >= 10 ? 3 : 5;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * Symbols of the connected feeds with last price, change against the price 24 h ago, and the feed
 * state. Tickers arrive at most 4 times a second (the engine throttles market:ticks), so React
 * state is fine here; chart ticks bypass React.
 */
export function Watchlist() {
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState<string | null>(null);
  const selected = useChartSelection((s) => `${s.venue}:${s.symbol}`);
  const select = useChartSelection((s) => s.select);

  useEffect(() => {
    const api = getApi();
    let isActive = true;
    const tickers = new Map<string, Ticker>();
    const states = new Map<string, FeedState>();
    let symbols: { venue: string; symbol: string }[] = [];
    const render = (): void => {
      if (!isActive) return;
      setRows(
        symbols.map((s) => {
          const key = `${s.venue}:${s.symbol}`;
          return {
            key,
            testId: s.venue === 'demo' ? s.symbol : key,
            venue: s.venue,
            symbol: s.symbol,
            ticker: tickers.get(key) ?? null,
            state: states.get(key) ?? null,
          };
        }),
      );
    };
    const load = (): void => {
      void api.market.symbols({}).then((reply) => {
        if (!reply.ok) {
          setError(reply.error.message);
          return;
        }
        setError(null);
        symbols = reply.value.symbols;
        for (const t of reply.value.tickers) tickers.set(`${t.venue}:${t.symbol}`, t);
        render();
      });
      void api.market.health({}).then((reply) => {
        if (reply.ok) for (const h of reply.value.feeds) states.set(`${h.venue}:${h.symbol}`, h.state);
        render();
      });
    };
    load();
    // A venue connected or disconnected (here or restored at start): its symbols join or leave.
    const offVenues = api.on('venues:changed', load);
    const offTicks = api.on('market:ticks', (payload) => {
      for (const t of payload.tickers) tickers.set(`${t.venue}:${t.symbol}`, t);
      render();
    });
    const offHealth = api.on('market:health', (payload) => {
      for (const h of payload.feeds) states.set(`${h.venue}:${h.symbol}`, h.state);
      render();
    });
    return () => {
      isActive = false;
      offTicks();
      offHealth();
      offVenues();
    };
  }, []);

  return (
    <div className="panel-body" data-testid="watchlist">
      <VenuesSection />
      {error && <p className="bad">{error}</p>}
      <table className="grid">
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Last</th>
            <th className="num">24h</th>
            <th className="num">Bid</th>
            <th className="num">Ask</th>
            <th>Feed</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const t = r.ticker;
            const change = t && t.referencePrice > 0 ? (t.last / t.referencePrice - 1) * 100 : null;
            return (
              <tr
                key={r.key}
                className={`clickable ${selected === r.key ? 'selected' : ''}`}
                data-testid={`watch-row-${r.testId}`}
                onClick={() => select(r.venue, r.symbol)}
              >
                <td>
                  {r.symbol} <span className="muted">{r.venue}</span>
                </td>
                <td className="num" data-testid={`watch-last-${r.testId}`}>
                  {t ? formatPrice(t.last) : '–'}
                </td>
                <td className={`num ${change === null ? '' : change >= 0 ? 'good' : 'bad'}`}>
                  {change === null ? '–' : `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`}
                </td>
                <td className="num">{t ? formatPrice(t.bid) : '–'}</td>
                <td className="num">{t ? formatPrice(t.ask) : '–'}</td>
                <td>
                  <span
                    className={`pill ${r.state === 'live' ? 'good' : r.state === 'stale' || r.state === 'failed' ? 'bad' : 'warn'}`}
                    data-testid={`watch-state-${r.testId}`}
                  >
                    {r.state ?? 'unknown'}
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
