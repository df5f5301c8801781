import { useEffect, useMemo, useRef, useState } from 'react';
import { getApi } from '../../api.ts';
import { ExplanationWaterfall } from '../../components/svg-charts.tsx';
import { mergeSignals, useStrategiesStore } from '../../trading/strategies-store.ts';
import { chartBus } from '../chart/chart-bus.ts';
import { useChartSelection } from '../chart/selection.ts';
import type { Signal, SignalDetail } from '../../../../shared/contract/strategies.ts';

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Enough digits to read a feature or a contribution, without 17-digit noise. */
function formatNumber(v: number | null): string {
  if (v === null) return '–';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4 ? v.toExponential(3) : String(Number(v.toPrecision(6)));
}

function outcomeClass(outcome: Signal['outcome']): string {
  return outcome === 'sent' ? 'good' : 'bad';
}

function outcomeText(s: Signal): string {
  if (s.outcome === 'sent') return 'sent';
  if (s.outcome === 'risk-rejected') return 'rejected by risk';
  return 'invalid order';
}

/** The selected signal: what drove it (prediction, explanation, features, rules) and what risk said. */
function SignalDetailView(props: { signalId: string }) {
  const [detail, setDetail] = useState<SignalDetail | null>(null);
  const [message, setMessage] = useState<string | null>('Loading…');

  useEffect(() => {
    let isActive = true;
    setMessage('Loading…');
    void getApi()
      .strategies.signal({ signalId: props.signalId })
      .then((reply) => {
        if (!isActive) return;
        if (reply.ok) {
          setDetail(reply.value);
          setMessage(null);
        } else {
          setDetail(null);
          setMessage(reply.error.message);
        }
      });
    return () => {
      isActive = false;
    };
  }, [props.signalId]);

  if (!detail || detail.signalId !== props.signalId) {
    return (
      <div className="muted" data-testid="signal-detail-message">
        {message}
      </div>
    );
  }
  const { prediction, explanation, verdict } = detail;
  const features = Object.entries(detail.features).sort(([a], [b]) => a.localeCompare(b));

  return (
    <div data-testid="signal-detail" data-signal-id={detail.signalId}>
      <h3>
        Signal {detail.role} {detail.side} {formatNumber(detail.quantity)} {detail.symbol}{' '}
        <span
          className={outcomeClass(detail.outcome)}
          data-testid="signal-outcome"
          data-outcome={detail.outcome}
        >
          {outcomeText(detail)}
        </span>
      </h3>
      <table className="kv">
        <tbody>
          <tr>
            <th>Decided</th>
            <td>
              {time(detail.tsMs)} <span className="muted">on the bar opened {time(detail.barTimeMs)}</span>
            </td>
          </tr>
          <tr>
            <th>Strategy</th>
            <td>
              {detail.strategyId} <span className="muted">({detail.builtin})</span>
            </td>
          </tr>
          <tr>
            <th>Order</th>
            <td>
              {detail.side} {detail.type} {formatNumber(detail.quantity)} · client id{' '}
              <code data-testid="signal-client-order-id">{detail.clientOrderId ?? '–'}</code>
            </td>
          </tr>
          <tr>
            <th>Reason</th>
            <td data-testid="signal-reason">{detail.reason}</td>
          </tr>
          {detail.message && (
            <tr>
              <th>Outcome</th>
              <td className={outcomeClass(detail.outcome)} data-testid="signal-message">
                {detail.message}
              </td>
            </tr>
          )}
          <tr>
            <th>Audit record</th>
            <td>{detail.auditSeq ?? '–'}</td>
          </tr>
        </tbody>
      </table>

      <h3>Prediction</h3>
      {prediction ? (
        <table className="kv" data-testid="signal-prediction">
          <tbody>
            <tr>
              <th>Model</th>
              <td data-testid="signal-prediction-model">
                {prediction.model.name} v{prediction.model.version}{' '}
                <code className="muted" title={prediction.model.sha256}>
                  {prediction.model.sha256.slice(0, 12)}
                </code>
              </td>
            </tr>
            {Object.entries(prediction.values).map(([name, value]) => (
              <tr key={name}>
                <th>{name}</th>
                <td data-testid="signal-prediction-value" data-output={name} data-value={value}>
                  {formatNumber(value)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted" data-testid="signal-prediction">
          No model behind this signal.
        </p>
      )}

      {explanation && (
        <>
          <h3>Explanation</h3>
          <div className="toolbar">
            <span>
              {explanation.model} · {explanation.method} · output {explanation.output}
            </span>
            <span>
              base value{' '}
              <strong data-testid="signal-explanation-base" data-value={explanation.baseValue}>
                {explanation.baseValue.toFixed(4)}
              </strong>
            </span>
            <span>
              prediction{' '}
              <strong data-testid="signal-explanation-prediction" data-value={explanation.prediction}>
                {explanation.prediction.toFixed(4)}
              </strong>
            </span>
          </div>
          <ExplanationWaterfall
            testId="signal-waterfall"
            explanation={explanation}
            formatValue={formatNumber}
          />
        </>
      )}

      <h3>Rules evaluated</h3>
      {detail.rules.length === 0 ? (
        <p className="muted" data-testid="signal-rules">
          None recorded.
        </p>
      ) : (
        <table className="grid" data-testid="signal-rules">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Expression</th>
              <th>Held</th>
              <th>Values read</th>
            </tr>
          </thead>
          <tbody>
            {detail.rules.map((r, i) => (
              <tr
                key={`${r.name}-${i}`}
                data-testid="signal-rule"
                data-rule={r.name}
                data-is-true={String(r.isTrue)}
              >
                <td>{r.name}</td>
                <td>
                  <code>{r.expression}</code>
                </td>
                <td className={r.isTrue ? 'good' : 'muted'}>{r.isTrue ? 'yes' : 'no'}</td>
                <td className="muted">
                  {Object.entries(r.inputs)
                    .map(([k, v]) => `${k} = ${formatNumber(v)}`)
                    .join(', ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>Risk checks</h3>
      {verdict && (
        <p
          className={verdict.isApproved ? 'good' : 'bad'}
          data-testid="signal-verdict"
          data-approved={String(verdict.isApproved)}
        >
          {verdict.isApproved
            ? 'Approved: every check passed.'
            : `Rejected${verdict.reason ? `: ${verdict.reason}` : '.'}`}
        </p>
      )}
      {verdict ? (
        <table className="grid" data-testid="signal-risk-checks">
          <thead>
            <tr>
              <th>Check</th>
              <th className="num">Value</th>
              <th className="num">Limit</th>
              <th>Verdict</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {/* Failed checks first (the reason for a rejection), then the rest in the engine's order. */}
            {[...verdict.checks.filter((c) => !c.isPassed), ...verdict.checks.filter((c) => c.isPassed)].map(
              (c, i) => (
                <tr
                  key={`${c.check}-${i}`}
                  data-testid="signal-risk-check"
                  data-check={c.check}
                  data-passed={String(c.isPassed)}
                >
                  <td>{c.check}</td>
                  <td className="num">{formatNumber(c.value)}</td>
                  <td className="num">
                    {formatNumber(c.limit)} <span className="muted">{c.unit}</span>
                  </td>
                  <td className={c.isPassed ? 'good' : 'bad'}>{c.isPassed ? 'pass' : 'FAIL'}</td>
                  <td className="muted">{c.message}</td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      ) : (
        <p className="muted" data-testid="signal-risk-checks">
          The order never reached the risk engine.
        </p>
      )}

      {features.length > 0 && (
        <>
          <h3>Feature values</h3>
          <table className="kv" data-testid="signal-features">
            <tbody>
              {features.map(([name, value]) => (
                <tr key={name}>
                  <th>{name}</th>
                  <td className="num">{formatNumber(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

/**
 * Strategy signals, newest first (live), filterable by strategy and symbol; selecting one (here or
 * with its marker on the chart) shows its prediction, explanation, rules and risk verdict.
 */
export function SignalsPanel() {
  const signals = useStrategiesStore((s) => s.signals);
  const selectedId = useStrategiesStore((s) => s.selectedSignalId);
  const selectSignal = useStrategiesStore((s) => s.selectSignal);
  const loadError = useStrategiesStore((s) => s.loadError);
  const chartSymbol = useChartSelection((s) => s.symbol);
  const [strategyFilter, setStrategyFilter] = useState('');
  const [symbolFilter, setSymbolFilter] = useState('');

  const strategyIds = useMemo(() => [...new Set(signals.map((s) => s.strategyId))].sort(), [signals]);
  const symbols = useMemo(() => [...new Set(signals.map((s) => s.symbol))].sort(), [signals]);
  const shown = useMemo(
    () =>
      signals.filter(
        (s) =>
          (strategyFilter === '' || s.strategyId === strategyFilter) &&
          (symbolFilter === '' || s.symbol === symbolFilter),
      ),
    [signals, strategyFilter, symbolFilter],
  );

  // A filter asks the engine too: older signals of that strategy or symbol than the loaded page.
  useEffect(() => {
    if (strategyFilter === '' && symbolFilter === '') return;
    let isActive = true;
    void getApi()
      .strategies.signals({
        ...(strategyFilter ? { strategyId: strategyFilter } : {}),
        ...(symbolFilter ? { symbol: symbolFilter } : {}),
        limit: 500,
      })
      .then((reply) => {
        if (isActive && reply.ok)
          useStrategiesStore.setState((st) => ({ signals: mergeSignals(st.signals, reply.value.signals) }));
      });
    return () => {
      isActive = false;
    };
  }, [strategyFilter, symbolFilter]);

  // A signal selected elsewhere (its chart marker) is scrolled into view in the list.
  const listRef = useRef<HTMLTableSectionElement>(null);
  useEffect(() => {
    if (!selectedId) return;
    const row = [
      ...(listRef.current?.querySelectorAll<HTMLElement>('[data-testid="signal-row"]') ?? []),
    ].find((r) => r.dataset.signalId === selectedId);
    row?.scrollIntoView({ block: 'nearest' });
  }, [selectedId]);

  const select = (s: Signal) => {
    selectSignal(s.signalId);
    // The chart follows when it shows this symbol (its markers are per symbol).
    if (s.symbol === chartSymbol) chartBus.scrollTo(s.barTimeMs);
  };

  return (
    <div className="panel-body" data-testid="signals-panel">
      <div className="row">
        <label>
          Strategy{' '}
          <select
            data-testid="signals-filter-strategy"
            value={strategyFilter}
            onChange={(e) => setStrategyFilter(e.target.value)}
          >
            <option value="">all</option>
            {strategyIds.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Symbol{' '}
          <select
            data-testid="signals-filter-symbol"
            value={symbolFilter}
            onChange={(e) => setSymbolFilter(e.target.value)}
          >
            <option value="">all</option>
            {symbols.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span className="muted" data-testid="signals-count">
          {shown.length} of {signals.length} signals
        </span>
      </div>
      {loadError && (
        <p className="bad" data-testid="signals-load-error">
          {loadError}
        </p>
      )}
      <div style={{ maxHeight: '40%', overflow: 'auto' }}>
        <table className="grid" data-testid="signals-list">
          <thead>
            <tr>
              <th>Time</th>
              <th>Strategy</th>
              <th>Symbol</th>
              <th>Role</th>
              <th>Side</th>
              <th className="num">Qty</th>
              <th>Outcome</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody ref={listRef}>
            {shown.map((s) => (
              <tr
                key={s.signalId}
                data-testid="signal-row"
                data-signal-id={s.signalId}
                data-strategy-id={s.strategyId}
                data-outcome={s.outcome}
                className={`clickable ${s.signalId === selectedId ? 'selected' : ''}`}
                aria-selected={s.signalId === selectedId}
                onClick={() => select(s)}
              >
                <td>{time(s.tsMs)}</td>
                <td>{s.strategyId}</td>
                <td>{s.symbol}</td>
                <td>{s.role}</td>
                <td className={s.side === 'buy' ? 'good' : 'bad'}>{s.side}</td>
                <td className="num">{formatNumber(s.quantity)}</td>
                <td className={outcomeClass(s.outcome)}>{outcomeText(s)}</td>
                <td className="muted">{s.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {signals.length === 0 && !loadError && (
          <p className="muted">No signals yet: start a strategy in the Strategies panel.</p>
        )}
      </div>
      {selectedId ? (
        <SignalDetailView signalId={selectedId} />
      ) : (
        signals.length > 0 && <p className="muted">Select a signal to see why it was taken.</p>
      )}
    </div>
  );
}
