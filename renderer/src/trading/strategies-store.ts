import { create } from 'zustand';
import type { VantageApi } from '../../../shared/client.ts';
import type { Signal, StrategyInstance } from '../../../shared/contract/strategies.ts';

/** Signals kept in the renderer (newest first); older ones stay in the engine (strategies:signals). */
export const MAX_SIGNALS = 1000;

export interface StrategiesState {
  instances: StrategyInstance[];
  /** Newest first. */
  signals: Signal[];
  /** The signal the Signals view shows in detail (set there, or by a click on a chart signal marker). */
  selectedSignalId: string | null;
  /** Why the last load failed (engine without the strategies module, transport), null when loaded. */
  loadError: string | null;
  selectSignal(id: string | null): void;
}

export const useStrategiesStore = create<StrategiesState>((set) => ({
  instances: [],
  signals: [],
  selectedSignalId: null,
  loadError: null,
  selectSignal: (selectedSignalId) => set({ selectedSignalId }),
}));

/** Newest first by decision time, then by id so equal times keep a stable order; ids are unique. */
export function mergeSignals(current: Signal[], incoming: Signal[]): Signal[] {
  const byId = new Map<string, Signal>();
  for (const s of current) byId.set(s.signalId, s);
  for (const s of incoming) byId.set(s.signalId, s);
  return [...byId.values()]
    .sort((a, b) => b.tsMs - a.tsMs || (a.signalId < b.signalId ? 1 : a.signalId > b.signalId ? -1 : 0))
    .slice(0, MAX_SIGNALS);
}

/**
 * Loads running/stopped strategies and recent signals once, then keeps them current from
 * strategies:changed (latest state) and strategies:signal (every new signal). Returns a stop function.
 */
export function startStrategiesSync(api: VantageApi): () => void {
  const store = useStrategiesStore;
  let isActive = true;
  // Signals that arrive while the first page loads are merged with it, not overwritten by it.
  void api.strategies.list({}).then((reply) => {
    if (!isActive) return;
    if (reply.ok) store.setState({ instances: reply.value.instances });
    else store.setState({ loadError: reply.error.message });
  });
  void api.strategies.signals({ limit: 500 }).then((reply) => {
    if (!isActive) return;
    if (reply.ok)
      store.setState((s) => ({ signals: mergeSignals(s.signals, reply.value.signals), loadError: null }));
    else store.setState({ loadError: reply.error.message });
  });
  const offChanged = api.on('strategies:changed', (payload) =>
    store.setState({ instances: payload.instances, loadError: null }),
  );
  const offSignal = api.on('strategies:signal', (batch) =>
    store.setState((s) => ({ signals: mergeSignals(s.signals, batch) })),
  );
  return () => {
    isActive = false;
    offChanged();
    offSignal();
  };
}
