import { useMemo, useState } from 'react';
import { getApi } from '../../api.ts';
import { useTradingStore, type OrderView, type PortfolioView } from '../../trading/trading-store.ts';
import { SortableTable, type Column } from '../../components/SortableTable.tsx';
import { isWorkingOrderState, type Fill } from '../../../../shared/trading.ts';

const money = (v: number) =>
  v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const sideClass = (row: { side: string }) => (row.side === 'buy' ? 'good' : 'bad');
const pnlClass = (v: number) => (v >= 0 ? 'good' : 'bad');

type Position = PortfolioView['positions'][number];

const POSITION_COLUMNS: Column<Position>[] = [
  { key: 'symbol', header: 'Symbol', value: (p) => p.symbol },
  { key: 'strategy', header: 'Strategy', value: (p) => p.strategyId },
  {
    key: 'quantity',
    header: 'Qty',
    value: (p) => p.quantity,
    render: (p) => p.quantity,
    isNumeric: true,
    cellTestId: 'position-quantity',
  },
  {
    key: 'avg',
    header: 'Avg price',
    value: (p) => p.averagePrice,
    render: (p) => money(p.averagePrice),
    isNumeric: true,
  },
  {
    key: 'mark',
    header: 'Mark',
    value: (p) => p.markPrice,
    render: (p) => money(p.markPrice),
    isNumeric: true,
  },
  {
    key: 'unrealised',
    header: 'Unrealised',
    value: (p) => p.unrealisedPnl,
    render: (p) => money(p.unrealisedPnl),
    isNumeric: true,
    cellClass: (p) => pnlClass(p.unrealisedPnl),
  },
  {
    key: 'realised',
    header: 'Realised',
    value: (p) => p.realisedPnl,
    render: (p) => money(p.realisedPnl),
    isNumeric: true,
    cellClass: (p) => pnlClass(p.realisedPnl),
  },
];

const FILL_COLUMNS: Column<Fill>[] = [
  { key: 'time', header: 'Time', value: (f) => f.tsMs, render: (f) => time(f.tsMs) },
  { key: 'symbol', header: 'Symbol', value: (f) => f.symbol },
  { key: 'side', header: 'Side', value: (f) => f.side, cellClass: sideClass },
  { key: 'quantity', header: 'Qty', value: (f) => f.quantity, render: (f) => f.quantity, isNumeric: true },
  { key: 'price', header: 'Price', value: (f) => f.price, render: (f) => money(f.price), isNumeric: true },
  {
    key: 'fee',
    header: 'Fee',
    value: (f) => f.fee,
    render: (f) => `${f.fee.toPrecision(4)} ${f.feeCurrency}`,
    isNumeric: true,
  },
  { key: 'order', header: 'Order', value: (f) => f.clientOrderId, cellClass: () => 'muted' },
];

const RECENT_COLUMNS: Column<OrderView>[] = [
  { key: 'time', header: 'Updated', value: (o) => o.updatedMs, render: (o) => time(o.updatedMs) },
  { key: 'symbol', header: 'Symbol', value: (o) => o.symbol },
  { key: 'side', header: 'Side', value: (o) => o.side },
  { key: 'type', header: 'Type', value: (o) => o.type },
  { key: 'quantity', header: 'Qty', value: (o) => o.quantity, render: (o) => o.quantity, isNumeric: true },
  { key: 'state', header: 'State', value: (o) => o.state },
  { key: 'message', header: 'Message', value: (o) => o.message ?? o.reason, cellClass: () => 'muted' },
];

/** Working orders (cancel, cancel all), fills, positions with live P&L and the account summary. */
export function Blotter() {
  const orders = useTradingStore((s) => s.orders);
  const fills = useTradingStore((s) => s.fills);
  const portfolio = useTradingStore((s) => s.portfolio);
  const focused = useTradingStore((s) => s.focusedOrderId);
  const loadError = useTradingStore((s) => s.loadError);
  const [message, setMessage] = useState<string | null>(null);
  const all = useMemo(() => Object.values(orders), [orders]);
  const working = useMemo(() => all.filter((o) => isWorkingOrderState(o.state)), [all]);
  // The fill of the focused order (a chart marker click) is highlighted too.
  const focusedFill = fills.find((f) => f.clientOrderId === focused)?.fillId ?? null;

  const cancel = async (o: OrderView) => {
    const reply = await getApi().orders.cancel({ clientOrderId: o.clientOrderId });
    setMessage(reply.ok ? `Cancel requested for ${o.clientOrderId}` : reply.error.message);
  };
  const workingColumns = useMemo<Column<OrderView>[]>(
    () => [
      { key: 'time', header: 'Time', value: (o) => o.createdMs, render: (o) => time(o.createdMs) },
      { key: 'symbol', header: 'Symbol', value: (o) => o.symbol },
      { key: 'side', header: 'Side', value: (o) => o.side, cellClass: sideClass },
      { key: 'type', header: 'Type', value: (o) => o.type },
      {
        key: 'quantity',
        header: 'Qty',
        value: (o) => o.quantity,
        render: (o) => o.quantity,
        isNumeric: true,
      },
      {
        key: 'filled',
        header: 'Filled',
        value: (o) => o.filledQuantity,
        render: (o) => o.filledQuantity,
        isNumeric: true,
      },
      {
        key: 'price',
        header: 'Price',
        value: (o) => o.price ?? o.stopPrice,
        render: (o) => o.price ?? o.stopPrice ?? 'mkt',
        isNumeric: true,
      },
      { key: 'state', header: 'State', value: (o) => o.state, cellTestId: 'order-state' },
      { key: 'strategy', header: 'Strategy', value: (o) => o.strategyId },
      {
        key: 'cancel',
        header: '',
        value: () => null,
        isUnsortable: true,
        render: (o) => (
          <button type="button" data-testid="cancel-order" onClick={() => void cancel(o)}>
            Cancel
          </button>
        ),
      },
    ],
    // cancel only reads setMessage (stable) and the api.
    [],
  );
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
              <td className={portfolio.account.realisedPnl >= 0 ? 'good' : 'bad'}>
                {money(portfolio.account.realisedPnl)}
              </td>
              <th>Unrealised P&amp;L</th>
              <td
                className={portfolio.account.unrealisedPnl >= 0 ? 'good' : 'bad'}
                data-testid="account-unrealised"
              >
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
        <button
          type="button"
          data-testid="cancel-all"
          disabled={working.length === 0}
          onClick={() => void cancelAll()}
        >
          Cancel all
        </button>
      </h3>
      {message && (
        <p className="muted" data-testid="blotter-message">
          {message}
        </p>
      )}
      <SortableTable
        testId="working-orders"
        rowTestId="working-order"
        rows={working}
        columns={workingColumns}
        rowKey={(o) => o.clientOrderId}
        selectedKey={focused}
        initialSort={{ key: 'time', isDescending: true }}
      />
      <h3>Positions</h3>
      <SortableTable
        testId="positions"
        rowTestId="position-row"
        rows={(portfolio?.positions ?? []).filter((p) => p.quantity !== 0 || p.realisedPnl !== 0)}
        columns={POSITION_COLUMNS}
        rowKey={(p) => `${p.symbol}|${p.strategyId}`}
      />
      <h3>Fills</h3>
      <SortableTable
        testId="fills"
        rowTestId="fill-row"
        rows={fills}
        columns={FILL_COLUMNS}
        rowKey={(f) => f.fillId}
        selectedKey={focusedFill}
        initialSort={{ key: 'time', isDescending: true }}
        maxRows={100}
      />
      <h3>Recent orders</h3>
      <SortableTable
        testId="recent-orders"
        rowTestId="recent-order"
        rows={all}
        columns={RECENT_COLUMNS}
        rowKey={(o) => o.clientOrderId}
        initialSort={{ key: 'time', isDescending: true }}
        maxRows={50}
      />
    </div>
  );
}
