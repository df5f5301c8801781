import { useTradingStore } from '../../trading/trading-store.ts';

/** Symbols of the connected feeds with last price, change against the 24 h reference, and feed state. */
export function Watchlist() {
  const symbols = useTradingStore((s) => s.symbols);
  const tickers = useTradingStore((s) => s.tickers);
  const health = useTradingStore((s) => s.health);
  const selected = useTradingStore((s) => s.selected);
  const select = useTradingStore((s) => s.select);
  return (
    <div className="panel-body" data-testid="watchlist">
      <table className="grid">
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Last</th>
            <th className="num">Change</th>
            <th className="num">Bid</th>
            <th className="num">Ask</th>
            <th>Feed</th>
          </tr>
        </thead>
        <tbody>
          {symbols.map((s) => {
            const key = `${s.venue}|${s.symbol}`;
            const t = tickers[key];
            const h = health[key];
            const change = t && t.referencePrice > 0 ? (t.last / t.referencePrice - 1) * 100 : null;
            const isSelected = selected?.venue === s.venue && selected.symbol === s.symbol;
            return (
              <tr
                key={key}
                data-testid="watchlist-row"
                data-symbol={s.symbol}
                className={`clickable ${isSelected ? 'selected' : ''}`}
                onClick={() => select(s.venue, s.symbol)}
              >
                <td>
                  {s.symbol} <span className="muted">{s.venue}</span>
                </td>
                <td className="num" data-testid="watchlist-last">
                  {t ? t.last : '–'}
                </td>
                <td className={`num ${change === null ? '' : change >= 0 ? 'good' : 'bad'}`}>
                  {change === null ? '–' : `${change >= 0 ? '+' : ''}${change.toFixed(2)}%`}
                </td>
                <td className="num">{t ? t.bid : '–'}</td>
                <td className="num">{t ? t.ask : '–'}</td>
                <td
                  className={h?.state === 'live' ? 'good' : 'warn'}
                  data-testid="watchlist-feed-state"
                  title={h?.message ?? ''}
                >
                  {h ? h.state : '–'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
