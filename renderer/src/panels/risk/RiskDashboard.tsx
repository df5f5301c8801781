import { useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import { useTradingStore, type RiskView } from '../../trading/trading-store.ts';
import { riskLimitsSchema } from '../../../../shared/contract/trading.ts';

type Limits = RiskView['config']['global'];

const EDITABLE: { key: keyof Limits; label: string; unit: string }[] = [
  { key: 'maxPositionPctOfEquity', label: 'Max position per asset', unit: '% of equity' },
  { key: 'maxGrossLeverage', label: 'Max gross leverage', unit: 'x' },
  { key: 'maxOrderNotional', label: 'Max order notional', unit: 'quote' },
  { key: 'maxOrderPctOfAvailable', label: 'Max order', unit: '% of available' },
  { key: 'priceBandPct', label: 'Price band', unit: '% from reference' },
  { key: 'maxOpenOrders', label: 'Max open orders', unit: 'orders' },
  { key: 'maxOrdersPerWindow', label: 'Orders per window (strategy)', unit: 'orders' },
  { key: 'maxGlobalOrdersPerWindow', label: 'Orders per window (global)', unit: 'orders' },
  { key: 'orderRateWindowMs', label: 'Rate window', unit: 'ms' },
  { key: 'duplicateWindowMs', label: 'Duplicate window', unit: 'ms' },
  { key: 'maxFeedAgeMs', label: 'Stale feed after', unit: 'ms' },
  { key: 'dailyLossLimitPct', label: 'Daily loss limit', unit: '% of start-of-day equity' },
  { key: 'maxDrawdownPct', label: 'Max drawdown breaker', unit: '%' },
];

/** Utilisation of every limit, halts, the kill switch, and validated limit editing (audited by the engine). */
export function RiskDashboard() {
  const risk = useTradingStore((s) => s.risk);
  const [draft, setDraft] = useState<Record<string, string> | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [isConfirmingKill, setConfirmingKill] = useState(false);
  const [isFlattening, setFlattening] = useState(false);
  const killRequest = useTradingStore((s) => s.killRequest);
  useEffect(() => {
    if (killRequest > 0) setConfirmingKill(true);
  }, [killRequest]);

  if (!risk)
    return (
      <div className="panel-body muted" data-testid="risk-dashboard">
        Loading risk state…
      </div>
    );

  const engageKill = async () => {
    setConfirmingKill(false);
    const reply = await getApi().risk.killSwitch({
      action: 'engage',
      isFlattening,
      reason: 'kill switch from the risk dashboard',
    });
    setMessage(
      reply.ok ? 'Kill switch engaged: working orders cancelled, strategies stopped.' : reply.error.message,
    );
  };
  const releaseKill = async () => {
    const reply = await getApi().risk.killSwitch({
      action: 'release',
      isFlattening: false,
      reason: 'released from the risk dashboard',
    });
    setMessage(reply.ok ? 'Kill switch released.' : reply.error.message);
  };
  const saveLimits = async () => {
    if (!draft) return;
    const candidate: Record<string, unknown> = { ...risk.config.global };
    for (const [k, v] of Object.entries(draft)) candidate[k] = Number(v);
    const parsed = riskLimitsSchema.safeParse(candidate);
    if (!parsed.success) {
      const next: Record<string, string> = {};
      for (const issue of parsed.error.issues) next[String(issue.path[0])] = issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    const reply = await getApi().risk.setLimits({
      config: { ...risk.config, global: parsed.data },
      reason: 'edited in the risk dashboard',
    });
    if (reply.ok) {
      setDraft(null);
      setMessage('Limits saved (audited).');
    } else setMessage(reply.error.message);
  };

  return (
    <div className="panel-body" data-testid="risk-dashboard">
      <div className="row">
        <strong data-testid="kill-switch-state" className={risk.isKillSwitchEngaged ? 'bad' : 'good'}>
          Kill switch {risk.isKillSwitchEngaged ? `ENGAGED (${risk.killSwitchReason ?? ''})` : 'off'}
        </strong>
        {risk.isKillSwitchEngaged ? (
          <button type="button" data-testid="kill-switch-release" onClick={() => void releaseKill()}>
            Release
          </button>
        ) : isConfirmingKill ? (
          <span className="confirm" role="alertdialog" aria-label="Confirm kill switch">
            Cancel all working orders and stop all strategies?{' '}
            <label>
              <input
                type="checkbox"
                checked={isFlattening}
                onChange={(e) => setFlattening(e.target.checked)}
              />{' '}
              also flatten positions
            </label>{' '}
            <button
              type="button"
              data-testid="kill-switch-confirm"
              className="selected-sell"
              onClick={() => void engageKill()}
              autoFocus
            >
              Engage
            </button>
            <button type="button" onClick={() => setConfirmingKill(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button
            type="button"
            data-testid="kill-switch"
            className="selected-sell"
            onClick={() => setConfirmingKill(true)}
            title="Ctrl+Shift+K"
          >
            Kill switch
          </button>
        )}
        {risk.isAccountReduceOnly && <span className="bad">Account is reduce-only</span>}
      </div>
      {message && <p data-testid="risk-message">{message}</p>}
      <h3>Halts</h3>
      {risk.halts.length === 0 ? (
        <p className="muted" data-testid="risk-halts">
          None
        </p>
      ) : (
        <ul data-testid="risk-halts">
          {risk.halts.map((h, i) => (
            <li key={i}>
              <strong>{h.kind}</strong> {h.symbol ?? 'all symbols'}: {h.message}
            </li>
          ))}
        </ul>
      )}
      {risk.reduceOnlySymbols.length > 0 && (
        <p className="warn">Reduce-only: {risk.reduceOnlySymbols.join(', ')}</p>
      )}
      <h3>Utilisation</h3>
      <table className="grid" data-testid="risk-utilisation">
        <thead>
          <tr>
            <th>Limit</th>
            <th>Symbol</th>
            <th className="num">Value</th>
            <th className="num">Limit</th>
            <th>Used</th>
          </tr>
        </thead>
        <tbody>
          {risk.utilisation.map((u, i) => {
            const used = u.limit > 0 ? Math.min(1, Math.abs(u.value) / u.limit) : 0;
            return (
              <tr key={`${u.check}-${u.symbol}-${i}`}>
                <td>{u.check}</td>
                <td>{u.symbol ?? 'account'}</td>
                <td className="num">{Number(u.value.toPrecision(5))}</td>
                <td className="num">
                  {Number(u.limit.toPrecision(5))} {u.unit}
                </td>
                <td>
                  <meter min={0} max={1} low={0.6} high={0.85} optimum={0} value={used} />{' '}
                  {(used * 100).toFixed(0)}%
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>
        Global limits{' '}
        {draft ? (
          <>
            <button type="button" data-testid="limits-save" onClick={() => void saveLimits()}>
              Save
            </button>
            <button type="button" onClick={() => (setDraft(null), setErrors({}))}>
              Discard
            </button>
          </>
        ) : (
          <button type="button" data-testid="limits-edit" onClick={() => setDraft({})}>
            Edit
          </button>
        )}
      </h3>
      <table className="kv" data-testid="risk-limits">
        <tbody>
          {EDITABLE.map((f) => (
            <tr key={f.key}>
              <th>{f.label}</th>
              <td>
                {draft ? (
                  <input
                    data-testid={`limit-${f.key}`}
                    value={draft[f.key] ?? String(risk.config.global[f.key])}
                    aria-invalid={Boolean(errors[f.key])}
                    onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
                  />
                ) : (
                  String(risk.config.global[f.key])
                )}{' '}
                <span className="muted">{f.unit}</span>
                {errors[f.key] && <span className="bad"> {errors[f.key]}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
