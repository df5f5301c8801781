import { useAppStore } from '../store.ts';

/** Connection, engine state and execution provider, always visible. */
export function StatusBar() {
  const connection = useAppStore((s) => s.connection);
  const status = useAppStore((s) => s.engineStatus);
  const supervisor = useAppStore((s) => s.supervisor);
  return (
    <footer className="status-bar" data-testid="status-bar">
      <span data-testid="status-connection" className={`pill ${connection === 'open' ? 'good' : 'warn'}`}>
        {connection === 'open' ? 'connected' : connection}
      </span>
      <span
        data-testid="status-engine-state"
        className={`pill ${status?.state === 'ready' ? 'good' : 'warn'}`}
      >
        engine {status?.state ?? 'unknown'}
      </span>
      <span data-testid="status-provider" className="pill">
        EP {status?.onnxRuntime.activeProvider ?? '-'}
      </span>
      <span data-testid="status-trading" className={`pill ${status?.tradingEnabled ? 'good' : 'bad'}`}>
        trading {status ? (status.tradingEnabled ? 'enabled' : 'disabled') : '-'}
      </span>
      {supervisor && supervisor.state !== 'running' && (
        <span data-testid="status-supervisor" className="pill bad" title={supervisor.message}>
          engine process {supervisor.state}
          {supervisor.nextRestartInMs !== null
            ? ` (restart in ${(supervisor.nextRestartInMs / 1000).toFixed(1)} s)`
            : ''}
        </span>
      )}
      {supervisor && supervisor.restarts > 0 && (
        <span className="pill warn">restarts {supervisor.restarts}</span>
      )}
      <span className="spacer" />
      <span className="muted">{status ? `Vantage ${status.version} · ${status.mode}` : ''}</span>
    </footer>
  );
}
