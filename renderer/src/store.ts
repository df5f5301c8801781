import { create } from 'zustand';
import type { EngineStatus } from '../../shared/contract/engine.ts';
import type { AppError } from '../../shared/errors.ts';
import type { SupervisorStatus } from '../../shared/contract/supervisor.ts';

export type Theme = 'dark' | 'light';

function initialTheme(): Theme {
  const saved = localStorage.getItem('vantage.theme');
  return saved === 'light' || saved === 'dark' ? saved : 'dark';
}

export interface AppState {
  connection: 'connecting' | 'open' | 'reconnecting' | 'closed';
  engineStatus: EngineStatus | null;
  lastHeartbeatMs: number | null;
  theme: Theme;
  /** Engine or transport failures shown in the banner until dismissed. */
  banner: AppError | null;
  /** The desktop app's engine supervisor (null in a browser). */
  supervisor: SupervisorStatus | null;
  setSupervisor(status: SupervisorStatus): void;
  setConnection(state: AppState['connection']): void;
  setEngineStatus(status: EngineStatus): void;
  setHeartbeat(engineTimeMs: number): void;
  setTheme(theme: Theme): void;
  showBanner(error: AppError | null): void;
}

export const useAppStore = create<AppState>((set) => ({
  connection: 'connecting',
  engineStatus: null,
  lastHeartbeatMs: null,
  theme: initialTheme(),
  banner: null,
  supervisor: null,
  setSupervisor: (supervisor) => set({ supervisor }),
  setConnection: (connection) => set({ connection }),
  setEngineStatus: (engineStatus) =>
    set((s) => ({
      engineStatus,
      banner:
        engineStatus.problems.length > 0
          ? (engineStatus.problems[engineStatus.problems.length - 1] ?? null)
          : s.banner?.code === 'IPC_TRANSPORT'
            ? s.banner
            : null,
    })),
  setHeartbeat: (lastHeartbeatMs) => set({ lastHeartbeatMs }),
  setTheme: (theme) => {
    localStorage.setItem('vantage.theme', theme);
    set({ theme });
  },
  showBanner: (banner) => set({ banner }),
}));
