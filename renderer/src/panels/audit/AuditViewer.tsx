import { useCallback, useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import type { ResponseOf } from '../../../../shared/contract/index.ts';
import { useTradingStore } from '../../trading/trading-store.ts';

type AuditRecord = ResponseOf<'audit:query'>['records'][number];
type Verify = ResponseOf<'audit:verify'>;

function toMs(local: string): number | undefined {
  if (!local) return undefined;
  const ms = Date.parse(`${local}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The audit ledger: filter by time, type and text (symbol, order id), verify the chain with a visible result. */
export function AuditViewer() {
  const focusedOrderId = useTradingStore((s) => s.focusedOrderId);
  const [type, setType] = useState('');
  const [text, setText] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [headSeq, setHeadSeq] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [verify, setVerify] = useState<Verify | null>(null);
  const [expanded, setExpanded] = useState<number | null>(null);

  const load = useCallback(
    async (contains?: string) => {
      const fromMs = toMs(from);
      const toMsValue = toMs(to);
      const query = {
        limit: 500,
        ...(type ? { type } : {}),
        ...((contains ?? text) ? { contains: contains ?? text } : {}),
        ...(fromMs !== undefined ? { fromMs } : {}),
        ...(toMsValue !== undefined ? { toMs: toMsValue } : {}),
      };
      const reply = await getApi().audit.query(query);
      if (reply.ok) {
        setRecords(reply.value.records);
        setHeadSeq(reply.value.headSeq);
        setError(null);
      } else setError(reply.error.message);
    },
    [type, text, from, to],
  );

  // A fill marker clicked on the chart focuses its order: show that order's records.
  useEffect(() => {
    if (focusedOrderId) {
      setText(focusedOrderId);
      void load(focusedOrderId);
    }
  }, [focusedOrderId, load]);

  useEffect(() => {
    void load();
    // Initial load only; later loads are explicit.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div className="panel-body" data-testid="audit-viewer">
      <div className="row">
        <input
          data-testid="audit-type"
          placeholder="type (e.g. order.fill)"
          value={type}
          onChange={(e) => setType(e.target.value)}
        />
        <input
          data-testid="audit-text"
          placeholder="symbol or order id"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <label>
          from <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          to <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button type="button" data-testid="audit-search" onClick={() => void load()}>
          Search
        </button>
        <button
          type="button"
          data-testid="audit-verify"
          onClick={() =>
            void getApi()
              .audit.verify({})
              .then((r) => (r.ok ? setVerify(r.value) : setError(r.error.message)))
          }
        >
          Verify chain
        </button>
      </div>
      {verify && (
        <p data-testid="audit-verify-result" className={verify.isOk ? 'good' : 'bad'}>
          {verify.isOk
            ? `OK: ${verify.records} records verified up to #${verify.headSeq}${verify.isCheckpointChecked ? ' and the signed checkpoint' : ''} (${verify.durationMs.toFixed(0)} ms)`
            : `BROKEN at record #${verify.problem?.seq}: ${verify.problem?.kind}: ${verify.problem?.message}`}
        </p>
      )}
      {error && <p className="bad">{error}</p>}
      <p className="muted">
        {records.length} record(s) shown, chain head #{headSeq}
      </p>
      <table className="grid" data-testid="audit-records">
        <thead>
          <tr>
            <th>#</th>
            <th>Time</th>
            <th>Type</th>
            <th>Payload</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr
              key={r.seq}
              data-testid="audit-record"
              className="clickable"
              onClick={() => setExpanded(expanded === r.seq ? null : r.seq)}
            >
              <td>{r.seq}</td>
              <td>{new Date(r.tsMs).toISOString().replace('T', ' ').slice(0, 23)}</td>
              <td>{r.type}</td>
              <td className="path">
                {expanded === r.seq ? (
                  <pre>{JSON.stringify(r.payload, null, 2)}</pre>
                ) : (
                  JSON.stringify(r.payload).slice(0, 160)
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
