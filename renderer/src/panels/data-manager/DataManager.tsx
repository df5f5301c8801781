import { useCallback, useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import { useChartSelection } from '../chart/selection.ts';
import { FetchSection } from './FetchSection.tsx';
import { chartBus } from '../chart/chart-bus.ts';
import { TIMEFRAMES, type Timeframe } from '../../../../shared/market.ts';

interface SeriesRow {
  venue: string;
  symbol: string;
  timeframe: Timeframe;
  firstMs: number | null;
  lastMs: number | null;
  barCount: number;
  gapCount: number | null;
  missingBars: number | null;
  /** Weekday (stock) calendars: holiday-like closures, not counted as gaps. */
  closureCount: number | null;
}

interface Issue {
  file: string;
  line: number;
  message: string;
}

function formatTime(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

/** Files larger than this go through `vantage data import` (the contract carries content). */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

/**
 * Stored series (range, bar count, gaps) and file import. A bad file shows every bad line and
 * imports nothing; a good one appears in the list with its range.
 */
export function DataManager() {
  const [series, setSeries] = useState<SeriesRow[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const [venue, setVenue] = useState('');
  const [symbol, setSymbol] = useState('');
  const [timeframe, setTimeframe] = useState<Timeframe | 'auto'>('auto');
  const [isImporting, setImporting] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [issues, setIssues] = useState<{ text: string; count: number; list: Issue[] } | null>(null);
  const selectSeries = useChartSelection((s) => s.selectSeries);
  const [replaySpeed, setReplaySpeed] = useState<number | 'max'>(60);
  const [replay, setReplay] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    chartBus.seriesChanged();
    const api = getApi();
    const reply = await api.market.series({});
    if (!reply.ok) {
      setResult(reply.error.message);
      return;
    }
    const rows: SeriesRow[] = await Promise.all(
      reply.value.series.map(async (s) => {
        const gaps = await api.market.gaps({
          venue: s.venue,
          symbol: s.symbol,
          timeframe: s.timeframe,
          maxGaps: 1,
        });
        return {
          ...s,
          gapCount: gaps.ok ? gaps.value.gapCount : null,
          missingBars: gaps.ok ? gaps.value.missingBars : null,
          closureCount: gaps.ok && gaps.value.calendar === 'weekdays' ? gaps.value.closureCount : null,
        };
      }),
    );
    setSeries(rows);
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const runImport = async (): Promise<void> => {
    if (!file) return;
    setResult(null);
    setIssues(null);
    if (file.size > MAX_UPLOAD_BYTES) {
      setResult(
        `${file.name} is ${(file.size / 1048576).toFixed(0)} MiB; import files over 64 MiB with: vantage data import --file …`,
      );
      return;
    }
    setImporting(true);
    try {
      const content = await file.text();
      const reply = await getApi().market.import({
        venue: venue.trim(),
        symbol: symbol.trim(),
        content,
        fileName: file.name,
        ...(timeframe === 'auto' ? {} : { timeframe }),
      });
      if (reply.ok) {
        const r = reply.value;
        setResult(
          `Imported ${r.barCount} ${r.timeframe} bars (${formatTime(r.firstMs)} .. ${formatTime(r.lastMs)}): ${r.inserted} new, ${r.updated} changed, ${r.unchanged} already stored.`,
        );
        await refresh();
      } else {
        const details = reply.error.details as { issues?: Issue[]; issueCount?: number } | undefined;
        if (reply.error.code === 'DATA_INVALID' && details?.issues) {
          setIssues({
            text: reply.error.message,
            count: details.issueCount ?? details.issues.length,
            list: details.issues,
          });
        } else setResult(reply.error.message);
      }
    } finally {
      setImporting(false);
    }
  };

  const startReplay = async (s: SeriesRow): Promise<void> => {
    const reply = await getApi().market.replay({
      venue: s.venue,
      symbol: s.symbol,
      timeframe: s.timeframe,
      speed: replaySpeed,
    });
    if (!reply.ok) {
      setResult(reply.error.message);
      return;
    }
    setReplay(
      `${s.symbol} ${s.timeframe} from ${s.venue}: ${reply.value.barCount} bars at ${replaySpeed === 'max' ? 'max speed' : `${replaySpeed}x`}`,
    );
    selectSeries('replay', s.symbol, s.timeframe);
  };

  const controlReplay = async (action: 'pause' | 'resume' | 'stop'): Promise<void> => {
    const reply = await getApi().market.replayControl({ action });
    if (!reply.ok) setResult(reply.error.message);
    else if (action === 'stop') setReplay(null);
  };

  const canImport = file !== null && venue.trim() !== '' && symbol.trim() !== '' && !isImporting;

  return (
    <div className="panel-body" data-testid="data-manager">
      <div className="row">
        <input
          type="file"
          accept=".csv,.json,.txt"
          data-testid="import-file"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
        <input
          placeholder="venue (e.g. binance)"
          value={venue}
          data-testid="import-venue"
          onChange={(e) => setVenue(e.target.value)}
        />
        <input
          placeholder="symbol (e.g. BTC/USDT)"
          value={symbol}
          data-testid="import-symbol"
          onChange={(e) => setSymbol(e.target.value)}
        />
        <select
          value={timeframe}
          data-testid="import-timeframe"
          onChange={(e) => setTimeframe(e.target.value as Timeframe | 'auto')}
        >
          <option value="auto">timeframe: from the file</option>
          {TIMEFRAMES.map((tf) => (
            <option key={tf} value={tf}>
              {tf}
            </option>
          ))}
        </select>
        <button disabled={!canImport} data-testid="import-run" onClick={() => void runImport()}>
          {isImporting ? 'Importing…' : 'Import'}
        </button>
      </div>
      <div className="row">
        <span className="muted">Replay speed</span>
        <select
          value={String(replaySpeed)}
          data-testid="replay-speed"
          onChange={(e) => setReplaySpeed(e.target.value === 'max' ? 'max' : Number(e.target.value))}
        >
          {[1, 10, 60, 600, 3600].map((x) => (
            <option key={x} value={x}>
              {x}x
            </option>
          ))}
          <option value="max">max</option>
        </select>
        {replay && (
          <>
            <span data-testid="replay-status">Replaying {replay}</span>
            <button onClick={() => void controlReplay('pause')}>Pause</button>
            <button onClick={() => void controlReplay('resume')}>Resume</button>
            <button data-testid="replay-stop" onClick={() => void controlReplay('stop')}>
              Stop
            </button>
          </>
        )}
      </div>
      {result && <p data-testid="import-result">{result}</p>}
      {issues && (
        <div data-testid="import-errors">
          <p className="bad">{issues.text}</p>
          <div className="error-list">
            {issues.list.map((i) => `${i.file}:${i.line}: ${i.message}`).join('\n')}
            {issues.count > issues.list.length ? `\n… ${issues.count - issues.list.length} more` : ''}
          </div>
        </div>
      )}
      <FetchSection onStored={refresh} />
      <table className="grid" data-testid="series-table">
        <thead>
          <tr>
            <th>Venue</th>
            <th>Symbol</th>
            <th>TF</th>
            <th>First</th>
            <th>Last</th>
            <th className="num">Bars</th>
            <th className="num">Gaps</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {series.length === 0 && (
            <tr>
              <td colSpan={8} className="muted">
                No stored series yet: import a file above, or run vantage data import / fetch.
              </td>
            </tr>
          )}
          {series.map((s) => {
            const id = `${s.venue}-${s.symbol}-${s.timeframe}`;
            return (
              <tr key={id} data-testid={`series-${id}`}>
                <td>{s.venue}</td>
                <td>{s.symbol}</td>
                <td>{s.timeframe}</td>
                <td data-testid={`series-first-${id}`}>{formatTime(s.firstMs)}</td>
                <td data-testid={`series-last-${id}`}>{formatTime(s.lastMs)}</td>
                <td className="num" data-testid={`series-bars-${id}`}>
                  {s.barCount}
                </td>
                <td
                  className="num"
                  data-testid={`series-gaps-${id}`}
                  title={
                    s.closureCount === null
                      ? undefined
                      : 'Weekdays calendar: weekends are not gaps; 1-2 whole weekdays without bars are closures (holidays)'
                  }
                >
                  {s.gapCount === null ? '–' : `${s.gapCount} (${s.missingBars} bars)`}
                  {s.closureCount === null ? null : (
                    <span className="muted"> · {s.closureCount} holidays</span>
                  )}
                </td>
                <td>
                  <button
                    data-testid={`series-show-${id}`}
                    onClick={() => selectSeries(s.venue, s.symbol, s.timeframe)}
                  >
                    Chart
                  </button>{' '}
                  <button data-testid={`series-replay-${id}`} onClick={() => void startReplay(s)}>
                    Replay
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
