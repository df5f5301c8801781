export interface MenuActions {
  /** Engages the engine's kill switch; resolves with what to tell the user. */
  engageKillSwitch(): Promise<string>;
  restartEngine(): void;
  installUpdate(): Promise<string>;
  report(message: string): void;
}

/** The subset of Electron's MenuItemConstructorOptions the app menu uses. */
export interface MenuItemTemplate {
  label?: string;
  role?:
    | 'appMenu'
    | 'editMenu'
    | 'viewMenu'
    | 'windowMenu'
    | 'quit'
    | 'reload'
    | 'toggleDevTools'
    | 'togglefullscreen';
  accelerator?: string;
  type?: 'separator' | 'submenu';
  click?: () => void;
  submenu?: MenuItemTemplate[];
}

export const KILL_SWITCH_ACCELERATOR = 'CommandOrControl+Shift+K';

/** The app menu: a Trading menu with the kill switch on a keyboard shortcut, engine restart and update install. */
export function appMenuTemplate(actions: MenuActions, platform: NodeJS.Platform): MenuItemTemplate[] {
  const run = (action: () => Promise<string>): void => {
    void action().then(actions.report, (err: unknown) =>
      actions.report(err instanceof Error ? err.message : String(err)),
    );
  };
  return [
    ...(platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'editMenu' },
    { role: 'viewMenu' },
    {
      label: 'Trading',
      submenu: [
        {
          label: 'Kill Switch (cancel all orders, stop strategies)',
          accelerator: KILL_SWITCH_ACCELERATOR,
          click: () => run(actions.engageKillSwitch),
        },
        { type: 'separator' },
        { label: 'Restart Engine', click: () => actions.restartEngine() },
        { label: 'Install Downloaded Update', click: () => run(actions.installUpdate) },
      ],
    },
    { role: 'windowMenu' },
  ];
}

export function buildAppMenu<M>(
  menu: { buildFromTemplate(template: MenuItemTemplate[]): M },
  actions: MenuActions,
): M {
  return menu.buildFromTemplate(appMenuTemplate(actions, process.platform));
}
