// The Electron main process entry: wires the real `electron` module into the shell (shell.ts),
// which holds the logic and is unit-tested with a fake platform. Keep this file to adapters.
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  MessageChannelMain,
  dialog,
  session,
  shell,
  utilityProcess,
  type WebContents,
} from 'electron';
import electronUpdater from 'electron-updater';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SystemScheduler } from '../runtime/system-clock.ts';
import { withHugePageTunable } from '../runtime/huge-pages.ts';
import { createLogger } from '../core/telemetry/logger.ts';
import { startShell, type AppWindow, type ElectronPlatform, type PortRequest } from './shell.ts';
import { engineArgs } from './engine-process.ts';
import type { AppLocation, GuardedContents } from './security.ts';
import { UpdateController } from './updater.ts';
import { buildAppMenu } from './menu.ts';
import { SHELL_IPC_CHANNELS } from '../../shared/contract/supervisor.ts';

const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
// Built layout (electron-vite): out/main/{index,engine-entry}.js, out/preload/index.cjs, out/renderer/index.html.
const PRELOAD_PATH = here('../preload/index.cjs');
const ENGINE_ENTRY_PATH = here('./engine-entry.js');
const RENDERER_INDEX = here('../renderer/index.html');

const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const location: AppLocation = devServerUrl
  ? { kind: 'dev-server', origin: new URL(devServerUrl).origin }
  : { kind: 'file', fileUrl: pathToFileURL(RENDERER_INDEX).href };

const dataDir = app.getPath('userData');
// Packaged: models are extraResources (<resources>/models). Development: the repo's resources/.
const resourcesDir = app.isPackaged ? process.resourcesPath : join(app.getAppPath(), 'resources');
// Main logs to its own file: the engine process owns the rotating vantage.log.
mkdirSync(join(dataDir, 'logs'), { recursive: true });
const logger = createLogger({
  destination: createWriteStream(join(dataDir, 'logs', 'shell.log'), { flags: 'a' }),
});

function guardedContents(contents: WebContents): GuardedContents {
  return {
    id: contents.id,
    onWillNavigate: (listener) => contents.on('will-navigate', (event) => listener(event)),
    onWillFrameNavigate: (listener) => contents.on('will-frame-navigate', (event) => listener(event)),
    onWillRedirect: (listener) => contents.on('will-redirect', (event) => listener(event)),
    onWillAttachWebview: (listener) => contents.on('will-attach-webview', (event) => listener(event)),
    setWindowOpenHandler: (handler) => contents.setWindowOpenHandler((details) => handler(details)),
  };
}

function appWindow(window: BrowserWindow): AppWindow {
  const contents = window.webContents;
  return {
    contents: {
      ...guardedContents(contents),
      getURL: () => contents.getURL(),
      isDestroyed: () => contents.isDestroyed(),
      postMessage: (channel, message, transfer) =>
        contents.postMessage(channel, message, transfer as Electron.MessagePortMain[]),
      send: (channel, payload) => contents.send(channel, payload),
    },
    isDestroyed: () => window.isDestroyed(),
    isMinimized: () => window.isMinimized(),
    restore: () => window.restore(),
    show: () => window.show(),
    focus: () => window.focus(),
    onReadyToShow: (listener) => window.once('ready-to-show', listener),
    onClosed: (listener) => window.on('closed', listener),
    loadApp: () => (devServerUrl ? window.loadURL(devServerUrl) : window.loadFile(RENDERER_INDEX)),
  };
}

const platform: ElectronPlatform = {
  requestSingleInstanceLock: () => app.requestSingleInstanceLock(),
  quit: () => app.quit(),
  whenReady: () => app.whenReady(),
  onSecondInstance: (listener) => app.on('second-instance', listener),
  onWebContentsCreated: (listener) =>
    app.on('web-contents-created', (_event, contents) => listener(guardedContents(contents))),
  onWindowAllClosed: (listener) => app.on('window-all-closed', listener),
  onBeforeQuit: (listener) => app.on('before-quit', listener),
  defaultSession: () => {
    const s = session.defaultSession;
    return {
      setPermissionRequestHandler: (handler) =>
        s.setPermissionRequestHandler((_contents, permission, callback) => handler(permission, callback)),
      setPermissionCheckHandler: (handler) =>
        s.setPermissionCheckHandler((_contents, permission) => handler(permission)),
      setDevicePermissionHandler: (handler) => s.setDevicePermissionHandler(() => handler()),
      onHeadersReceived: (handler) =>
        s.webRequest.onHeadersReceived((details, callback) => handler(details, callback)),
    };
  },
  createWindow: (options) => appWindow(new BrowserWindow(options)),
  openExternal: (url) => shell.openExternal(url),
  forkEngine: (launch) => {
    const child = utilityProcess.fork(ENGINE_ENTRY_PATH, engineArgs(launch), {
      serviceName: 'Vantage Engine',
      stdio: 'inherit',
      // Big columns (bars, features, equity curves) in transparent huge pages: main/runtime/huge-pages.ts.
      env: withHugePageTunable(process.env),
    });
    return {
      onExit: (listener) => void child.once('exit', listener),
      kill: () => void child.kill(),
      postMessage: (message, transfer) => child.postMessage(message, transfer as Electron.MessagePortMain[]),
    };
  },
  createChannel: () => {
    const { port1, port2 } = new MessageChannelMain();
    return { port1, port2 };
  },
  onPortRequest: (listener: (request: PortRequest) => void) =>
    ipcMain.on(SHELL_IPC_CHANNELS.enginePortRequest, (event) => {
      const frame = event.senderFrame;
      listener({
        senderId: event.sender.id,
        frameUrl: frame?.url ?? null,
        isMainFrame: frame !== null && frame.parent === null,
      });
    }),
};

const started = await startShell(platform, {
  location,
  preloadPath: PRELOAD_PATH,
  dataDir,
  resourcesDir,
  version: app.getVersion(),
  scheduler: new SystemScheduler(),
  logger,
});

if (started) {
  const { autoUpdater } = electronUpdater;
  const updates = new UpdateController({
    updater: autoUpdater,
    hasWorkingOrders: async () => {
      const client = started.engineClient();
      if (!client) return true; // engine down: order state unknown
      const reply = await client.request('orders:list', { scope: 'working', limit: 1 });
      return !reply.ok || reply.value.orders.length > 0;
    },
    notify: (notice) => {
      logger.info({ update: notice }, 'update');
      if (notice.kind === 'ready' || notice.kind === 'install-deferred') {
        void dialog.showMessageBox({ type: 'info', title: 'Vantage update', message: notice.message });
      }
    },
  });
  Menu.setApplicationMenu(
    buildAppMenu(Menu, {
      engageKillSwitch: async () => {
        const client = started.engineClient();
        if (!client) return 'The engine is not running; no order can be working through it.';
        const reply = await client.request('risk:killSwitch', {
          action: 'engage',
          isFlattening: false,
          reason: 'Kill switch from the app menu',
        });
        return reply.ok
          ? 'Kill switch engaged: working orders cancelled, strategies stopped.'
          : reply.error.message;
      },
      restartEngine: () => started.supervisor.restart(),
      installUpdate: async () => (await updates.installNow()).reason ?? 'Installing the update.',
      report: (message) => void dialog.showMessageBox({ type: 'info', title: 'Vantage', message }),
    }),
  );
  // Packaged builds only: a development build has no update feed.
  if (app.isPackaged) void updates.check();
}
