// Wiring test for main/electron/index.ts: the real entry against a fake `electron` module, to check
// that the adapters pass the right things to Electron's APIs (the logic itself is tested in shell/security tests).
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fakeChannel } from './test-support/fake-electron.ts';

const fake = vi.hoisted(() => ({ dataDir: '' }));
fake.dataDir = mkdtempSync(join(tmpdir(), 'vantage-index-'));
afterAll(() => rmSync(fake.dataDir, { recursive: true, force: true }));

class FakeWebContents extends EventEmitter {
  readonly id = 7;
  url = '';
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  readonly postMessage = vi.fn();
  readonly send = vi.fn();
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return false;
  }
  setWindowOpenHandler(handler: (d: { url: string }) => { action: string }): void {
    this.openHandler = handler;
  }
}

const electron = vi.hoisted(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- vi.hoisted runs before imports
  const { EventEmitter: Emitter } = require('node:events') as { EventEmitter: typeof EventEmitter };
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    getPath: () => fake.dataDir,
    getVersion: () => '0.1.0',
    getAppPath: () => '/repo',
    requestSingleInstanceLock: () => true,
    whenReady: async () => undefined,
    quit: () => undefined,
  });
  const windows: { options: Record<string, unknown>; webContents: unknown }[] = [];
  const children: (InstanceType<typeof Emitter> & {
    postMessage: (...a: unknown[]) => void;
    posted: unknown[][];
    kill: () => boolean;
  })[] = [];
  const forks: unknown[][] = [];
  const session = {
    permissionRequest: null as null | ((wc: unknown, permission: string, cb: (b: boolean) => void) => void),
    permissionCheck: null as null | ((wc: unknown, permission: string) => boolean),
    headers: null as unknown,
  };
  return { app, windows, children, forks, session, ipcMain: new Emitter(), menu: [] as unknown[] };
});

vi.mock('electron', () => {
  class BrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    constructor(options: Record<string, unknown>) {
      super();
      electron.windows.push({ options, webContents: this.webContents });
      electron.app.emit('web-contents-created', {}, this.webContents);
    }
    async loadFile(path: string): Promise<void> {
      this.webContents.url = `file://${path}`;
      this.emit('ready-to-show');
    }
    async loadURL(url: string): Promise<void> {
      this.webContents.url = url;
    }
    isDestroyed = (): boolean => false;
    isMinimized = (): boolean => false;
    restore = (): void => undefined;
    show = (): void => undefined;
    focus = (): void => undefined;
  }
  return {
    app: electron.app,
    BrowserWindow,
    ipcMain: electron.ipcMain,
    Menu: {
      buildFromTemplate: (t: unknown[]) => t,
      setApplicationMenu: (m: unknown[]) => electron.menu.push(...m),
    },
    MessageChannelMain: class {
      readonly port1;
      readonly port2;
      constructor() {
        const c = fakeChannel();
        this.port1 = c.port1;
        this.port2 = c.port2;
      }
    },
    dialog: { showMessageBox: async () => ({ response: 0 }) },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: never) => void (electron.session.permissionRequest = h),
        setPermissionCheckHandler: (h: never) => void (electron.session.permissionCheck = h),
        setDevicePermissionHandler: () => undefined,
        webRequest: { onHeadersReceived: (h: unknown) => void (electron.session.headers = h) },
      },
    },
    shell: { openExternal: async () => undefined },
    utilityProcess: {
      fork: (...args: unknown[]) => {
        electron.forks.push(args);
        const child = Object.assign(new EventEmitter(), {
          posted: [] as unknown[][],
          postMessage: (...a: unknown[]) => void child.posted.push(a),
          kill: () => true,
        });
        electron.children.push(child);
        return child;
      },
    },
  };
});

vi.mock('electron-updater', () => ({
  default: {
    autoUpdater: Object.assign(new EventEmitter(), {
      autoDownload: false,
      autoInstallOnAppQuit: true,
      checkForUpdates: async () => null,
      quitAndInstall: () => undefined,
    }),
  },
}));

describe('main/electron/index.ts wiring', () => {
  it('starts the window, the engine and the guards through the real Electron APIs', async () => {
    await import('./index.ts');
    // Main's own log file (the engine process owns vantage.log).
    await vi.waitFor(() => expect(existsSync(join(fake.dataDir, 'logs', 'shell.log'))).toBe(true));

    // The window: secure options, the built preload, the built renderer.
    expect(electron.windows).toHaveLength(1);
    const { options, webContents } = electron.windows[0]! as {
      options: { webPreferences: Record<string, unknown> };
      webContents: FakeWebContents;
    };
    expect(options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      webSecurity: true,
      nodeIntegration: false,
      webviewTag: false,
    });
    expect(String(options.webPreferences.preload)).toMatch(/[/\\]preload[/\\]index\.cjs$/);
    expect(webContents.url).toMatch(/^file:\/\/.*[/\\]renderer[/\\]index\.html$/);

    // The engine: a utility process with the data folder and resources as arguments.
    expect(electron.forks).toHaveLength(1);
    const [entry, args] = electron.forks[0]! as [string, string[]];
    expect(entry).toMatch(/engine-entry\.js$/);
    expect(args).toContain(`--data-dir=${fake.dataDir}`);
    expect(args).toContain('--resources-dir=/repo/resources');
    expect(electron.children[0]!.posted.map((p) => (p[0] as { origin: string }).origin)).toEqual(['main']);

    // Guards on the window's WebContents and the session.
    expect(webContents.openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const callback = vi.fn();
    electron.session.permissionRequest!(webContents, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(electron.session.permissionCheck!(webContents, 'notifications')).toBe(false);
    expect(electron.session.headers).toBeTypeOf('function');

    // Port hand-off: a subframe is refused, the main frame of the app page gets the port.
    electron.ipcMain.emit('vantage:engine-port-request', {
      sender: { id: 7 },
      senderFrame: { url: webContents.url, parent: {} },
    });
    expect(webContents.postMessage).not.toHaveBeenCalled();
    electron.ipcMain.emit('vantage:engine-port-request', {
      sender: { id: 7 },
      senderFrame: { url: webContents.url, parent: null },
    });
    expect(webContents.postMessage).toHaveBeenCalledTimes(1);
    expect(webContents.postMessage.mock.calls[0]![0]).toBe('vantage:engine-port');
    expect(electron.children[0]!.posted.map((p) => (p[0] as { origin: string }).origin)).toEqual([
      'main',
      'window',
    ]);

    // A crash is reported to the window as supervisor status.
    electron.children[0]!.emit('exit', 3);
    const last = webContents.send.mock.calls.at(-1)!;
    expect(last[0]).toBe('vantage:supervisor');
    expect(last[1]).toMatchObject({ state: 'restarting', lastExitCode: 3 });

    // The menu has the kill switch.
    expect(JSON.stringify(electron.menu)).toContain('Kill Switch');
  });
});
