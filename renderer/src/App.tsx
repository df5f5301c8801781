import { useEffect, useState } from 'react';
import type { DockviewApi } from 'dockview-react';
import { getApi } from './api.ts';
import { useAppStore } from './store.ts';
import { Workspace, openPanel, LAYOUT_STORAGE_KEY } from './layout/Workspace.tsx';
import { StatusBar } from './layout/StatusBar.tsx';
import { ErrorBanner } from './layout/ErrorBanner.tsx';
import { panels } from './panels/registry.ts';
import { startTradingSync, useTradingStore } from './trading/trading-store.ts';
import { chartBus } from './panels/chart/chart-bus.ts';

export function App() {
  const theme = useAppStore((s) => s.theme);
  const setTheme = useAppStore((s) => s.setTheme);
  const status = useAppStore((s) => s.engineStatus);
  const connection = useAppStore((s) => s.connection);
  const [dock, setDock] = useState<DockviewApi | null>(null);

  useEffect(() => {
    const api = getApi();
    const store = useAppStore.getState();
    let isActive = true;
    void api.engine.status({}).then((reply) => {
      if (!isActive) return;
      if (reply.ok) store.setEngineStatus(reply.value);
      else store.showBanner(reply.error);
    });
    const offStatus = api.on('engine:changed', (s) => useAppStore.getState().setEngineStatus(s));
    const offBeat = api.on('engine:heartbeat', (h) => useAppStore.getState().setHeartbeat(h.engineTimeMs));
    // Desktop only: main's supervisor reports engine crashes and restarts (never sent by `vantage serve`).
    const offSupervisor = api.on('supervisor:changed', (s) => {
      const app = useAppStore.getState();
      app.setSupervisor(s);
      if (s.state === 'restarting' || s.state === 'failed')
        app.showBanner({ code: 'ENGINE_UNAVAILABLE', message: s.message });
      else if (s.state === 'running' && app.banner?.code === 'ENGINE_UNAVAILABLE') app.showBanner(null);
    });
    return () => {
      isActive = false;
      offStatus();
      offBeat();
      offSupervisor();
    };
  }, []);

  useEffect(() => startTradingSync(getApi()), []);
  useEffect(() => (dock ? chartBus.onOpenPanel((id) => openPanel(dock, id)) : undefined), [dock]);

  // Keyboard: F9 opens the order ticket; Ctrl+Shift+K asks to engage the kill switch.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!dock) return;
      if (e.key === 'F9') {
        e.preventDefault();
        openPanel(dock, 'order-ticket');
        useTradingStore.getState().setTicketOpen(true);
      } else if (e.key.toLowerCase() === 'k' && e.ctrlKey && e.shiftKey) {
        e.preventDefault();
        openPanel(dock, 'risk');
        useTradingStore.setState((st) => ({ killRequest: st.killRequest + 1 }));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dock]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => {
    if (connection === 'reconnecting') {
      useAppStore
        .getState()
        .showBanner({ code: 'IPC_TRANSPORT', message: 'Lost the connection to the engine; reconnecting…' });
    } else if (connection === 'open' && useAppStore.getState().banner?.code === 'IPC_TRANSPORT') {
      useAppStore.getState().showBanner(null);
    }
  }, [connection]);

  // The app-ready signal tests wait on: the engine answered and the workspace is laid out.
  const isReady = status !== null && dock !== null;

  return (
    <div className="app" data-testid="app" data-app-ready={isReady ? 'true' : 'false'}>
      <header className="toolbar">
        <span className="brand">Vantage</span>
        <label className="panel-menu">
          Panels{' '}
          <select
            data-testid="panel-menu"
            value=""
            onChange={(e) => {
              if (dock && e.target.value) openPanel(dock, e.target.value);
            }}
          >
            <option value="">open…</option>
            {panels.map((p) => (
              <option key={p.id} value={p.id}>
                {p.title}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          data-testid="reset-layout"
          onClick={() => {
            localStorage.removeItem(LAYOUT_STORAGE_KEY);
            window.location.reload();
          }}
        >
          Reset layout
        </button>
        <button
          type="button"
          data-testid="theme-toggle"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </header>
      <ErrorBanner />
      <Workspace theme={theme} onApi={setDock} />
      <StatusBar />
    </div>
  );
}
