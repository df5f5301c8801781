import { describe, expect, it, vi } from 'vitest';
import { ManualScheduler } from '../core/clock.ts';
import { Dispatcher, servePort, StreamBus } from '../core/host.ts';
import { createPortClient } from '../../shared/client.ts';
import type { SupervisorStatus } from '../../shared/contract/supervisor.ts';
import { adaptMessagePortMain } from './ports.ts';
import { ENGINE_PORT_CHANNEL, startShell, SUPERVISOR_CHANNEL, type ShellConfig } from './shell.ts';
import { FakePlatform, type FakePortMain, type FakeWindow } from './test-support/fake-electron.ts';

const APP_URL = 'file:///app/out/renderer/index.html';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function config(scheduler: ManualScheduler): ShellConfig {
  return {
    location: { kind: 'file', fileUrl: APP_URL },
    preloadPath: '/app/out/preload/index.cjs',
    dataDir: '/data',
    resourcesDir: '/app/resources',
    version: '1.2.3',
    scheduler,
    logger: silent,
  };
}

/** A platform whose engine processes answer engine:ping through the real contract host. */
function platformWithEngine(): FakePlatform {
  const platform: FakePlatform = new FakePlatform({
    appUrl: APP_URL,
    onEngineConnect: (_message, port) => {
      const engineNumber = platform.engines.length;
      const dispatcher = new Dispatcher({
        // The reply names the engine process that answered (engineTimeMs = its number).
        handlers: { 'engine:ping': (req) => ({ nonce: req.nonce, engineTimeMs: engineNumber }) },
      });
      servePort(adaptMessagePortMain(port), {
        dispatcher,
        bus: new StreamBus(),
        scheduler: new ManualScheduler(0),
        origin: 'test',
      });
    },
  });
  return platform;
}

function ownRequest(window: FakeWindow, frameUrl = APP_URL) {
  return { senderId: window.contents.id, frameUrl, isMainFrame: true };
}

function handedPorts(window: FakeWindow): FakePortMain[] {
  return window.contents.posted
    .filter((p) => p.channel === ENGINE_PORT_CHANNEL)
    .map((p) => p.ports[0] as FakePortMain);
}

async function ping(port: FakePortMain, nonce: number) {
  const client = createPortClient(adaptMessagePortMain(port));
  return client.request('engine:ping', { nonce });
}

describe('Electron shell', () => {
  it('creates the window with the secure options and shows it when ready', async () => {
    const platform = platformWithEngine();
    const shell = await startShell(platform, config(new ManualScheduler(0)));
    const window = platform.windows[0]!;
    expect(window.options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      sandbox: true,
      contextIsolation: true,
      webSecurity: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
    });
    expect(window.options.show).toBe(false);
    expect(window.isShown).toBe(true);
    expect(shell!.supervisor.current.state).toBe('running');
    expect(platform.engines[0]!.launch).toEqual({
      dataDir: '/data',
      resourcesDir: '/app/resources',
      version: '1.2.3',
      restarts: 0,
    });
    shell!.stop();
  });

  it('quits when another instance holds the lock (and starts no engine)', async () => {
    const platform = new FakePlatform({ hasLock: false });
    expect(await startShell(platform, config(new ManualScheduler(0)))).toBeNull();
    expect(platform.isQuit).toBe(true);
    expect(platform.engines).toHaveLength(0);
    expect(platform.windows).toHaveLength(0);
  });

  it('a second launch focuses the existing window', async () => {
    const platform = platformWithEngine();
    await startShell(platform, config(new ManualScheduler(0)));
    const window = platform.windows[0]!;
    window.minimized = true;
    platform.events.emit('second-instance');
    expect(window.minimized).toBe(false);
    expect(window.focusCount).toBe(1);
  });

  it("hands the engine port only to the app's own window", async () => {
    const platform = platformWithEngine();
    await startShell(platform, config(new ManualScheduler(0)));
    const window = platform.windows[0]!;

    // Another WebContents, a subframe, or the window showing a foreign page: refused.
    platform.requestPort({ senderId: 999, frameUrl: APP_URL, isMainFrame: true });
    platform.requestPort({ senderId: window.contents.id, frameUrl: APP_URL, isMainFrame: false });
    platform.requestPort({
      senderId: window.contents.id,
      frameUrl: 'https://evil.example/',
      isMainFrame: true,
    });
    platform.requestPort({ senderId: window.contents.id, frameUrl: null, isMainFrame: true });
    window.contents.url = 'https://evil.example/';
    platform.requestPort(ownRequest(window));
    expect(handedPorts(window)).toHaveLength(0);
    expect(platform.engines[0]!.connects.filter((c) => c.message.origin === 'window')).toHaveLength(0);

    // The app page asks: it gets one end, the engine the other, and the pair works.
    window.contents.url = APP_URL;
    platform.requestPort(ownRequest(window));
    const [port] = handedPorts(window);
    expect(port).toBeDefined();
    expect(platform.engines[0]!.connects.map((c) => c.message)).toContainEqual({
      type: 'connect',
      origin: 'window',
    });
    expect(await ping(port!, 41)).toEqual({ ok: true, value: { nonce: 41, engineTimeMs: 1 } });
  });

  it('re-hands a new port pair after an engine restart and reports the crash to the window', async () => {
    const scheduler = new ManualScheduler(0);
    const platform = platformWithEngine();
    const shell = await startShell(platform, config(scheduler));
    const window = platform.windows[0]!;
    platform.requestPort(ownRequest(window));
    const first = handedPorts(window)[0]!;
    expect((await ping(first, 1)).ok).toBe(true);

    platform.engines[0]!.crash(9);
    const statuses = (): SupervisorStatus[] =>
      window.contents.sent
        .filter((s) => s.channel === SUPERVISOR_CHANNEL)
        .map((s) => s.payload as SupervisorStatus);
    expect(statuses().at(-1)).toMatchObject({ state: 'restarting', lastExitCode: 9, nextRestartInMs: 500 });
    expect(shell!.engineClient()).toBeNull();
    expect(first.isClosed).toBe(true);

    scheduler.advance(500);
    expect(platform.engines).toHaveLength(2);
    expect(platform.engines[1]!.launch.restarts).toBe(1);
    expect(statuses().at(-1)).toMatchObject({ state: 'running', restarts: 1 });
    const ports = handedPorts(window);
    expect(ports).toHaveLength(2);
    expect(await ping(ports[1]!, 2)).toEqual({ ok: true, value: { nonce: 2, engineTimeMs: 2 } });
  });

  it('gives main its own engine client (kill switch, update gate)', async () => {
    const platform = platformWithEngine();
    const shell = await startShell(platform, config(new ManualScheduler(0)));
    expect(platform.engines[0]!.connects.map((c) => c.message.origin)).toEqual(['main']);
    const reply = await shell!.engineClient()!.request('engine:ping', { nonce: 7 });
    expect(reply).toEqual({ ok: true, value: { nonce: 7, engineTimeMs: 1 } });
  });

  it('guards every web contents: window.open denied, https links opened externally, navigation denied', async () => {
    const platform = platformWithEngine();
    await startShell(platform, config(new ManualScheduler(0)));
    const window = platform.windows[0]!;
    expect(window.contents.openHandler!({ url: 'https://example.com/help' })).toEqual({ action: 'deny' });
    expect(window.contents.openHandler!({ url: 'http://example.com/help' })).toEqual({ action: 'deny' });
    expect(window.contents.fire(window.contents.navigate, 'file:///etc/passwd')).toBe(true);
    const other = platform.createOtherContents();
    expect(other.openHandler!({ url: 'https://example.com/other' })).toEqual({ action: 'deny' });
    const preventDefault = vi.fn();
    for (const l of other.attachWebview) l({ preventDefault });
    expect(preventDefault).toHaveBeenCalled();
    await Promise.resolve();
    expect(platform.opened).toEqual(['https://example.com/help', 'https://example.com/other']);
  });

  it('permission requests are denied', async () => {
    const platform = platformWithEngine();
    await startShell(platform, config(new ManualScheduler(0)));
    const callback = vi.fn();
    platform.permissionRequest!('media', callback);
    expect(callback).toHaveBeenCalledWith(false);
    expect(platform.permissionCheck!('notifications')).toBe(false);
  });

  it('closing the window quits and stops the engine', async () => {
    const scheduler = new ManualScheduler(0);
    const platform = platformWithEngine();
    const shell = await startShell(platform, config(scheduler));
    platform.windows[0]!.close();
    platform.events.emit('window-all-closed');
    expect(platform.isQuit).toBe(true);
    expect(platform.engines[0]!.isKilled).toBe(true);
    expect(shell!.supervisor.current.state).toBe('stopped');
    scheduler.advance(120_000);
    expect(platform.engines).toHaveLength(1);
  });
});
