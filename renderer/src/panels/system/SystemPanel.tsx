import { useAppStore } from '../../store.ts';
import { getTransport } from '../../api.ts';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m ${s % 60}s` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/** Everything engine:status reports, as it reports it. */
export function SystemPanel() {
  const status = useAppStore((s) => s.engineStatus);
  const connection = useAppStore((s) => s.connection);
  const heartbeatMs = useAppStore((s) => s.lastHeartbeatMs);
  if (!status) {
    return (
      <div className="panel-body" data-testid="system-panel">
        <p className="muted">Waiting for the engine ({connection})…</p>
      </div>
    );
  }
  const rows: [string, string, string][] = [
    ['Version', status.version, 'system-version'],
    ['Engine state', status.state, 'system-state'],
    ['Mode', status.mode, 'system-mode'],
    ['Trading', status.tradingEnabled ? 'enabled' : 'disabled', 'system-trading'],
    // The heartbeat carries engine time, so uptime advances without polling.
    [
      'Uptime',
      formatDuration(
        heartbeatMs ? Math.max(status.uptimeMs, heartbeatMs - status.startedAtMs) : status.uptimeMs,
      ),
      'system-uptime',
    ],
    ['Data folder', status.dataDir, 'system-data-dir'],
    ['Node', status.nodeVersion, 'system-node-version'],
    ['Platform', `${status.platform}/${status.arch} (pid ${status.pid})`, 'system-platform'],
    ['ONNX Runtime', status.onnxRuntime.version, 'system-ort-version'],
    ['Execution provider', status.onnxRuntime.activeProvider, 'system-provider'],
    ['Engine restarts', String(status.restarts), 'system-restarts'],
    ['Transport', getTransport(), 'system-transport'],
  ];
  return (
    <div className="panel-body" data-testid="system-panel">
      <table className="kv">
        <tbody>
          {rows.map(([k, v, id]) => (
            <tr key={id}>
              <th>{k}</th>
              <td data-testid={id}>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Execution providers</h3>
      <table className="grid" data-testid="system-providers">
        <thead>
          <tr>
            <th>Provider</th>
            <th>Available</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {status.onnxRuntime.providers.map((p) => (
            <tr key={p.name} data-testid={`provider-${p.name}`}>
              <td>{p.name}</td>
              <td>{p.available ? 'yes' : 'no'}</td>
              <td>{p.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Databases</h3>
      <table className="grid" data-testid="system-databases">
        <thead>
          <tr>
            <th>File</th>
            <th>Schema</th>
            <th>Journal</th>
            <th>Sync</th>
            <th>Integrity</th>
            <th>Size</th>
            <th>Path</th>
          </tr>
        </thead>
        <tbody>
          {status.databases.map((d) => (
            <tr key={d.name} data-testid={`db-${d.name}`}>
              <td>{d.name}</td>
              <td data-testid={`db-${d.name}-schema`}>
                {d.schemaVersion}/{d.latestSchemaVersion}
              </td>
              <td>{d.journalMode}</td>
              <td>{d.synchronous}</td>
              <td data-testid={`db-${d.name}-integrity`} className={d.integrity === 'ok' ? 'good' : 'bad'}>
                {d.integrity}
              </td>
              <td>{formatBytes(d.sizeBytes)}</td>
              <td className="path">{d.path}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Charts by TradingView Lightweight Charts™ (
        <a href="https://www.tradingview.com/" rel="noreferrer" target="_blank">
          tradingview.com
        </a>
        ).
      </p>
      {status.problems.length > 0 && (
        <>
          <h3>Problems</h3>
          <ul data-testid="system-problems">
            {status.problems.map((p, i) => (
              <li key={i}>
                <code>{p.code}</code> {p.message}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
