/**
 * A tiny event hub between the chart and other panels, outside React state: panels ask the chart
 * to scroll to a time; the chart reports the bar the user selected and asks the workspace to open a panel.
 */
type Listener<T> = (value: T) => void;

function channel<T>() {
  const listeners = new Set<Listener<T>>();
  return {
    emit(value: T) {
      for (const l of [...listeners]) l(value);
    },
    on(listener: Listener<T>): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const scrollTo = channel<number>();
const selectedTime = channel<number>();
const openPanelRequest = channel<string>();
const seriesChanged = channel<void>();
let lastSelectedTimeMs: number | null = null;

export const chartBus = {
  scrollTo: (timeMs: number) => scrollTo.emit(timeMs),
  onScrollTo: (l: Listener<number>) => scrollTo.on(l),
  selectTime: (timeMs: number) => {
    lastSelectedTimeMs = timeMs;
    selectedTime.emit(timeMs);
  },
  onSelectTime: (l: Listener<number>) => selectedTime.on(l),
  lastSelectedTime: () => lastSelectedTimeMs,
  /** market.db's stored series changed (import, fetch, delete): lists should reload. */
  seriesChanged: () => seriesChanged.emit(undefined),
  onSeriesChanged: (l: Listener<void>) => seriesChanged.on(l),
  openPanel: (id: string) => openPanelRequest.emit(id),
  onOpenPanel: (l: Listener<string>) => openPanelRequest.on(l),
};
