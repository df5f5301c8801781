import { Fragment, useCallback, useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import type { ModelSummary } from '../../../../shared/contract/models.ts';
import type { AppError } from '../../../../shared/errors.ts';
import { TrainSection } from './TrainSection.tsx';

function toBase64(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  // Chunked: String.fromCharCode with a huge spread overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fieldOf(error: AppError): string | null {
  const details = error.details as { field?: unknown; issues?: { path?: unknown[] }[] } | undefined;
  if (typeof details?.field === 'string') return details.field;
  const path = details?.issues?.[0]?.path;
  return Array.isArray(path) ? path.join('.') : null;
}

function CardDetails({ m }: { m: ModelSummary }) {
  const card = m.card ?? {};
  const label = card['label'] as { definition?: string; meaning?: string } | undefined;
  const training = card['training'] as
    { data?: { source?: string; firstBar?: string; lastBar?: string } } | undefined;
  const evaluation = card['evaluation'] as
    { verdict?: string; outOfSample?: { overall?: { metrics?: Record<string, number> } } } | undefined;
  const metrics = evaluation?.outOfSample?.overall?.metrics;
  return (
    <dl className="kv" data-testid={`model-card-${m.name}`}>
      <dt>sha256</dt>
      <dd data-testid="model-sha256" style={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
        {m.sha256}
      </dd>
      <dt>inputs</dt>
      <dd>
        {m.layout} · {m.features.length} features: {m.features.join(', ')}
      </dd>
      {label?.definition && (
        <>
          <dt>label</dt>
          <dd>{label.definition}</dd>
        </>
      )}
      {training?.data && (
        <>
          <dt>training data</dt>
          <dd>
            {training.data.source} {training.data.firstBar} .. {training.data.lastBar}
          </dd>
        </>
      )}
      {metrics && (
        <>
          <dt>out-of-sample</dt>
          <dd>
            {Object.entries(metrics)
              .filter(([, v]) => typeof v === 'number')
              .slice(0, 6)
              .map(([k, v]) => `${k} ${Number(v).toPrecision(4)}`)
              .join(' · ')}
          </dd>
        </>
      )}
      {evaluation?.verdict && (
        <>
          <dt>verdict</dt>
          <dd>{evaluation.verdict}</dd>
        </>
      )}
      {m.placement && (
        <>
          <dt>batch-1 runs</dt>
          <dd data-testid="model-placement">{m.placement}</dd>
        </>
      )}
      {m.providerNotes.length > 0 && (
        <>
          <dt>providers skipped</dt>
          <dd className="muted">{m.providerNotes.join('; ')}</dd>
        </>
      )}
    </dl>
  );
}

/**
 * Model manager: bundled and imported models with card details, hash, active execution provider
 * and latency p50/p99; load/unload; import an .onnx + card (sent as content; the engine validates
 * and names the failing field).
 */
export function ModelManager() {
  const [models, setModels] = useState<ModelSummary[]>([]);
  const [expanded, setExpanded] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [onnxFile, setOnnxFile] = useState<File | null>(null);
  const [cardFile, setCardFile] = useState<File | null>(null);
  const [importErrors, setImportErrors] = useState<{ field: string; message: string }[]>([]);
  const [imported, setImported] = useState<string | null>(null);

  const refresh = useCallback(() => {
    void getApi()
      .models.list({})
      .then((r) => {
        if (r.ok) setModels(r.value.models);
      });
  }, []);

  useEffect(() => {
    refresh();
    const off = getApi().on('models:changed', (p) => setModels(p.models));
    // Latency figures change with every run; refresh them while the panel is open.
    const timer = window.setInterval(refresh, 5000);
    return () => {
      off();
      window.clearInterval(timer);
    };
  }, [refresh]);

  const act = async (name: string, action: 'load' | 'unload' | 'verify'): Promise<void> => {
    setBusy(name);
    setActionError(null);
    const api = getApi();
    const reply =
      action === 'load'
        ? await api.models.load({ name })
        : action === 'unload'
          ? await api.models.unload({ name })
          : await api.models.verify({ name });
    setBusy(null);
    if (!reply.ok) setActionError(`${name}: ${reply.error.message}`);
    refresh();
  };

  const doImport = async (): Promise<void> => {
    setImportErrors([]);
    setImported(null);
    const errors: { field: string; message: string }[] = [];
    if (!onnxFile) errors.push({ field: 'file', message: 'choose an .onnx file' });
    if (!cardFile) errors.push({ field: 'card', message: 'choose the model card (.json)' });
    if (errors.length > 0 || !onnxFile || !cardFile) {
      setImportErrors(errors);
      return;
    }
    setBusy('import');
    const [bytes, cardJson] = await Promise.all([onnxFile.arrayBuffer(), cardFile.text()]);
    const reply = await getApi().models.import({ onnxBase64: toBase64(bytes), cardJson });
    setBusy(null);
    if (reply.ok) {
      setImported(reply.value.name);
      refresh();
    } else {
      setImportErrors([{ field: fieldOf(reply.error) ?? reply.error.code, message: reply.error.message }]);
    }
  };

  return (
    <div className="panel-body" data-testid="model-manager">
      <table className="table" data-testid="model-table">
        <thead>
          <tr>
            <th>Model</th>
            <th>Version</th>
            <th>Source</th>
            <th>Status</th>
            <th>Provider</th>
            <th>batch-1 p50 / p99 (µs)</th>
            <th>runs · batch rows/s</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <Fragment key={m.name}>
              <tr data-testid={`model-row-${m.name}`}>
                <td>
                  <button
                    className="link"
                    onClick={() => setExpanded(expanded === m.name ? null : m.name)}
                    aria-expanded={expanded === m.name}
                  >
                    {m.name}
                  </button>
                </td>
                <td>{m.version}</td>
                <td>{m.source}</td>
                <td data-testid="model-status" title={m.error?.message}>
                  {m.status}
                  {m.error ? `: ${m.error.message}` : ''}
                </td>
                <td data-testid="model-provider">{m.provider ?? '-'}</td>
                <td data-testid="model-latency">
                  {m.latency && m.latency.count > 0
                    ? `${m.latency.p50Us} / ${m.latency.p99Us} (${m.latency.singleRowThread === 'engine' ? 'engine thread' : 'worker'})`
                    : '-'}
                </td>
                <td data-testid="model-runs">
                  {m.latency
                    ? `${m.latency.count} · ${m.latency.batchRuns > 0 ? Math.round(m.latency.batchRowsPerSecond).toLocaleString() : '-'}`
                    : '-'}
                </td>
                <td>
                  {m.status === 'loaded' ? (
                    <button
                      disabled={busy !== null}
                      data-testid={`unload-${m.name}`}
                      onClick={() => void act(m.name, 'unload')}
                    >
                      Unload
                    </button>
                  ) : (
                    <button
                      disabled={busy !== null}
                      data-testid={`load-${m.name}`}
                      onClick={() => void act(m.name, 'load')}
                    >
                      Load
                    </button>
                  )}{' '}
                  <button disabled={busy !== null} onClick={() => void act(m.name, 'verify')}>
                    Verify
                  </button>
                </td>
              </tr>
              {expanded === m.name && (
                <tr>
                  <td colSpan={8}>
                    <CardDetails m={m} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {actionError && (
        <div className="error" role="alert" data-testid="model-action-error">
          {actionError}
        </div>
      )}
      <fieldset data-testid="model-import">
        <legend>Import a model</legend>
        <label>
          ONNX file{' '}
          <input
            type="file"
            accept=".onnx"
            data-testid="import-onnx"
            onChange={(e) => setOnnxFile(e.target.files?.[0] ?? null)}
          />
        </label>{' '}
        <label>
          Model card{' '}
          <input
            type="file"
            accept=".json,application/json"
            data-testid="import-card"
            onChange={(e) => setCardFile(e.target.files?.[0] ?? null)}
          />
        </label>{' '}
        <button data-testid="import-submit" disabled={busy !== null} onClick={() => void doImport()}>
          Import
        </button>
        {imported && <span data-testid="import-ok"> Imported {imported}.</span>}
        {importErrors.length > 0 && (
          <ul className="error" role="alert" data-testid="import-errors">
            {importErrors.map((e) => (
              <li key={e.field} data-testid="import-error" data-field={e.field}>
                <strong>{e.field}</strong>: {e.message}
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      <TrainSection />
    </div>
  );
}
