import { useCallback, useRef } from 'react';
import {
  DockviewReact,
  themeDark,
  themeLight,
  type DockviewApi,
  type DockviewReadyEvent,
  type IDockviewPanelProps,
} from 'dockview-react';
import { panels } from '../panels/registry.ts';

export const LAYOUT_STORAGE_KEY = 'vantage.layout.v1';

const components: Record<string, React.FunctionComponent<IDockviewPanelProps>> = Object.fromEntries(
  panels.map((p) => {
    const Component = p.component;
    const Wrapped = () => <Component />;
    Wrapped.displayName = `Panel(${p.id})`;
    return [p.id, Wrapped];
  }),
);

function addDefaultLayout(api: DockviewApi): void {
  let mainId: string | null = null;
  for (const p of panels.filter((x) => x.defaultArea === 'main')) {
    api.addPanel({
      id: p.id,
      component: p.id,
      title: p.title,
      ...(mainId ? { position: { referencePanel: mainId } } : {}),
    });
    mainId ??= p.id;
  }
  let sideId: string | null = null;
  for (const p of panels.filter((x) => x.defaultArea === 'side')) {
    const position = sideId
      ? { referencePanel: sideId }
      : mainId
        ? { referencePanel: mainId, direction: 'right' as const }
        : undefined;
    api.addPanel({ id: p.id, component: p.id, title: p.title, ...(position ? { position } : {}) });
    sideId ??= p.id;
  }
  let bottomId: string | null = null;
  for (const p of panels.filter((x) => x.defaultArea === 'bottom')) {
    const anchor = mainId ?? sideId;
    const position = bottomId
      ? { referencePanel: bottomId }
      : anchor
        ? { referencePanel: anchor, direction: 'below' as const }
        : undefined;
    api.addPanel({ id: p.id, component: p.id, title: p.title, ...(position ? { position } : {}) });
    bottomId ??= p.id;
  }
}

/** Opens a panel that the user closed (from the Panels menu). */
export function openPanel(api: DockviewApi, id: string): void {
  const existing = api.getPanel(id);
  if (existing) {
    existing.api.setActive();
    return;
  }
  const def = panels.find((p) => p.id === id);
  if (def) api.addPanel({ id: def.id, component: def.id, title: def.title });
}

/** The dockable, resizable workspace. The arrangement persists across restarts (localStorage). */
export function Workspace(props: { theme: 'dark' | 'light'; onApi(api: DockviewApi): void }) {
  const apiRef = useRef<DockviewApi | null>(null);
  const { onApi } = props;
  const onReady = useCallback(
    (event: DockviewReadyEvent) => {
      apiRef.current = event.api;
      const saved = localStorage.getItem(LAYOUT_STORAGE_KEY);
      let isRestored = false;
      if (saved) {
        try {
          event.api.fromJSON(JSON.parse(saved));
          isRestored = true;
        } catch {
          localStorage.removeItem(LAYOUT_STORAGE_KEY);
        }
      }
      if (!isRestored) addDefaultLayout(event.api);
      // Panels added by a newer version appear even with an older saved layout.
      for (const p of panels)
        if (!event.api.getPanel(p.id) && !saved?.includes(`"${p.id}"`)) openPanel(event.api, p.id);
      const save = (): void => localStorage.setItem(LAYOUT_STORAGE_KEY, JSON.stringify(event.api.toJSON()));
      save();
      event.api.onDidLayoutChange(save);
      onApi(event.api);
    },
    [onApi],
  );
  return (
    <div className="workspace" data-testid="workspace">
      <DockviewReact
        theme={props.theme === 'dark' ? themeDark : themeLight}
        components={components}
        onReady={onReady}
      />
    </div>
  );
}
