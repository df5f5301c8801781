import { useEffect, useMemo, useState } from 'react';
import { getApi } from '../../api.ts';
import { useTradingStore } from '../../trading/trading-store.ts';
import { useStrategiesStore } from '../../trading/strategies-store.ts';
import { TIMEFRAMES, type Timeframe } from '../../../../shared/market.ts';
import type { StrategyInstance } from '../../../../shared/contract/strategies.ts';
import {
  PROTECTION_FIELDS,
  SIZING_FIELDS,
  SIZING_KINDS,
  buildStartRequest,
  errorsFromEngine,
  type BuiltinStrategy,
  type FieldErrors,
  type SizingKind,
} from './start-form.ts';

/** Strategies run on the active account's venue: the demo venue in paper trading. */
const VENUE = 'demo';

const money = (v: number) =>
  v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function FieldError(props: { errors: FieldErrors; field: string }) {
  const message = props.errors[props.field];
  if (!message) return null;
  return (
    <span className="bad" data-testid={`strategy-error-${props.field}`} role="alert">
      {' '}
      {message}
    </span>
  );
}

/** Start a built-in strategy with parameters, sizing and protective exits; validated per field before it is sent. */
function StartForm() {
  const symbols = useTradingStore((s) => s.symbols);
  const venueSymbols = useMemo(
    () => symbols.filter((s) => s.venue === VENUE).map((s) => s.symbol),
    [symbols],
  );
  const [catalogue, setCatalogue] = useState<BuiltinStrategy[]>([]);
  const [models, setModels] = useState<{ name: string; version: string }[]>([]);
  const [defaultModel, setDefaultModel] = useState<string | null>(null);
  const [builtin, setBuiltin] = useState('');
  const [symbol, setSymbol] = useState('');
  const [timeframe, setTimeframe] = useState<Timeframe>('1m');
  const [params, setParams] = useState<Record<string, string>>({});
  const [sizingKind, setSizingKind] = useState<SizingKind>('fixed-notional');
  const [sizing, setSizing] = useState<Record<string, string>>({ notional: '1000' });
  const [protection, setProtection] = useState<Record<string, string>>({});
  const [model, setModel] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [result, setResult] = useState<string | null>(null);
  const [isStarting, setStarting] = useState(false);

  useEffect(() => {
    let isActive = true;
    void getApi()
      .backtest.strategies({})
      .then((reply) => {
        if (!isActive) return;
        if (reply.ok) {
          setCatalogue(reply.value);
          setBuiltin((b) => b || (reply.value[0]?.id ?? ''));
        } else setErrors({ form: `Strategy catalogue not available: ${reply.error.message}` });
      });
    void getApi()
      .models.list({})
      .then((reply) => {
        if (!isActive || !reply.ok) return;
        setModels(
          reply.value.models
            .filter((m) => m.status !== 'invalid')
            .map((m) => ({ name: m.name, version: m.version })),
        );
        setDefaultModel(reply.value.defaultModel);
      });
    return () => {
      isActive = false;
    };
  }, []);
  useEffect(() => {
    if (symbol === '' && venueSymbols[0]) setSymbol(venueSymbols[0]);
  }, [symbol, venueSymbols]);

  const strategy = catalogue.find((s) => s.id === builtin);

  const start = async () => {
    setResult(null);
    const built = buildStartRequest(
      { builtin, symbol, timeframe, params, sizingKind, sizing, protection, model },
      strategy,
    );
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    setStarting(true);
    const reply = await getApi().strategies.start(built.request);
    setStarting(false);
    if (reply.ok) setResult(`Started ${reply.value.strategyId} (${reply.value.state})`);
    else setErrors(errorsFromEngine(reply.error));
  };

  return (
    <form
      data-testid="strategy-start-form"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <div className="row">
        <label>
          Strategy{' '}
          <select
            data-testid="strategy-builtin"
            value={builtin}
            onChange={(e) => {
              setBuiltin(e.target.value);
              setParams({});
              setErrors({});
            }}
          >
            {catalogue.map((s) => (
              <option key={s.id} value={s.id}>
                {s.title} ({s.id})
              </option>
            ))}
          </select>
        </label>
        <label>
          Symbol{' '}
          <select data-testid="strategy-symbol" value={symbol} onChange={(e) => setSymbol(e.target.value)}>
            {venueSymbols.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <span className="muted"> {VENUE}</span>
          <FieldError errors={errors} field="symbol" />
        </label>
        <label>
          Timeframe{' '}
          <select
            data-testid="strategy-timeframe"
            value={timeframe}
            onChange={(e) => setTimeframe(e.target.value as Timeframe)}
          >
            {TIMEFRAMES.map((tf) => (
              <option key={tf} value={tf}>
                {tf}
              </option>
            ))}
          </select>
        </label>
        {strategy?.isModelDriven && (
          <label>
            Model{' '}
            <select data-testid="strategy-model" value={model} onChange={(e) => setModel(e.target.value)}>
              <option value="">default{defaultModel ? ` (${defaultModel})` : ''}</option>
              {models.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name} v{m.version}
                </option>
              ))}
            </select>
            <FieldError errors={errors} field="model" />
          </label>
        )}
      </div>
      {strategy && <p className="muted">{strategy.description}</p>}
      <FieldError errors={errors} field="builtin" />
      <table className="kv" data-testid="strategy-params">
        <tbody>
          {(strategy?.params ?? []).map((p) => (
            <tr key={p.name}>
              <th>
                <label htmlFor={`strategy-param-${p.name}`}>{p.name}</label>
              </th>
              <td>
                <input
                  id={`strategy-param-${p.name}`}
                  data-testid={`strategy-param-${p.name}`}
                  size={p.kind === 'string' ? 48 : 10}
                  inputMode={p.kind === 'string' ? 'text' : 'decimal'}
                  value={params[p.name] ?? String(p.default)}
                  aria-invalid={Boolean(errors[`param.${p.name}`])}
                  onChange={(e) => setParams({ ...params, [p.name]: e.target.value })}
                />{' '}
                <span className="muted">
                  {p.kind} · {p.description}
                </span>
                <FieldError errors={errors} field={`param.${p.name}`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <label>
          Sizing{' '}
          <select
            data-testid="strategy-sizing-kind"
            value={sizingKind}
            onChange={(e) => {
              setSizingKind(e.target.value as SizingKind);
              setSizing({});
            }}
          >
            {SIZING_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        {SIZING_FIELDS[sizingKind].map((f) => (
          <label key={f.name}>
            {f.label}{' '}
            <input
              data-testid={`strategy-sizing-${f.name}`}
              size={9}
              inputMode="decimal"
              placeholder={f.isRequired ? '' : f.placeholder}
              value={sizing[f.name] ?? ''}
              aria-invalid={Boolean(errors[`sizing.${f.name}`])}
              onChange={(e) => setSizing({ ...sizing, [f.name]: e.target.value })}
            />
            <FieldError errors={errors} field={`sizing.${f.name}`} />
          </label>
        ))}
      </div>
      <div className="row">
        <span className="muted">Protective exits (blank = none):</span>
        {PROTECTION_FIELDS.map((f) => (
          <label key={f.name}>
            {f.label}{' '}
            <input
              data-testid={`strategy-protection-${f.name}`}
              size={6}
              inputMode="decimal"
              value={protection[f.name] ?? ''}
              aria-invalid={Boolean(errors[`protection.${f.name}`])}
              onChange={(e) => setProtection({ ...protection, [f.name]: e.target.value })}
            />
            <FieldError errors={errors} field={`protection.${f.name}`} />
          </label>
        ))}
      </div>
      <div className="row">
        <button type="submit" data-testid="strategy-start" disabled={isStarting || !strategy}>
          {isStarting ? 'Starting…' : 'Start strategy'}
        </button>
        {result && (
          <span className="good" data-testid="strategy-start-result">
            {result}
          </span>
        )}
        <FieldError errors={errors} field="form" />
      </div>
    </form>
  );
}

function stateClass(state: StrategyInstance['state']): string {
  return state === 'running' ? 'good' : state === 'failed' ? 'bad' : state === 'stopped' ? 'muted' : '';
}

/** Running and stopped strategies with live state and P&L (strategies:changed); stop per instance. */
function InstanceList() {
  const instances = useStrategiesStore((s) => s.instances);
  const loadError = useStrategiesStore((s) => s.loadError);
  const [message, setMessage] = useState<string | null>(null);
  const sorted = useMemo(() => instances.slice().sort((a, b) => b.startedMs - a.startedMs), [instances]);

  const stop = async (id: string) => {
    const reply = await getApi().strategies.stop({ strategyId: id });
    setMessage(reply.ok ? `Stopped ${id}` : reply.error.message);
  };

  return (
    <>
      <h3 style={{ marginTop: 0 }}>
        Strategies ({instances.filter((i) => i.state === 'running' || i.state === 'starting').length} running)
      </h3>
      {loadError && (
        <p className="bad" data-testid="strategies-load-error">
          {loadError}
        </p>
      )}
      {message && (
        <p className="muted" data-testid="strategies-message">
          {message}
        </p>
      )}
      <table className="grid" data-testid="strategy-instances">
        <thead>
          <tr>
            <th>Strategy</th>
            <th>Symbol</th>
            <th>TF</th>
            <th>Parameters</th>
            <th>State</th>
            <th>Started</th>
            <th className="num">Bars</th>
            <th className="num">Signals</th>
            <th className="num">Position</th>
            <th className="num">Realised</th>
            <th className="num">Unrealised</th>
            <th className="num">Fees</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sorted.map((i) => (
            <tr
              key={i.strategyId}
              data-testid="strategy-row"
              data-strategy-id={i.strategyId}
              data-builtin={i.builtin}
              data-state={i.state}
            >
              <td
                style={{ whiteSpace: 'nowrap' }}
                title={
                  i.model ? `${i.model.name} v${i.model.version} ${i.model.sha256.slice(0, 12)}` : undefined
                }
              >
                {i.strategyId}
                {i.model && <span className="muted"> · {i.model.name}</span>}
              </td>
              <td>{i.symbol}</td>
              <td>{i.timeframe}</td>
              <td className="muted">
                {Object.entries(i.params)
                  .map(([k, v]) => `${k}=${String(v)}`)
                  .join(' ')}
              </td>
              <td>
                <span className={stateClass(i.state)} data-testid="strategy-state">
                  {i.state}
                </span>
                {i.stopReason && (
                  <span className="muted" data-testid="strategy-stop-reason">
                    {' '}
                    ({i.stopReason})
                  </span>
                )}
              </td>
              <td title={time(i.startedMs)}>{time(i.startedMs).slice(11)}</td>
              <td className="num" data-testid="strategy-bars">
                {i.bars}
              </td>
              <td className="num" data-testid="strategy-signals">
                {i.signals}
              </td>
              <td className="num" data-testid="strategy-position">
                {Number(i.position.toPrecision(8))}
              </td>
              <td className={`num ${i.realisedPnl >= 0 ? 'good' : 'bad'}`}>{money(i.realisedPnl)}</td>
              <td
                className={`num ${i.unrealisedPnl >= 0 ? 'good' : 'bad'}`}
                data-testid="strategy-unrealised"
              >
                {money(i.unrealisedPnl)}
              </td>
              <td className="num">{money(i.feesPaid)}</td>
              <td>
                {(i.state === 'running' || i.state === 'starting') && (
                  <button type="button" data-testid="strategy-stop" onClick={() => void stop(i.strategyId)}>
                    Stop
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {instances.length === 0 && !loadError && (
        <p className="muted">No strategy started in this engine run.</p>
      )}
    </>
  );
}

/** Start built-in strategies on the paper account and watch or stop them. */
export function StrategiesPanel() {
  return (
    <div className="panel-body" data-testid="strategies-panel">
      {/* What runs comes first: it is what the PM watches; the form is below. */}
      <InstanceList />
      <h3>Start a strategy</h3>
      <StartForm />
    </div>
  );
}
