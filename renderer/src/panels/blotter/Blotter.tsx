import { useState } from 'react';
import { getApi } from '../../api.ts';
import { useTradingStore, type OrderView } from '../../trading/trading-store.ts';
import { isWorkingOrderState } from '../../../../shared/trading.ts';

const money = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Working orders (cancel, cancel all), fills, positions with live P&L and the account summary. */
export function Blotter() {
  const orders = useTradingStore((s) => s.orders);
  const fills = useTradingStore((s) => s.fills);
  const portfolio = useTradingStore((s) => s.portfolio);
  const focused = useTradingStore((s) => s.focusedOrderId);
  const loadError = useTradingStore((s) => s.loadError);
  const [message, setMessage] = useState<string | null>(null);
  const all = Object.values(orders).sort((a, b) => b.updatedMs - a.updatedMs);
  const working = all.filter((o) => isWorkingOrderState(o.state));

  const cancel = async (o: OrderView) => {
    const reply = await getApi().orders.cancel({ clientOrderId: o.clientOrderId });
    setMessage(reply.ok ? `Cancel requested for ${o.clientOrderId}` : reply.error.message);
  };
  const cancelAll = async () => {
    const reply = await getApi().orders.cancelAll({});
    setMessage(reply.ok ? `Cancel requested for ${reply.value.requested} order(s)` : reply.error.message);
  };

  return (
    <div className="panel-body" data-testid="blotter">
      {loadError && <p className="bad">{loadError}</p>}
      {portfolio && (
        <table className="kv account" data-testid="account-summary">
          <tbody>
            <tr>
              <th>Equity</th>
              <td data-testid="account-equity">
                {money(portfolio.account.equity)} {portfolio.account.currency}
              </td>
              <th>Cash</th>
              <td data-testid="account-cash">{money(portfolio.account.cash)}</td>
              <th>Available</th>
              <td>{money(portfolio.account.availableBalance)}</td>
            </tr>
            <tr>
              <th>Realised P&amp;L</th>
              <td className={portfolio.account.realisedPnl >= 0 ? 'good' : 'bad'}>{money(portfolio.account.realisedPnl)}</td>
              <th>Unrealised P&amp;L</th>
              <td className={portfolio.account.unrealisedPnl >= 0 ? 'good' : 'bad'} data-testid="account-unrealised">
                {money(portfolio.account.unrealisedPnl)}
              </td>
              <th>Fees</th>
              <td>{money(portfolio.account.feesPaid)}</td>
            </tr>
          </tbody>
        </table>
      )}
      <h3>
        Working orders ({working.length}){' '}
        <button type="button" data-testid="cancel-all" disabled={working.length === 0} onClick={() => void cancelAll()}>
          Cancel all
        </button>
      </h3>
      {message && <p className="muted" data-testid="blotter-message">{message}</p>}
      <table className="grid" data-testid="working-orders">
        <thead>
          <tr>
            <th>Time</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>Type</th>
            <th className="num">Qty</th>
            <th className="num">Filled</th>
            <th className="num">Price</th>
            <th>State</th>
            <th>Strategy</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {working.map((o) => (
            <tr key={o.clientOrderId} data-testid="working-order" className={focused === o.clientOrderId ? 'selected' : ''}>
              <td>{time(o.createdMs)}</td>
              <td>{o.symbol}</td>
              <td className={o.side === 'buy' ? 'good' : 'bad'}>{o.side}</td>
              <td>{o.type}</td>
              <td className="num">{o.quantity}</td>
              <td className="num">{o.filledQuantity}</td>
              <td className="num">{o.price ?? o.stopPrice ?? 'mkt'}</td>
              <td data-testid="order-state">{o.state}</td>
              <td>{o.strategyId}</td>
              <td>
                <button type="button" data-testid="cancel-order" onClick={() => void cancel(o)}>
                  Cancel
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Positions</h3>
      <table className="grid" data-testid="positions">
        <thead>
          <tr>
            <th>Symbol</th>
            <th>Strategy</th>
            <th className="num">Qty</th>
            <th className="num">Avg price</th>
            <th className="num">Mark</th>
            <th className="num">Unrealised</th>
            <th className="num">Realised</th>
          </tr>
        </thead>
        <tbody>
          {(portfolio?.positions ?? [])
            .filter((p) => p.quantity !== 0 || p.realisedPnl !== 0)
            .map((p) => (
              <tr key={`${p.symbol}|${p.strategyId}`} data-testid="position-row">
                <td>{p.symbol}</td>
                <td>{p.strategyId}</td>
                <td className="num" data-testid="position-quantity">
                  {p.quantity}
                </td>
                <td className="num">{money(p.averagePrice)}</td>
                <td className="num">{money(p.markPrice)}</td>
                <td className={`num ${p.unrealisedPnl >= 0 ? 'good' : 'bad'}`}>{money(p.unrealisedPnl)}</td>
                <td className={`num ${p.realisedPnl >= 0 ? 'good' : 'bad'}`}>{money(p.realisedPnl)}</td>
              </tr>
            ))}
        </tbody>
      </table>
      <h3>Fills</h3>
      <table className="grid" data-testid="fills">
        <thead>
          <tr>
            <th>Time</th>
            <th>Symbol</th>
            <th>Side</th>
            <th className="num">Qty</th>
            <th className="num">Price</th>
            <th className="num">Fee</th>
            <th>Order</th>
          </tr>
        </thead>
        <tbody>
          {fills.slice(0, 100).map((f) => (
            <tr key={f.fillId} data-testid="fill-row" className={focused === f.clientOrderId ? 'selected' : ''}>
              <td>{time(f.tsMs)}</td>
              <td>{f.symbol}</td>
              <td className={f.side === 'buy' ? 'good' : 'bad'}>{f.side}</td>
              <td className="num">{f.quantity}</td>
              <td className="num">{money(f.price)}</td>
              <td className="num">
                {f.fee.toPrecision(4)} {f.feeCurrency}
              </td>
              <td className="muted">{f.clientOrderId}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Recent orders</h3>
      <table className="grid" data-testid="recent-orders">
        <tbody>
          {all.slice(0, 50).map((o) => (
            <tr key={o.clientOrderId} data-testid="recent-order">
              <td>{time(o.updatedMs)}</td>
              <td>{o.symbol}</td>
              <td>{o.side}</td>
              <td>{o.type}</td>
              <td className="num">{o.quantity}</td>
              <td>{o.state}</td>
              <td className="muted">{o.message ?? o.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
