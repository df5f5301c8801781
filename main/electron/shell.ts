import type { Scheduler } from '../core/clock.ts';
import { createPortClient, type ContractClient } from '../../shared/client.ts';
import { SHELL_IPC_CHANNELS, type SupervisorStatus } from '../../shared/contract/supervisor.ts';
import { adaptMessagePortMain, type MessagePortMainLike } from './ports.ts';
import {
  guardContents,
  hardenSession,
  isAppUrl,
  secureWebPreferences,
  type AppLocation,
  type GuardedContents,
  type GuardedSession,
} from './security.ts';
import { Supervisor, type SupervisedProcess, type SupervisorPolicy } from './supervisor.ts';

/** IPC channel names between main and the preload (never exposed to the page). */
export const ENGINE_PORT_CHANNEL = SHELL_IPC_CHANNELS.enginePort;
export const ENGINE_PORT_REQUEST_CHANNEL = SHELL_IPC_CHANNELS.enginePortRequest;
export const SUPERVISOR_CHANNEL = SHELL_IPC_CHANNELS.supervisor;

/** The message main sends the engine process with a port: who will talk on it. */
export interface EngineConnectMessage {
  type: 'connect';
  origin: 'window' | 'main';
}

export interface EngineLaunch {
  dataDir: string;
  resourcesDir: string;
  version: string;
  restarts: number;
}

/** The engine utility process as main uses it. */
export interface EngineChild extends SupervisedProcess {
  postMessage(message: EngineConnectMessage, transfer: MessagePortMainLike[]): void;
}

export interface WindowContents extends GuardedContents {
  getURL(): string;
  isDestroyed(): boolean;
  postMessage(channel: string, message: unknown, transfer: MessagePortMainLike[]): void;
  send(channel: string, payload: unknown): void;
}

export interface AppWindow {
  readonly contents: WindowContents;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
  onReadyToShow(listener: () => void): void;
  onClosed(listener: () => void): void;
  /** Loads the app page (loadFile for the built renderer, loadURL for the dev server). */
  loadApp(): Promise<void>;
}

export interface WindowOptions {
  title: string;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  backgroundColor: string;
  webPreferences: ReturnType<typeof secureWebPreferences>;
}

/** Who asked for the engine port (from ipcMain's event: sender id and senderFrame). */
export interface PortRequest {
  senderId: number;
  frameUrl: string | null;
  isMainFrame: boolean;
}

export interface ShellLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Everything the shell needs from Electron; index.ts implements it over the real module. */
export interface ElectronPlatform {
  requestSingleInstanceLock(): boolean;
  quit(): void;
  whenReady(): Promise<void>;
  onSecondInstance(listener: () => void): void;
  onWebContentsCreated(listener: (contents: GuardedContents) => void): void;
  onWindowAllClosed(listener: () => void): void;
  onBeforeQuit(listener: () => void): void;
  defaultSession(): GuardedSession;
  createWindow(options: WindowOptions): AppWindow;
  openExternal(url: string): Promise<void>;
  forkEngine(launch: EngineLaunch): EngineChild;
  createChannel(): { port1: MessagePortMainLike; port2: MessagePortMainLike };
  onPortRequest(listener: (request: PortRequest) => void): void;
}

export interface ShellConfig {
  location: AppLocation;
  preloadPath: string;
  dataDir: string;
  resourcesDir: string;
  version: string;
  scheduler: Scheduler;
  logger: ShellLogger;
  supervisorPolicy?: Partial<SupervisorPolicy>;
}

export interface Shell {
  readonly window: AppWindow;
  readonly supervisor: Supervisor<EngineChild>;
  /** Main's own client to the current engine (kill switch menu, update gate); null while it is down. */
  engineClient(): ContractClient | null;
  stop(): void;
}

/**
 * Starts the desktop app: one instance, a locked-down window, the engine in a supervised utility
 * process, and a fresh MessageChannelMain for the app's own window after every engine start.
 * Returns null when another instance already runs (that one gets focused instead).
 */
export async function startShell(platform: ElectronPlatform, config: ShellConfig): Promise<Shell | null> {
  const { logger } = config;
  if (!platform.requestSingleInstanceLock()) {
    logger.info({}, 'another instance is running; handing over to it');
    platform.quit();
    return null;
  }

  platform.onWebContentsCreated((contents) =>
    guardContents(contents, {
      location: config.location,
      openExternal: (url) => platform.openExternal(url),
      onRefused: (what) => logger.warn(what, 'refused by the window guard'),
    }),
  );

  await platform.whenReady();
  hardenSession(platform.defaultSession(), (permission) =>
    logger.warn({ permission }, 'permission request denied'),
  );

  const window = platform.createWindow({
    title: 'Vantage',
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    backgroundColor: '#0f1115',
    webPreferences: secureWebPreferences(config.preloadPath),
  });
  window.onReadyToShow(() => window.show());

  let isWindowOpen = true;
  let hasWindowAskedForPort = false;
  let mainClient: (ContractClient & { close(): void }) | null = null;

  const isShowingApp = (): boolean =>
    isWindowOpen &&
    !window.isDestroyed() &&
    !window.contents.isDestroyed() &&
    isAppUrl(window.contents.getURL(), config.location);

  const sendStatus = (status: SupervisorStatus): void => {
    if (isShowingApp()) window.contents.send(SUPERVISOR_CHANNEL, status);
  };

  const handOffToWindow = (child: EngineChild): void => {
    if (!isShowingApp()) {
      logger.warn(
        { url: window.contents.isDestroyed() ? null : window.contents.getURL() },
        'engine port not handed: the window is not showing the app',
      );
      return;
    }
    const { port1, port2 } = platform.createChannel();
    child.postMessage({ type: 'connect', origin: 'window' }, [port1]);
    window.contents.postMessage(ENGINE_PORT_CHANNEL, null, [port2]);
  };

  const connectMain = (child: EngineChild): void => {
    mainClient?.close();
    const { port1, port2 } = platform.createChannel();
    child.postMessage({ type: 'connect', origin: 'main' }, [port1]);
    mainClient = createPortClient(adaptMessagePortMain(port2));
  };

  const supervisor = new Supervisor<EngineChild>({
    scheduler: config.scheduler,
    ...(config.supervisorPolicy ? { policy: config.supervisorPolicy } : {}),
    spawn: ({ restarts }) =>
      platform.forkEngine({
        dataDir: config.dataDir,
        resourcesDir: config.resourcesDir,
        version: config.version,
        restarts,
      }),
    onStarted: (child) => {
      connectMain(child);
      // After a restart the page already runs: give it a new port at once. At first start the
      // preload asks when it has loaded (the request below).
      if (hasWindowAskedForPort) handOffToWindow(child);
    },
    onStatus: (status) => {
      if (status.state !== 'running') {
        mainClient?.close();
        mainClient = null;
      }
      const log = status.state === 'failed' || status.state === 'restarting' ? logger.error : logger.info;
      log.call(logger, { supervisor: status }, 'engine supervisor');
      sendStatus(status);
    },
  });

  platform.onPortRequest((request) => {
    const isOwnWindow =
      isShowingApp() &&
      request.senderId === window.contents.id &&
      request.isMainFrame &&
      request.frameUrl !== null &&
      isAppUrl(request.frameUrl, config.location);
    if (!isOwnWindow) {
      logger.warn(
        { senderId: request.senderId, isMainFrame: request.isMainFrame },
        'engine port refused: not the app window',
      );
      return;
    }
    hasWindowAskedForPort = true;
    sendStatus(supervisor.current);
    const child = supervisor.process;
    if (child && supervisor.current.state === 'running') handOffToWindow(child);
  });

  platform.onSecondInstance(() => {
    if (window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  const stop = (): void => {
    mainClient?.close();
    mainClient = null;
    supervisor.stop();
  };
  window.onClosed(() => {
    isWindowOpen = false;
    hasWindowAskedForPort = false;
  });
  // A trading workstation has one window; closing it ends the app (and the engine) on every OS.
  platform.onWindowAllClosed(() => platform.quit());
  platform.onBeforeQuit(stop);

  supervisor.start();
  await window.loadApp();
  return { window, supervisor, engineClient: () => mainClient, stop };
}
