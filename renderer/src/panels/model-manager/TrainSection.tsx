import { useCallback, useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import type { z } from 'zod';
import type { seriesInfoSchema } from '../../../../shared/contract/market.ts';
import type { TrainJob, TrainRequest, TrainResultSummary } from '../../../../shared/contract/training.ts';

type SeriesInfo = z.infer<typeof seriesInfoSchema>;

const seriesKey = (s: { venue: string; symbol: string; timeframe: string }) =>
  `${s.venue}:${s.symbol}:${s.timeframe}`;
const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const num = (x: number | null, digits = 3) => (x === null ? '–' : x.toFixed(digits));
const day = (ms: number | null) => (ms === null ? '–' : new Date(ms).toISOString().slice(0, 10));

/** Parses an optional integer field; null when it is not a whole number in [min, max]. */
function intField(text: string, min: number, max: number): number | null {
  const n = Number(text);
  return text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
}

/** The card's out-of-sample figures for a finished training (never in-sample ones). */
function ResultSummary(props: { result: TrainResultSummary }) {
  const r = props.result;
  return (
    <div data-testid="train-result">
      <p>
        Saved <strong data-testid="train-result-name">{r.name}</strong> to{' '}
        <span className="muted">{r.folder}</span>
      </p>
      <p className="muted">
        Out of sample: walk-forward over {r.folds} folds, {r.outOfSampleRows.toLocaleString('en-US')} rows,
        purged and embargoed (trained on {r.bars.toLocaleString('en-US')} bars).
      </p>
      <table className="grid">
        <tbody>
          {r.task === 'binary-classification' ? (
            <>
              <tr>
                <td>AUC</td>
                <td className="num" data-testid="train-result-auc">
                  {num(r.auc)}
                </td>
                <td className="muted">0.5 = no skill</td>
              </tr>
              <tr>
                <td>Accuracy</td>
                <td className="num">{pct(r.accuracy)}</td>
                <td className="muted">
                  always guessing the majority:{' '}
                  {pct(r.positiveRate === null ? null : Math.max(r.positiveRate, 1 - r.positiveRate))}
                </td>
              </tr>
            </>
          ) : (
            <>
              <tr>
                <td>Correlation</td>
                <td className="num" data-testid="train-result-correlation">
                  {num(r.correlation)}
                </td>
                <td className="muted">prediction vs realised return</td>
              </tr>
              <tr>
                <td>Direction accuracy</td>
                <td className="num">{pct(r.directionAccuracy)}</td>
                <td />
              </tr>
            </>
          )}
          <tr>
            <td>Strategy after fees</td>
            <td className="num">{pct(r.strategyReturn)}</td>
            <td className="muted">buy-and-hold over the same bars: {pct(r.buyAndHoldReturn)}</td>
          </tr>
        </tbody>
      </table>
      <p data-testid="train-result-verdict">{r.verdict}</p>
    </div>
  );
}

/**
 * Train a model from the app: a stored series, a label and a model kind; the engine trains it on a
 * worker thread (progress, cancel) and saves it into the user models folder with its card.
 */
export function TrainSection() {
  const [series, setSeries] = useState<SeriesInfo[]>([]);
  const [selected, setSelected] = useState('');
  const [label, setLabel] = useState('sign:12');
  const [model, setModel] = useState<'gbdt' | 'logistic'>('gbdt');
  const [name, setName] = useState('');
  const [trees, setTrees] = useState('200');
  const [depth, setDepth] = useState('5');
  const [folds, setFolds] = useState('4');
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState('');
  const [jobs, setJobs] = useState<TrainJob[]>([]);
  const [error, setError] = useState<string | null>(null);

  const loadSeries = useCallback(async () => {
    const reply = await getApi().market.series({});
    if (!reply.ok) return;
    setSeries(reply.value.series);
    setSelected((current) =>
      current && reply.value.series.some((s) => seriesKey(s) === current)
        ? current
        : reply.value.series[0]
          ? seriesKey(reply.value.series[0])
          : '',
    );
  }, []);

  useEffect(() => {
    const api = getApi();
    void loadSeries();
    void api.training.jobs({}).then((r) => r.ok && setJobs(r.value.jobs));
    return api.on('training:changed', (payload) => setJobs(payload.jobs));
  }, [loadSeries]);

  const start = async () => {
    const chosen = series.find((s) => seriesKey(s) === selected);
    if (!chosen) {
      setError('Choose a stored series (import or fetch one in the Data panel first).');
      return;
    }
    const t = intField(trees, 1, 10_000);
    const d = intField(depth, 1, 16);
    const f = intField(folds, 1, 50);
    if (t === null || d === null || f === null) {
      setError('Trees must be 1-10000, depth 1-16 and folds 1-50.');
      return;
    }
    const fromMs = from ? Date.parse(`${from}T00:00:00Z`) : undefined;
    const toMs = until ? Date.parse(`${until}T00:00:00Z`) : undefined;
    if (
      (fromMs !== undefined && !Number.isFinite(fromMs)) ||
      (toMs !== undefined && !Number.isFinite(toMs))
    ) {
      setError('Dates must be YYYY-MM-DD.');
      return;
    }
    const request: TrainRequest = {
      venue: chosen.venue,
      symbol: chosen.symbol,
      timeframe: chosen.timeframe,
      label: label.trim(),
      model,
      trees: t,
      depth: d,
      folds: f,
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
    };
    const reply = await getApi().training.start(request);
    setError(reply.ok ? null : reply.error.message);
  };

  const latest = jobs[0];
  const running = latest?.state === 'running';

  return (
    <div data-testid="train-section">
      <h3>Train a model</h3>
      <div className="row">
        <label>
          series{' '}
          <select
            data-testid="train-series"
            value={selected}
            onChange={(e) => setSelected(e.target.value)}
            onFocus={() => void loadSeries()}
          >
            {series.length === 0 && <option value="">no stored series</option>}
            {series.map((s) => (
              <option key={seriesKey(s)} value={seriesKey(s)}>
                {s.venue} {s.symbol} {s.timeframe} ({s.barCount.toLocaleString('en-US')} bars,{' '}
                {day(s.firstMs)} – {day(s.lastMs)})
              </option>
            ))}
          </select>
        </label>
        <button type="button" data-testid="train-refresh" onClick={() => void loadSeries()}>
          Refresh
        </button>
        <label>
          from{' '}
          <input
            data-testid="train-from"
            value={from}
            onChange={(e) => setFrom(e.target.value)}
            size={10}
            placeholder="first bar"
          />
        </label>
        <label>
          until{' '}
          <input
            data-testid="train-until"
            value={until}
            onChange={(e) => setUntil(e.target.value)}
            size={10}
            placeholder="last bar"
          />
        </label>
      </div>
      <div className="row">
        <label title="sign:H (close H bars ahead above now), above:H:X (H-bar return above X) or return:H (regression)">
          label{' '}
          <input
            data-testid="train-label"
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            size={12}
          />
        </label>
        <label>
          model{' '}
          <select
            data-testid="train-model"
            value={model}
            onChange={(e) => setModel(e.target.value as 'gbdt' | 'logistic')}
          >
            <option value="gbdt">gbdt</option>
            <option value="logistic">logistic</option>
          </select>
        </label>
        {model === 'gbdt' && (
          <>
            <label>
              trees{' '}
              <input
                data-testid="train-trees"
                value={trees}
                onChange={(e) => setTrees(e.target.value)}
                size={5}
              />
            </label>
            <label>
              depth{' '}
              <input
                data-testid="train-depth"
                value={depth}
                onChange={(e) => setDepth(e.target.value)}
                size={3}
              />
            </label>
          </>
        )}
        <label>
          folds{' '}
          <input
            data-testid="train-folds"
            value={folds}
            onChange={(e) => setFolds(e.target.value)}
            size={3}
          />
        </label>
        <label>
          name{' '}
          <input
            data-testid="train-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            size={18}
            placeholder="from series and label"
          />
        </label>
        <button type="button" data-testid="train-start" disabled={running} onClick={() => void start()}>
          Train
        </button>
      </div>
      {error && (
        <p className="bad" data-testid="train-error">
          {error}
        </p>
      )}
      {latest && (
        <div data-testid="train-job">
          <div className="row">
            <span>
              {latest.name} ({latest.model}, {latest.label}) on {latest.venue} {latest.symbol}{' '}
              {latest.timeframe}
            </span>
            <progress data-testid="train-progress" max={1} value={latest.progress} />
            {running && (
              <span className="muted" data-testid="train-phase">
                {latest.phase}
              </span>
            )}
            <span
              data-testid="train-state"
              className={latest.state === 'failed' ? 'bad' : latest.state === 'done' ? 'good' : ''}
            >
              {latest.state}
            </span>
            {running && (
              <button
                type="button"
                data-testid="train-cancel"
                onClick={() => void getApi().training.cancel({ jobId: latest.jobId })}
              >
                Cancel
              </button>
            )}
          </div>
          {latest.state !== 'done' && (
            <p className={latest.state === 'failed' ? 'bad' : 'muted'} data-testid="train-message">
              {latest.message}
            </p>
          )}
          {latest.result && <ResultSummary result={latest.result} />}
        </div>
      )}
      {jobs.length > 1 && (
        <table className="grid" data-testid="train-history">
          <tbody>
            {jobs.slice(1).map((j) => (
              <tr key={j.jobId}>
                <td>{j.name}</td>
                <td>{j.state}</td>
                <td className="num">
                  {j.result?.auc != null
                    ? `AUC ${num(j.result.auc)}`
                    : j.result
                      ? `corr ${num(j.result.correlation)}`
                      : ''}
                </td>
                <td className="muted">{j.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
