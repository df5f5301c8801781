import { useCallback, useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import { useTradingStore } from '../../trading/trading-store.ts';
import { chartBus } from '../chart/chart-bus.ts';
import type { ResponseOf } from '../../../../shared/contract/index.ts';
import { TIMEFRAMES, type Timeframe } from '../../../../shared/market.ts';

type Series = ResponseOf<'market:series'>['series'][number];
type Gaps = ResponseOf<'market:gaps'>;
interface ImportIssue {
  file: string;
  line: number;
  message: string;
}

const fmt = (ms: number | null) =>
  ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/** Stored series with ranges, bar counts and gaps; import a candle file with every bad line reported. */
export function DataManager() {
  const [series, setSeries] = useState<Series[]>([]);
  const [gaps, setGaps] = useState<Record<string, Gaps>>({});
  const [venue, setVenue] = useState('imported');
  const [symbol, setSymbol] = useState('');
  const [timeframe, setTimeframe] = useState<Timeframe | ''>('');
  const [file, setFile] = useState<File | null>(null);
  const [isImporting, setImporting] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [issues, setIssues] = useState<{ message: string; list: ImportIssue[]; count: number } | null>(null);

  const refresh = useCallback(async () => {
    const reply = await getApi().market.series({});
    if (reply.ok) setSeries(reply.value.series);
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const doImport = async () => {
    if (!file || !symbol) return;
    setImporting(true);
    setResult(null);
    setIssues(null);
    const content = await file.text();
    const format = file.name.toLowerCase().endsWith('.json') ? 'json' : 'csv';
    const reply = await getApi().market.import({
      venue,
      symbol,
      format,
      fileName: file.name,
      content,
      ...(timeframe ? { timeframe } : {}),
    });
    setImporting(false);
    if (reply.ok) {
      const r = reply.value;
      setResult(
        `Imported ${r.barCount.toLocaleString('en-US')} ${r.timeframe} bars of ${r.symbol} (${fmt(r.firstMs)} .. ${fmt(r.lastMs)}): ${r.inserted} new, ${r.updated} updated, ${r.unchanged} unchanged.`,
      );
      await refresh();
    } else {
      const details = reply.error.details as { issues?: ImportIssue[]; issueCount?: number } | undefined;
      setIssues({
        message: reply.error.message,
        list: details?.issues ?? [],
        count: details?.issueCount ?? 0,
      });
    }
  };

  const loadGaps = async (s: Series) => {
    const key = `${s.venue}|${s.symbol}|${s.timeframe}`;
    const reply = await getApi().market.gaps({
      venue: s.venue,
      symbol: s.symbol,
      timeframe: s.timeframe,
      maxGaps: 50,
    });
    if (reply.ok) setGaps((g) => ({ ...g, [key]: reply.value }));
  };

  const openInChart = (s: Series) => {
    const store = useTradingStore.getState();
    if (!store.symbols.some((x) => x.venue === s.venue && x.symbol === s.symbol)) {
      useTradingStore.setState({ symbols: [...store.symbols, { venue: s.venue, symbol: s.symbol }] });
    }
    store.setTimeframe(s.timeframe);
    store.select(s.venue, s.symbol);
    chartBus.openPanel('chart');
  };

  return (
    <div className="panel-body" data-testid="data-manager">
      <h3>Import candles</h3>
      <div className="row">
        <input
          type="file"
          accept=".csv,.txt,.json"
          data-testid="import-file"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <input
          data-testid="import-venue"
          placeholder="venue"
          value={venue}
          onChange={(e) => setVenue(e.target.value)}
        />
        <input
          data-testid="import-symbol"
          placeholder="symbol, e.g. BTC/USDT"
          value={symbol}
          onChange={(e) => setSymbol(e.target.value)}
        />
        <select
          data-testid="import-timeframe"
          value={timeframe}
          onChange={(e) => setTimeframe(e.target.value as Timeframe | '')}
        >
          <option value="">timeframe: detect</option>
          {TIMEFRAMES.map((tf) => (
            <option key={tf} value={tf}>
              {tf}
            </option>
          ))}
        </select>
        <button
          type="button"
          data-testid="import-run"
          disabled={!file || !symbol || isImporting}
          onClick={() => void doImport()}
        >
          {isImporting ? 'Importing…' : 'Import'}
        </button>
      </div>
      <p className="muted">
        CSV (timestamp,open,high,low,close,volume; Yahoo/Backtrader Date,Open,…) or Freqtrade JSON. All or
        nothing: a file with a bad row changes nothing.
      </p>
      {result && (
        <p className="good" data-testid="import-result">
          {result}
        </p>
      )}
      {issues && (
        <div data-testid="import-errors">
          <p className="bad">{issues.message}</p>
          <div className="error-list">
            {issues.list.map((i) => (
              <div key={`${i.line}-${i.message}`} data-testid="import-error-line">
                {i.file}:{i.line}: {i.message}
              </div>
            ))}
            {issues.count > issues.list.length && <div>… and {issues.count - issues.list.length} more</div>}
          </div>
        </div>
      )}
      <h3>
        Stored series{' '}
        <button type="button" onClick={() => void refresh()}>
          Refresh
        </button>
      </h3>
      <table className="grid" data-testid="series-table">
        <thead>
          <tr>
            <th>Venue</th>
            <th>Symbol</th>
            <th>TF</th>
            <th>First</th>
            <th>Last</th>
            <th className="num">Bars</th>
            <th>Gaps</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {series.map((s) => {
            const key = `${s.venue}|${s.symbol}|${s.timeframe}`;
            const g = gaps[key];
            return (
              <tr key={key} data-testid="series-row" data-symbol={s.symbol}>
                <td>{s.venue}</td>
                <td>{s.symbol}</td>
                <td>{s.timeframe}</td>
                <td data-testid="series-first">{fmt(s.firstMs)}</td>
                <td data-testid="series-last">{fmt(s.lastMs)}</td>
                <td className="num" data-testid="series-bars">
                  {s.barCount.toLocaleString('en-US')}
                </td>
                <td>
                  {g ? (
                    <span
                      title={g.gaps
                        .map((x) => `${fmt(x.fromMs)} .. ${fmt(x.toMs)} (${x.missingBars})`)
                        .join('\n')}
                    >
                      {g.gapCount} gaps, {g.missingBars} bars missing
                    </span>
                  ) : (
                    <button type="button" onClick={() => void loadGaps(s)}>
                      Find gaps
                    </button>
                  )}
                </td>
                <td>
                  <button type="button" data-testid="series-open" onClick={() => openInChart(s)}>
                    Chart
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
