// Stand-ins for the Electron objects the shell uses (the Electron binary cannot run in tests).
// They behave like Electron where the shell depends on it: ports queue until start(), message
// events carry { data, ports }, creating a window fires app 'web-contents-created'.
import { EventEmitter } from 'node:events';
import type { MessagePortMainLike } from '../ports.ts';
import type { GuardedContents, GuardedSession, NavigationEvent } from '../security.ts';
import type {
  AppWindow,
  ElectronPlatform,
  EngineChild,
  EngineConnectMessage,
  EngineLaunch,
  PortRequest,
  WindowContents,
  WindowOptions,
} from '../shell.ts';

export class FakeContents implements GuardedContents {
  readonly id: number;
  navigate: ((e: NavigationEvent) => void)[] = [];
  frameNavigate: ((e: NavigationEvent) => void)[] = [];
  redirect: ((e: NavigationEvent) => void)[] = [];
  attachWebview: ((e: { preventDefault(): void }) => void)[] = [];
  openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  constructor(id: number) {
    this.id = id;
  }
  onWillNavigate(l: (e: NavigationEvent) => void): void {
    this.navigate.push(l);
  }
  onWillFrameNavigate(l: (e: NavigationEvent) => void): void {
    this.frameNavigate.push(l);
  }
  onWillRedirect(l: (e: NavigationEvent) => void): void {
    this.redirect.push(l);
  }
  onWillAttachWebview(l: (e: { preventDefault(): void }) => void): void {
    this.attachWebview.push(l);
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }): void {
    this.openHandler = h;
  }
  /** Fires an event like Electron does; returns whether the action was prevented. */
  fire(list: ((e: NavigationEvent) => void)[], url: string): boolean {
    let isPrevented = false;
    for (const l of list) l({ url, preventDefault: () => void (isPrevented = true) });
    return isPrevented;
  }
}

/** One end of a fake MessageChannelMain. */
export class FakePortMain extends EventEmitter implements MessagePortMainLike {
  other: FakePortMain | null = null;
  isStarted = false;
  isClosed = false;
  private readonly queued: unknown[] = [];
  postMessage(message: unknown): void {
    if (this.isClosed || !this.other) return;
    const target = this.other;
    const copy = structuredClone(message);
    queueMicrotask(() => target.receive(copy));
  }
  receive(data: unknown): void {
    if (this.isClosed) return;
    if (this.isStarted) this.emit('message', { data, ports: [] });
    else this.queued.push(data);
  }
  start(): void {
    this.isStarted = true;
    for (const data of this.queued.splice(0)) this.emit('message', { data, ports: [] });
  }
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.emit('close');
    const other = this.other;
    if (other && !other.isClosed) {
      other.isClosed = true;
      other.emit('close');
    }
  }
}

export function fakeChannel(): { port1: FakePortMain; port2: FakePortMain } {
  const port1 = new FakePortMain();
  const port2 = new FakePortMain();
  port1.other = port2;
  port2.other = port1;
  return { port1, port2 };
}

export class FakeWindowContents extends FakeContents implements WindowContents {
  url = '';
  isGone = false;
  readonly posted: { channel: string; message: unknown; ports: MessagePortMainLike[] }[] = [];
  readonly sent: { channel: string; payload: unknown }[] = [];
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.isGone;
  }
  postMessage(channel: string, message: unknown, transfer: MessagePortMainLike[]): void {
    this.posted.push({ channel, message, ports: transfer });
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload: structuredClone(payload) });
  }
}

export class FakeWindow implements AppWindow {
  readonly contents: FakeWindowContents;
  readonly options: WindowOptions;
  readonly appUrl: string;
  isGone = false;
  isShown = false;
  focusCount = 0;
  minimized = false;
  private readyToShow: (() => void) | null = null;
  private closed: (() => void) | null = null;
  constructor(id: number, options: WindowOptions, appUrl: string) {
    this.contents = new FakeWindowContents(id);
    this.options = options;
    this.appUrl = appUrl;
  }
  isDestroyed(): boolean {
    return this.isGone;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  show(): void {
    this.isShown = true;
  }
  focus(): void {
    this.focusCount++;
  }
  onReadyToShow(l: () => void): void {
    this.readyToShow = l;
  }
  onClosed(l: () => void): void {
    this.closed = l;
  }
  async loadApp(): Promise<void> {
    this.contents.url = this.appUrl;
    this.readyToShow?.();
  }
  close(): void {
    this.isGone = true;
    this.contents.isGone = true;
    this.closed?.();
  }
}

export class FakeEngineChild implements EngineChild {
  readonly launch: EngineLaunch;
  readonly connects: { message: EngineConnectMessage; port: FakePortMain }[] = [];
  isKilled = false;
  private exit: ((code: number) => void) | null = null;
  private readonly onConnect: (message: EngineConnectMessage, port: FakePortMain) => void;
  constructor(launch: EngineLaunch, onConnect: (message: EngineConnectMessage, port: FakePortMain) => void) {
    this.launch = launch;
    this.onConnect = onConnect;
  }
  onExit(l: (code: number) => void): void {
    this.exit = l;
  }
  kill(): void {
    this.isKilled = true;
    for (const c of this.connects) c.port.close();
    this.exit?.(0);
  }
  crash(code: number): void {
    for (const c of this.connects) c.port.close();
    this.exit?.(code);
  }
  postMessage(message: EngineConnectMessage, transfer: MessagePortMainLike[]): void {
    const port = transfer[0] as FakePortMain;
    this.connects.push({ message, port });
    this.onConnect(message, port);
  }
}

export interface FakePlatformOptions {
  hasLock?: boolean;
  appUrl?: string;
  /** What the fake engine does with each port main hands it. */
  onEngineConnect?: (message: EngineConnectMessage, port: FakePortMain) => void;
}

export class FakePlatform implements ElectronPlatform {
  readonly events = new EventEmitter();
  readonly windows: FakeWindow[] = [];
  readonly engines: FakeEngineChild[] = [];
  readonly opened: string[] = [];
  readonly createdContents: GuardedContents[] = [];
  isQuit = false;
  permissionRequest: Parameters<GuardedSession['setPermissionRequestHandler']>[0] | null = null;
  permissionCheck: ((p: string) => boolean) | null = null;
  private readonly options: FakePlatformOptions;
  private nextContentsId = 1;
  private portRequestListener: ((r: PortRequest) => void) | null = null;
  private contentsCreated: ((c: GuardedContents) => void) | null = null;

  constructor(options: FakePlatformOptions = {}) {
    this.options = options;
  }
  requestSingleInstanceLock(): boolean {
    return this.options.hasLock ?? true;
  }
  quit(): void {
    this.isQuit = true;
    this.events.emit('before-quit');
  }
  async whenReady(): Promise<void> {}
  onSecondInstance(l: () => void): void {
    this.events.on('second-instance', l);
  }
  onWebContentsCreated(l: (c: GuardedContents) => void): void {
    this.contentsCreated = l;
  }
  onWindowAllClosed(l: () => void): void {
    this.events.on('window-all-closed', l);
  }
  onBeforeQuit(l: () => void): void {
    this.events.on('before-quit', l);
  }
  defaultSession(): GuardedSession {
    return {
      setPermissionRequestHandler: (h) => void (this.permissionRequest = h),
      setPermissionCheckHandler: (h) => void (this.permissionCheck = h),
      setDevicePermissionHandler: () => undefined,
      onHeadersReceived: () => undefined,
    };
  }
  createWindow(options: WindowOptions): FakeWindow {
    const window = new FakeWindow(
      this.nextContentsId++,
      options,
      this.options.appUrl ?? 'file:///app/out/renderer/index.html',
    );
    this.windows.push(window);
    // Electron fires 'web-contents-created' for every new WebContents.
    this.contentsCreated?.(window.contents);
    return window;
  }
  /** Any other WebContents (a devtools page, a hypothetical popup). */
  createOtherContents(): FakeWindowContents {
    const contents = new FakeWindowContents(this.nextContentsId++);
    this.contentsCreated?.(contents);
    return contents;
  }
  async openExternal(url: string): Promise<void> {
    this.opened.push(url);
  }
  forkEngine(launch: EngineLaunch): FakeEngineChild {
    const child = new FakeEngineChild(launch, (m, p) => this.options.onEngineConnect?.(m, p));
    this.engines.push(child);
    return child;
  }
  createChannel(): { port1: FakePortMain; port2: FakePortMain } {
    return fakeChannel();
  }
  onPortRequest(l: (r: PortRequest) => void): void {
    this.portRequestListener = l;
  }
  /** The preload in some frame asks for the engine port (ipcRenderer.send). */
  requestPort(request: PortRequest): void {
    this.portRequestListener?.(request);
  }
}
