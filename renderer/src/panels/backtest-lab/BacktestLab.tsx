import { useEffect, useMemo, useState } from 'react';
import { getApi } from '../../api.ts';
import { LineChart, Heatmap } from '../../components/svg-charts.tsx';
import { SortableTable, type Column } from '../../components/SortableTable.tsx';
import { useChartSelection } from '../chart/selection.ts';
import { chartBus } from '../chart/chart-bus.ts';
import type { ResponseOf } from '../../../../shared/contract/index.ts';
import {
  METRIC_NAMES,
  type BacktestReport,
  type MetricName,
  type SweepResult,
  type TradeRecord,
} from '../../../../shared/contract/backtest.ts';

type Series = ResponseOf<'market:series'>['series'][number];
type StrategyInfo = ResponseOf<'backtest:strategies'>[number];

interface Run {
  runId: string;
  label: string;
  report: BacktestReport;
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);
const num = (v: number | null) =>
  v === null
    ? '–'
    : Math.abs(v) >= 1000
      ? v.toLocaleString('en-US', { maximumFractionDigits: 0 })
      : Number(v.toPrecision(4)).toString();
const PERCENT_METRICS = new Set<MetricName>([
  'totalReturn',
  'cagr',
  'annualVolatility',
  'maxDrawdown',
  'winRate',
  'exposure',
]);
const formatMetric = (m: MetricName, v: number | null) =>
  m === 'maxDrawdownDurationMs'
    ? v === null
      ? '–'
      : `${(v / 86_400_000).toFixed(1)} d`
    : PERCENT_METRICS.has(m)
      ? pct(v)
      : num(v);
const time = (ms: number | null) =>
  ms === null ? 'open' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

let runCounter = 0;

/** Backtest lab: choose data, strategy, parameters, fills and costs; run with progress and cancel; compare runs; sweep a grid. */
export function BacktestLab() {
  const [series, setSeries] = useState<Series[]>([]);
  const [strategies, setStrategies] = useState<StrategyInfo[]>([]);
  const [seriesKey, setSeriesKey] = useState('');
  const [strategyId, setStrategyId] = useState('sma-cross');
  const [params, setParams] = useState<Record<string, string>>({});
  const [fill, setFill] = useState<'next-open' | 'close'>('next-open');
  const [feesBps, setFeesBps] = useState('10');
  const [slippageBps, setSlippageBps] = useState('0');
  const [cash, setCash] = useState('100000');
  const [quantity, setQuantity] = useState('1');
  const [runs, setRuns] = useState<Run[]>([]);
  const [selectedRun, setSelectedRun] = useState<string | null>(null);
  const [compareRun, setCompareRun] = useState<string | null>(null);
  const [progress, setProgress] = useState<{
    runId: string;
    done: number;
    total: number;
    phase: string;
  } | null>(null);
  const [activeRunId, setActiveRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sweepAxes, setSweepAxes] = useState<{ x: string; xValues: string; y: string; yValues: string }>({
    x: 'fast',
    xValues: '5,10,20',
    y: 'slow',
    yValues: '30,50,100',
  });
  const [sweep, setSweep] = useState<SweepResult | null>(null);
  const [heatMetric, setHeatMetric] = useState<MetricName>('sharpe');
  const [selectedTrade, setSelectedTrade] = useState<string | null>(null);

  useEffect(() => {
    const api = getApi();
    const loadSeries = () =>
      void api.market.series({}).then((r) => {
        if (!r.ok) return;
        setSeries(r.value.series);
        const keys = r.value.series.map((s) => `${s.venue}|${s.symbol}|${s.timeframe}`);
        setSeriesKey((k) => (keys.includes(k) ? k : (keys[0] ?? '')));
      });
    loadSeries();
    void api.backtest.strategies({}).then((r) => r.ok && setStrategies(r.value));
    const offSeries = chartBus.onSeriesChanged(() => setTimeout(loadSeries, 300));
    const offProgress = api.on('backtest:progress', (p) => setProgress(p));
    return () => {
      offSeries();
      offProgress();
    };
  }, []);

  const strategy = strategies.find((s) => s.id === strategyId);
  const seriesRef = useMemo(() => {
    const [venue, symbol, timeframe] = seriesKey.split('|');
    return venue && symbol && timeframe
      ? { venue, symbol, timeframe: timeframe as Series['timeframe'] }
      : null;
  }, [seriesKey]);

  const config = () => {
    const p: Record<string, number | string> = {};
    for (const spec of strategy?.params ?? []) {
      const text = params[spec.name];
      if (text === undefined || text === '') continue;
      p[spec.name] = typeof spec.default === 'number' ? Number(text) : text;
    }
    return {
      strategy: { id: strategyId, params: p },
      sizing: { kind: 'fixed-quantity' as const, quantity: Number(quantity) },
      fill: {
        marketFill: fill,
        makerFeeBps: Number(feesBps),
        takerFeeBps: Number(feesBps),
        slippageBps: Number(slippageBps),
      },
      cash: Number(cash),
    };
  };

  const run = async () => {
    if (!seriesRef) return;
    const runId = `run-${++runCounter}`;
    setActiveRunId(runId);
    setError(null);
    setProgress({ runId, done: 0, total: 1, phase: 'starting' });
    const reply = await getApi().backtest.run({ runId, series: seriesRef, config: config() });
    setActiveRunId(null);
    if (!reply.ok) {
      setError(`${reply.error.code}: ${reply.error.message}`);
      return;
    }
    const label = `${runId} ${strategyId} ${Object.entries(config().strategy.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`;
    setRuns((r) => [{ runId, label, report: reply.value }, ...r]);
    setSelectedRun(runId);
  };

  const runSweep = async () => {
    if (!seriesRef) return;
    const runId = `sweep-${++runCounter}`;
    const parse = (text: string) =>
      text
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
        .map((v) => (Number.isFinite(Number(v)) ? Number(v) : v));
    setActiveRunId(runId);
    setError(null);
    const reply = await getApi().backtest.sweep({
      runId,
      series: seriesRef,
      config: config(),
      grid: [
        { param: sweepAxes.x, values: parse(sweepAxes.xValues) },
        { param: sweepAxes.y, values: parse(sweepAxes.yValues) },
      ],
    });
    setActiveRunId(null);
    if (reply.ok) setSweep(reply.value);
    else setError(`${reply.error.code}: ${reply.error.message}`);
  };

  const current = runs.find((r) => r.runId === selectedRun) ?? null;
  const other = runs.find((r) => r.runId === compareRun && r.runId !== selectedRun) ?? null;

  const tradeColumns: Column<TradeRecord>[] = [
    { key: 'entryTime', header: 'Entry', value: (t) => t.entryTime, render: (t) => time(t.entryTime) },
    { key: 'exitTime', header: 'Exit', value: (t) => t.exitTime, render: (t) => time(t.exitTime) },
    { key: 'side', header: 'Side', value: (t) => t.side },
    { key: 'quantity', header: 'Qty', value: (t) => t.quantity, isNumeric: true },
    { key: 'entryPrice', header: 'Entry px', value: (t) => t.entryPrice, isNumeric: true },
    { key: 'exitPrice', header: 'Exit px', value: (t) => t.exitPrice, isNumeric: true },
    { key: 'fees', header: 'Fees', value: (t) => t.fees, isNumeric: true },
    { key: 'pnl', header: 'P&L', value: (t) => t.pnl, isNumeric: true },
    { key: 'barsHeld', header: 'Bars', value: (t) => t.barsHeld, isNumeric: true },
    { key: 'entryReason', header: 'Reason', value: (t) => t.entryReason },
  ];

  const sweepColumns: Column<SweepResult['rows'][number]>[] = [
    ...(sweep?.rows[0] ? Object.keys(sweep.rows[0].params) : []).map((p) => ({
      key: `p-${p}`,
      header: p,
      value: (r: SweepResult['rows'][number]) => r.params[p] ?? null,
    })),
    ...(
      ['totalReturn', 'sharpe', 'maxDrawdown', 'winRate', 'profitFactor', 'tradeCount'] as MetricName[]
    ).map((m) => ({
      key: m,
      header: m,
      value: (r: SweepResult['rows'][number]) => r.metrics[m],
      render: (r: SweepResult['rows'][number]) => formatMetric(m, r.metrics[m]),
      isNumeric: true,
    })),
  ];

  const xs = sweep
    ? [...new Set(sweep.rows.map((r) => Number(r.params[sweepAxes.x])))].sort((a, b) => a - b)
    : [];
  const ys = sweep
    ? [...new Set(sweep.rows.map((r) => Number(r.params[sweepAxes.y])))].sort((a, b) => a - b)
    : [];

  return (
    <div className="panel-body" data-testid="backtest-lab">
      <div className="row">
        <label>
          Data{' '}
          <select data-testid="bt-series" value={seriesKey} onChange={(e) => setSeriesKey(e.target.value)}>
            {series.map((s) => (
              <option
                key={`${s.venue}|${s.symbol}|${s.timeframe}`}
                value={`${s.venue}|${s.symbol}|${s.timeframe}`}
              >
                {s.venue} {s.symbol} {s.timeframe} ({s.barCount} bars)
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() =>
            void getApi()
              .market.series({})
              .then((r) => r.ok && setSeries(r.value.series))
          }
        >
          ↻
        </button>
        <label>
          Strategy{' '}
          <select
            data-testid="bt-strategy"
            value={strategyId}
            onChange={(e) => (setStrategyId(e.target.value), setParams({}))}
          >
            {strategies.map((s) => (
              <option key={s.id} value={s.id} title={s.description}>
                {s.title}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row">
        {(strategy?.params ?? []).map((p) => (
          <label key={p.name} title={p.description}>
            {p.name}{' '}
            <input
              data-testid={`bt-param-${p.name}`}
              size={8}
              placeholder={String(p.default)}
              value={params[p.name] ?? ''}
              onChange={(e) => setParams({ ...params, [p.name]: e.target.value })}
            />
          </label>
        ))}
      </div>
      <div className="row">
        <label>
          Fill{' '}
          <select
            data-testid="bt-fill"
            value={fill}
            onChange={(e) => setFill(e.target.value as 'next-open' | 'close')}
          >
            <option value="next-open">next bar open</option>
            <option value="close">same bar close</option>
          </select>
        </label>
        <label>
          Fees bps{' '}
          <input
            data-testid="bt-fees"
            size={5}
            value={feesBps}
            onChange={(e) => setFeesBps(e.target.value)}
          />
        </label>
        <label>
          Slippage bps <input size={5} value={slippageBps} onChange={(e) => setSlippageBps(e.target.value)} />
        </label>
        <label>
          Cash <input size={9} value={cash} onChange={(e) => setCash(e.target.value)} />
        </label>
        <label>
          Quantity{' '}
          <input
            data-testid="bt-quantity"
            size={6}
            value={quantity}
            onChange={(e) => setQuantity(e.target.value)}
          />
        </label>
        <button
          type="button"
          data-testid="bt-run"
          disabled={!seriesRef || activeRunId !== null}
          onClick={() => void run()}
        >
          Run
        </button>
        {activeRunId && (
          <>
            <progress
              data-testid="bt-progress"
              max={Math.max(1, progress?.total ?? 1)}
              value={progress?.runId === activeRunId ? progress.done : 0}
            />
            <button
              type="button"
              data-testid="bt-cancel"
              onClick={() => void getApi().backtest.cancel({ runId: activeRunId })}
            >
              Cancel
            </button>
          </>
        )}
      </div>
      {error && (
        <p className="bad" data-testid="bt-error">
          {error}
        </p>
      )}
      {runs.length > 0 && (
        <div className="row">
          <label>
            Run{' '}
            <select
              data-testid="bt-run-select"
              value={selectedRun ?? ''}
              onChange={(e) => setSelectedRun(e.target.value)}
            >
              {runs.map((r) => (
                <option key={r.runId} value={r.runId}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Compare with{' '}
            <select
              data-testid="bt-compare-select"
              value={compareRun ?? ''}
              onChange={(e) => setCompareRun(e.target.value || null)}
            >
              <option value="">none</option>
              {runs.map((r) => (
                <option key={r.runId} value={r.runId}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {current && (
        <>
          <table className="grid" data-testid="bt-metrics">
            <thead>
              <tr>
                <th>Metric</th>
                <th className="num">{current.runId}</th>
                {other && <th className="num">{other.runId}</th>}
                <th className="num">Buy &amp; hold</th>
              </tr>
            </thead>
            <tbody>
              {METRIC_NAMES.filter((m) => m !== 'maxDrawdownDurationBars').map((m) => (
                <tr key={m} data-testid={`bt-metric-${m}`}>
                  <td>{m}</td>
                  <td className="num">{formatMetric(m, current.report.metrics[m])}</td>
                  {other && <td className="num">{formatMetric(m, other.report.metrics[m])}</td>}
                  <td className="num">
                    {m in current.report.benchmark.metrics
                      ? formatMetric(
                          m,
                          current.report.benchmark.metrics[
                            m as keyof typeof current.report.benchmark.metrics
                          ],
                        )
                      : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Equity</h3>
          <LineChart
            testId="bt-equity"
            formatY={(v) => v.toLocaleString('en-US', { maximumFractionDigits: 0 })}
            series={[
              {
                name: current.runId,
                color: 'var(--accent)',
                points: current.report.equity.map(([x, y]) => ({ x, y })),
              },
              ...(other
                ? [
                    {
                      name: other.runId,
                      color: 'var(--warn)',
                      points: other.report.equity.map(([x, y]) => ({ x, y })),
                    },
                  ]
                : []),
              {
                name: 'buy & hold',
                color: 'var(--muted)',
                points: current.report.benchmark.equity.map(([x, y]) => ({ x, y })),
              },
            ]}
          />
          <h3>Drawdown</h3>
          <LineChart
            testId="bt-drawdown"
            isArea
            height={120}
            formatY={(v) => `${(v * 100).toFixed(1)}%`}
            series={[
              {
                name: 'drawdown',
                color: 'var(--bad)',
                points: current.report.drawdown.map(([x, y]) => ({ x, y })),
              },
            ]}
          />
          <h3>Trades ({current.report.trades.length})</h3>
          <SortableTable
            testId="bt-trades"
            rows={current.report.trades}
            columns={tradeColumns}
            rowKey={(t) => `${t.entryTime}-${t.entryPrice}-${t.side}`}
            selectedKey={selectedTrade}
            maxRows={500}
            onRowClick={(t) => {
              setSelectedTrade(`${t.entryTime}-${t.entryPrice}-${t.side}`);
              if (seriesRef)
                useChartSelection
                  .getState()
                  .selectSeries(seriesRef.venue, seriesRef.symbol, seriesRef.timeframe);
              chartBus.openPanel('chart');
              // Give the chart a moment to load the series before scrolling to the trade.
              setTimeout(() => chartBus.scrollTo(t.entryTime), 400);
              setTimeout(() => chartBus.scrollTo(t.entryTime), 1500);
            }}
          />
        </>
      )}
      <h3>Parameter sweep</h3>
      <div className="row">
        <input
          size={8}
          data-testid="sweep-x"
          value={sweepAxes.x}
          onChange={(e) => setSweepAxes({ ...sweepAxes, x: e.target.value })}
        />
        <input
          size={16}
          data-testid="sweep-x-values"
          value={sweepAxes.xValues}
          onChange={(e) => setSweepAxes({ ...sweepAxes, xValues: e.target.value })}
        />
        <input
          size={8}
          data-testid="sweep-y"
          value={sweepAxes.y}
          onChange={(e) => setSweepAxes({ ...sweepAxes, y: e.target.value })}
        />
        <input
          size={16}
          data-testid="sweep-y-values"
          value={sweepAxes.yValues}
          onChange={(e) => setSweepAxes({ ...sweepAxes, yValues: e.target.value })}
        />
        <button
          type="button"
          data-testid="sweep-run"
          disabled={!seriesRef || activeRunId !== null}
          onClick={() => void runSweep()}
        >
          Sweep
        </button>
        <select value={heatMetric} onChange={(e) => setHeatMetric(e.target.value as MetricName)}>
          {METRIC_NAMES.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </div>
      {sweep && (
        <div className="split">
          <SortableTable
            testId="sweep-table"
            rows={sweep.rows}
            columns={sweepColumns}
            rowKey={(r) => JSON.stringify(r.params)}
            initialSort={{ key: 'sharpe', isDescending: true }}
          />
          <Heatmap
            testId="sweep-heatmap"
            xLabel={sweepAxes.x}
            yLabel={sweepAxes.y}
            xs={xs}
            ys={ys}
            format={(v) => formatMetric(heatMetric, v)}
            value={(x, y) =>
              sweep.rows.find(
                (r) => Number(r.params[sweepAxes.x]) === x && Number(r.params[sweepAxes.y]) === y,
              )?.metrics[heatMetric] ?? null
            }
          />
        </div>
      )}
    </div>
  );
}
