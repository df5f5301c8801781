import { useEffect, useMemo, useRef, useState } from 'react';
import { getApi } from '../../api.ts';
import { lastPrice, useTradingStore } from '../../trading/trading-store.ts';
import { useChartSelection } from '../chart/selection.ts';
import type { RequestOf, ResponseOf } from '../../../../shared/contract/index.ts';
import {
  ORDER_TYPES,
  TIME_IN_FORCE,
  type OrderSide,
  type OrderType,
  type TimeInForce,
} from '../../../../shared/trading.ts';

type Intent = RequestOf<'orders:submit'>;
type Preview = ResponseOf<'orders:preview'>;

/** Orders above this notional (quote currency) ask for confirmation before they are sent. */
export const CONFIRM_NOTIONAL = 10_000;

const needsPrice = (t: OrderType) => t === 'limit' || t === 'stop-limit';
const needsStop = (t: OrderType) => t === 'stop' || t === 'stop-limit' || t === 'take-profit';

function parsePositive(text: string): number | null {
  if (text.trim() === '') return null;
  const v = Number(text);
  return Number.isFinite(v) && v > 0 ? v : null;
}

/** The PM's order ticket: every order passes the same risk checks as a strategy's, shown live before submit. */
export function OrderTicket() {
  const symbols = useTradingStore((s) => s.symbols);
  const selectedVenue = useChartSelection((s) => s.venue);
  const selectedSymbol = useChartSelection((s) => s.symbol);
  const select = useChartSelection((s) => s.select);
  const selected = { venue: selectedVenue, symbol: selectedSymbol };
  const isTicketOpen = useTradingStore((s) => s.isTicketOpen);
  const setTicketOpen = useTradingStore((s) => s.setTicketOpen);
  const price = useTradingStore((s) => lastPrice(s, selectedSymbol));
  const [side, setSide] = useState<OrderSide>('buy');
  const [type, setType] = useState<OrderType>('market');
  const [sizeMode, setSizeMode] = useState<'quantity' | 'notional'>('quantity');
  const [sizeText, setSizeText] = useState('');
  const [priceText, setPriceText] = useState('');
  const [stopText, setStopText] = useState('');
  const [trailingPctText, setTrailingPctText] = useState('1');
  const [tif, setTif] = useState<TimeInForce>('GTC');
  const [isPostOnly, setPostOnly] = useState(false);
  const [isReduceOnly, setReduceOnly] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [result, setResult] = useState<{ isOk: boolean; text: string } | null>(null);
  const [isConfirming, setConfirming] = useState(false);
  const [isSending, setSending] = useState(false);
  const sizeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (isTicketOpen) {
      sizeRef.current?.focus();
      setTicketOpen(false);
    }
  }, [isTicketOpen, setTicketOpen]);

  const symbol = selectedSymbol;
  const size = parsePositive(sizeText);
  const limitPrice = parsePositive(priceText);
  const referencePrice = limitPrice ?? price;
  const quantity =
    size === null ? null : sizeMode === 'quantity' ? size : referencePrice ? size / referencePrice : null;

  const intent: Intent | null = useMemo(() => {
    if (!symbol || quantity === null || !(quantity > 0)) return null;
    const base: Intent = { symbol, side, type, quantity, tif, reason: 'manual ticket', strategyId: 'manual' };
    if (needsPrice(type)) {
      if (limitPrice === null) return null;
      base.price = limitPrice;
    }
    if (needsStop(type)) {
      const stop = parsePositive(stopText);
      if (stop === null) return null;
      base.stopPrice = stop;
    }
    if (type === 'trailing-stop') {
      const pct = parsePositive(trailingPctText);
      if (pct === null || pct >= 100) return null;
      base.trailing = { offsetFraction: pct / 100 };
    }
    if (isPostOnly) base.isPostOnly = true;
    if (isReduceOnly) base.isReduceOnly = true;
    return base;
  }, [symbol, quantity, side, type, tif, limitPrice, stopText, trailingPctText, isPostOnly, isReduceOnly]);

  // Live risk preview, debounced so typing does not flood the engine.
  useEffect(() => {
    if (!intent) {
      setPreview(null);
      setPreviewError(null);
      return;
    }
    let isCurrent = true;
    const timer = setTimeout(() => {
      void getApi()
        .orders.preview(intent)
        .then((reply) => {
          if (!isCurrent) return;
          if (reply.ok) {
            setPreview(reply.value);
            setPreviewError(null);
          } else {
            setPreview(null);
            setPreviewError(reply.error.message);
          }
        });
    }, 150);
    return () => {
      isCurrent = false;
      clearTimeout(timer);
    };
  }, [intent, price]);

  const notional = quantity !== null && referencePrice ? quantity * referencePrice : null;

  const send = async () => {
    if (!intent) return;
    setSending(true);
    setConfirming(false);
    const reply = await getApi().orders.submit(intent);
    setSending(false);
    if (!reply.ok) {
      setResult({ isOk: false, text: `${reply.error.code}: ${reply.error.message}` });
    } else if (reply.value.status === 'risk-rejected') {
      setResult({ isOk: false, text: `Rejected by risk: ${reply.value.verdict.reason ?? 'a check failed'}` });
    } else {
      const o = reply.value.order!;
      setResult({
        isOk: true,
        text: `Sent ${o.side} ${o.quantity} ${o.symbol} (${o.clientOrderId}): ${o.state}`,
      });
    }
  };

  const submit = () => {
    if (!intent) return;
    if (notional !== null && notional > CONFIRM_NOTIONAL) setConfirming(true);
    else void send();
  };

  return (
    <div
      className="panel-body ticket"
      data-testid="order-ticket"
      onKeyDown={(e) => {
        if (e.key === 'Escape') setConfirming(false);
      }}
    >
      <div className="row">
        <label>
          Symbol{' '}
          <select
            data-testid="ticket-symbol"
            value={`${selected.venue}|${selected.symbol}`}
            onChange={(e) => {
              const [v, s] = e.target.value.split('|') as [string, string];
              select(v, s);
            }}
          >
            {symbols.map((s) => (
              <option key={`${s.venue}|${s.symbol}`} value={`${s.venue}|${s.symbol}`}>
                {s.symbol} ({s.venue})
              </option>
            ))}
          </select>
        </label>
        <span className="muted" data-testid="ticket-last-price">
          last {price ?? '–'}
        </span>
      </div>
      <div className="row" role="radiogroup" aria-label="Side">
        {(['buy', 'sell'] as const).map((s) => (
          <button
            key={s}
            type="button"
            role="radio"
            aria-checked={side === s}
            data-testid={`ticket-side-${s}`}
            className={side === s ? (s === 'buy' ? 'selected-buy' : 'selected-sell') : ''}
            onClick={() => setSide(s)}
          >
            {s === 'buy' ? 'Buy' : 'Sell'}
          </button>
        ))}
        <label>
          Type{' '}
          <select
            data-testid="ticket-type"
            value={type}
            onChange={(e) => setType(e.target.value as OrderType)}
          >
            {ORDER_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          TIF{' '}
          <select
            data-testid="ticket-tif"
            value={tif}
            onChange={(e) => setTif(e.target.value as TimeInForce)}
          >
            {TIME_IN_FORCE.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row">
        <select
          data-testid="ticket-size-mode"
          value={sizeMode}
          onChange={(e) => setSizeMode(e.target.value as 'quantity' | 'notional')}
        >
          <option value="quantity">Quantity</option>
          <option value="notional">Notional</option>
        </select>
        <input
          ref={sizeRef}
          data-testid="ticket-size"
          inputMode="decimal"
          placeholder={sizeMode === 'quantity' ? 'base units' : 'quote amount'}
          value={sizeText}
          onChange={(e) => setSizeText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') submit();
          }}
          aria-invalid={sizeText !== '' && size === null}
        />
        {needsPrice(type) && (
          <input
            data-testid="ticket-price"
            inputMode="decimal"
            placeholder="limit price"
            value={priceText}
            onChange={(e) => setPriceText(e.target.value)}
          />
        )}
        {needsStop(type) && (
          <input
            data-testid="ticket-stop"
            inputMode="decimal"
            placeholder="trigger price"
            value={stopText}
            onChange={(e) => setStopText(e.target.value)}
          />
        )}
        {type === 'trailing-stop' && (
          <input
            data-testid="ticket-trailing"
            inputMode="decimal"
            placeholder="trail %"
            value={trailingPctText}
            onChange={(e) => setTrailingPctText(e.target.value)}
          />
        )}
      </div>
      <div className="row">
        <label>
          <input type="checkbox" checked={isPostOnly} onChange={(e) => setPostOnly(e.target.checked)} />{' '}
          post-only
        </label>
        <label>
          <input type="checkbox" checked={isReduceOnly} onChange={(e) => setReduceOnly(e.target.checked)} />{' '}
          reduce-only
        </label>
        <span className="muted" data-testid="ticket-notional">
          {quantity !== null ? `qty ${Number(quantity.toPrecision(8))}` : ''}
          {notional !== null
            ? ` · notional ${notional.toLocaleString('en-US', { maximumFractionDigits: 2 })}`
            : ''}
        </span>
      </div>
      <h3>Risk preview</h3>
      {previewError && <p className="bad">{previewError}</p>}
      {preview ? (
        <table className="grid" data-testid="ticket-risk-preview">
          <thead>
            <tr>
              <th>Check</th>
              <th className="num">Value</th>
              <th className="num">Limit</th>
              <th className="num">Headroom</th>
              <th>Unit</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {preview.verdict.checks.map((c) => (
              <tr key={c.check} data-testid={`risk-check-${c.check}`} title={c.message}>
                <td>{c.check}</td>
                <td className="num">{fmt(c.value)}</td>
                <td className="num">{fmt(c.limit)}</td>
                {/* Minimum limits (venue minimum quantity/notional) have headroom above the limit. */}
                <td className="num">
                  {fmt(/-min-/.test(`-${c.check}-`) ? c.value - c.limit : c.limit - c.value)}
                </td>
                <td>{c.unit}</td>
                <td className={c.isPassed ? 'good' : 'bad'}>{c.isPassed ? 'pass' : 'FAIL'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">Enter a size to see every risk check and its headroom.</p>
      )}
      {isConfirming ? (
        <div className="confirm" role="alertdialog" aria-label="Confirm order" data-testid="ticket-confirm">
          <p>
            Send {side} {quantity !== null ? Number(quantity.toPrecision(8)) : ''} {symbol} (
            {notional?.toLocaleString('en-US', { maximumFractionDigits: 0 })} notional, above the{' '}
            {CONFIRM_NOTIONAL.toLocaleString('en-US')} confirmation threshold)?
          </p>
          <button type="button" data-testid="ticket-confirm-send" onClick={() => void send()} autoFocus>
            Confirm
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <div className="row">
          <button
            type="button"
            data-testid="ticket-submit"
            disabled={!intent || isSending}
            onClick={submit}
            className={side === 'buy' ? 'selected-buy' : 'selected-sell'}
          >
            {isSending ? 'Sending…' : `${side === 'buy' ? 'Buy' : 'Sell'} ${symbol}`}
          </button>
          <span className="muted">F9 focuses the ticket · Enter submits</span>
        </div>
      )}
      {result && (
        <p data-testid="ticket-result" className={result.isOk ? 'good' : 'bad'}>
          {result.text}
        </p>
      )}
    </div>
  );
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000
    ? v.toLocaleString('en-US', { maximumFractionDigits: 2 })
    : Number(v.toPrecision(5)).toString();
}
