import { useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import type { FetchJob } from '../../../../shared/contract/history.ts';
import { TIMEFRAMES, type Timeframe } from '../../../../shared/market.ts';

const fmt = (ms: number | null) =>
  ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/** Download candle history from a venue (ccxt) into market.db, with progress and cancel. */
export function FetchSection(props: { onStored(): void }) {
  const [venue, setVenue] = useState('binance');
  const [symbol, setSymbol] = useState('BTC/USDT');
  const [timeframe, setTimeframe] = useState<Timeframe>('5m');
  const [since, setSince] = useState('2024-01-01');
  const [until, setUntil] = useState('');
  const [jobs, setJobs] = useState<FetchJob[]>([]);
  const [error, setError] = useState<string | null>(null);
  const { onStored } = props;

  useEffect(() => {
    const api = getApi();
    void api.history.jobs({}).then((r) => r.ok && setJobs(r.value.jobs));
    let lastDone = 0;
    return api.on('history:changed', (payload) => {
      setJobs(payload.jobs);
      const done = payload.jobs.filter((j) => j.state !== 'running').length;
      if (done > lastDone) onStored();
      lastDone = done;
    });
  }, [onStored]);

  const start = async () => {
    const sinceMs = Date.parse(`${since}T00:00:00Z`);
    const untilMs = until ? Date.parse(`${until}T00:00:00Z`) : undefined;
    if (!Number.isFinite(sinceMs) || (untilMs !== undefined && !Number.isFinite(untilMs))) {
      setError('Dates must be YYYY-MM-DD.');
      return;
    }
    const reply = await getApi().history.fetch({
      venue,
      symbol,
      timeframe,
      sinceMs,
      ...(untilMs !== undefined ? { untilMs } : {}),
    });
    setError(reply.ok ? null : reply.error.message);
  };

  return (
    <div data-testid="fetch-section">
      <h3>Fetch from a venue</h3>
      <div className="row">
        <input
          data-testid="fetch-venue"
          value={venue}
          onChange={(e) => setVenue(e.target.value)}
          placeholder="ccxt id, e.g. binance"
        />
        <input
          data-testid="fetch-symbol"
          value={symbol}
          onChange={(e) => setSymbol(e.target.value)}
          placeholder="BTC/USDT"
        />
        <select
          data-testid="fetch-timeframe"
          value={timeframe}
          onChange={(e) => setTimeframe(e.target.value as Timeframe)}
        >
          {TIMEFRAMES.map((tf) => (
            <option key={tf} value={tf}>
              {tf}
            </option>
          ))}
        </select>
        <label>
          since{' '}
          <input
            data-testid="fetch-since"
            value={since}
            onChange={(e) => setSince(e.target.value)}
            size={10}
          />
        </label>
        <label>
          until{' '}
          <input
            data-testid="fetch-until"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
            size={10}
            placeholder="now"
          />
        </label>
        <button type="button" data-testid="fetch-start" onClick={() => void start()}>
          Fetch
        </button>
      </div>
      {error && (
        <p className="bad" data-testid="fetch-error">
          {error}
        </p>
      )}
      {jobs.length > 0 && (
        <table className="grid" data-testid="fetch-jobs">
          <tbody>
            {jobs.map((j) => (
              <tr key={j.jobId} data-testid="fetch-job">
                <td>
                  {j.venue} {j.symbol} {j.timeframe}
                </td>
                <td>
                  <progress max={Math.max(1, j.expectedBars)} value={j.fetchedBars} />{' '}
                  {j.fetchedBars.toLocaleString('en-US')}/{j.expectedBars.toLocaleString('en-US')}
                </td>
                <td className="muted">{fmt(j.lastBarMs)}</td>
                <td
                  data-testid="fetch-job-state"
                  className={j.state === 'failed' ? 'bad' : j.state === 'done' ? 'good' : ''}
                >
                  {j.state}
                </td>
                <td className="muted">{j.message}</td>
                <td>
                  {j.state === 'running' && (
                    <button
                      type="button"
                      data-testid="fetch-cancel"
                      onClick={() => void getApi().history.cancel({ jobId: j.jobId })}
                    >
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
