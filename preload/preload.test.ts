import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dispatcher, servePort, StreamBus } from '../main/core/host.ts';
import { ManualScheduler } from '../main/core/clock.ts';
import { requestChannels } from '../shared/contract/index.ts';
import { SHELL_IPC_CHANNELS } from '../shared/contract/supervisor.ts';
import type { PortLike } from '../shared/protocol.ts';
import { createExposedApi, type DomMessagePortLike, type PreloadIpc } from './api.ts';

/** ipcRenderer as main drives it: events carry ports; the preload listens and sends. */
class FakeIpcRenderer extends EventEmitter implements PreloadIpc {
  readonly sentChannels: string[] = [];
  override on(
    channel: string,
    listener: (event: { ports: readonly DomMessagePortLike[] }, ...args: unknown[]) => void,
  ): this {
    return super.on(channel, listener);
  }
  send(channel: string): void {
    this.sentChannels.push(channel);
  }
  /** main: webContents.postMessage('vantage:engine-port', null, [port]) */
  handPort(port: MessagePort): void {
    this.emit(
      SHELL_IPC_CHANNELS.enginePort,
      { ports: [port as unknown as DomMessagePortLike], sender: this },
      null,
    );
  }
  /** main: webContents.send('vantage:supervisor', status) */
  sendSupervisor(payload: unknown): void {
    this.emit(SHELL_IPC_CHANNELS.supervisor, { ports: [], sender: this }, payload);
  }
}

const openPorts: MessagePort[] = [];
afterEach(() => {
  for (const p of openPorts.splice(0)) p.close();
});

/** An engine behind a real contract host, on one end of a real MessageChannel. */
function engineOnChannel(engineNumber: number) {
  const { port1, port2 } = new MessageChannel();
  openPorts.push(port1, port2);
  const seen: unknown[] = [];
  const enginePort: PortLike = {
    postMessage: (m) => port1.postMessage(m),
    onMessage: (l) => {
      const wrapped = (m: unknown): void => {
        seen.push(m);
        l(m);
      };
      port1.on('message', wrapped);
      return () => port1.off('message', wrapped);
    },
  };
  const bus = new StreamBus();
  const dispatcher = new Dispatcher({
    handlers: { 'engine:ping': (r) => ({ nonce: r.nonce, engineTimeMs: engineNumber }) },
  });
  servePort(enginePort, { dispatcher, bus, scheduler: new ManualScheduler(0), origin: 'test' });
  return { rendererEnd: port2, seen, bus };
}

type Api = Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>> & {
  on(stream: string, cb: (...args: unknown[]) => void): () => void;
  transport: string;
};

function load() {
  const ipc = new FakeIpcRenderer();
  const api = createExposedApi(ipc) as unknown as Api;
  return { ipc, api };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe('preload API', () => {
  it('exposes exactly one function per contract request channel, plus on (and the transport name)', () => {
    const { api } = load();
    const expected: Record<string, string[]> = {};
    for (const channel of requestChannels) {
      const [domain, verb] = channel.split(':') as [string, string];
      (expected[domain] ??= []).push(verb);
    }
    expect(Object.keys(api).sort()).toEqual([...Object.keys(expected), 'on', 'transport'].sort());
    for (const [domain, verbs] of Object.entries(expected)) {
      expect(Object.keys(api[domain]!).sort()).toEqual([...verbs].sort());
      for (const verb of verbs) expect(typeof api[domain]![verb]).toBe('function');
    }
    expect(typeof api.on).toBe('function');
    expect(api.transport).toBe('electron');
  });

  it('leaks nothing: only plain objects, functions and the transport string', () => {
    const { api, ipc } = load();
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'function' || typeof value === 'string') return;
      expect(value, path).not.toBe(ipc);
      expect(Object.getPrototypeOf(value), path).toBe(Object.prototype);
      for (const [k, v] of Object.entries(value as object)) walk(v, `${path}.${k}`);
    };
    walk(api, 'vantage');
    const text = JSON.stringify(Object.keys(api));
    for (const forbidden of ['ipcRenderer', 'send', 'invoke', 'process', 'env', 'require', 'postMessage'])
      expect(text).not.toContain(`"${forbidden}"`);
  });

  it('asks main for the engine port when it loads', () => {
    const { ipc } = load();
    expect(ipc.sentChannels).toEqual([SHELL_IPC_CHANNELS.enginePortRequest]);
  });

  it('queues requests made before the port arrives, then sends a {t:"req"} message and resolves with the reply', async () => {
    const { ipc, api } = load();
    const early = api.engine!.ping!({ nonce: 11 });
    const engine = engineOnChannel(1);
    ipc.handPort(engine.rendererEnd);
    expect(await early).toEqual({ ok: true, value: { nonce: 11, engineTimeMs: 1 } });
    expect(await api.engine!.ping!({ nonce: 12 }, 'ignored extra argument')).toEqual({
      ok: true,
      value: { nonce: 12, engineTimeMs: 1 },
    });
    expect(engine.seen).toEqual([
      { t: 'req', id: 1, channel: 'engine:ping', payload: { nonce: 11 } },
      { t: 'req', id: 2, channel: 'engine:ping', payload: { nonce: 12 } },
    ]);
    // Invalid payloads are refused by the engine's validation, as a value.
    const bad = (await api.engine!.ping!({ nonce: 'x' })) as { ok: boolean; error: { code: string } };
    expect(bad.ok).toBe(false);
    expect(bad.error.code).toBe('IPC_INVALID_PAYLOAD');
  });

  it('stream callbacks get the payload only (no event object) and unsubscribe works', async () => {
    const { ipc, api } = load();
    const engine = engineOnChannel(1);
    ipc.handPort(engine.rendererEnd);
    const calls: unknown[][] = [];
    const off = api.on('engine:heartbeat', (...args) => calls.push(args));
    await waitFor(() => engine.seen.some((m) => (m as { t: string }).t === 'sub'));
    engine.bus.publish('engine:heartbeat', { engineTimeMs: 5, seq: 1 });
    await waitFor(() => calls.length === 1);
    expect(calls[0]).toEqual([{ engineTimeMs: 5, seq: 1 }]);
    off();
    await waitFor(() => engine.seen.some((m) => (m as { t: string }).t === 'unsub'));
    expect(() => api.on('not:astream', () => undefined)).toThrow(/unknown stream/);
  });

  it('after an engine restart, uses the new port and re-subscribes streams; requests in flight fail as IPC_TRANSPORT', async () => {
    const { ipc, api } = load();
    const first = engineOnChannel(1);
    ipc.handPort(first.rendererEnd);
    const beats: unknown[] = [];
    api.on('engine:heartbeat', (m) => beats.push(m));
    await waitFor(() => first.seen.some((m) => (m as { t: string }).t === 'sub'));

    const inFlight = api.engine!.ping!({ nonce: 99 });
    const second = engineOnChannel(2);
    ipc.handPort(second.rendererEnd);
    // Its outcome is unknown (the engine may have crashed mid-request): reported, never re-sent.
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'IPC_TRANSPORT' } });
    await waitFor(() => second.seen.some((m) => (m as { t: string; stream?: string }).t === 'sub'));
    second.bus.publish('engine:heartbeat', { engineTimeMs: 9, seq: 1 });
    await waitFor(() => beats.length === 1);
    expect(await api.engine!.ping!({ nonce: 3 })).toEqual({ ok: true, value: { nonce: 3, engineTimeMs: 2 } });
  });

  it('delivers valid supervisor status from main, latest first to late subscribers, without the IPC event', async () => {
    const { ipc, api } = load();
    const status = {
      state: 'restarting',
      restarts: 1,
      consecutiveCrashes: 1,
      nextRestartInMs: 500,
      lastExitCode: 1,
      message: 'restarting in 0.5 s',
    };
    const calls: unknown[][] = [];
    api.on('supervisor:changed', (...args) => calls.push(args));
    ipc.sendSupervisor(status);
    ipc.sendSupervisor({ state: 'bogus' });
    expect(calls).toEqual([[status]]);
    const late: unknown[][] = [];
    api.on('supervisor:changed', (...args) => late.push(args));
    await waitFor(() => late.length === 1);
    expect(late[0]).toEqual([status]);
  });
});

describe('preload entry', () => {
  it('exposes the API as window.vantage through contextBridge and nothing else', async () => {
    const exposeInMainWorld = vi.fn();
    const ipcRenderer = Object.assign(new EventEmitter(), { send: vi.fn(), invoke: vi.fn() });
    vi.doMock('electron', () => ({ contextBridge: { exposeInMainWorld }, ipcRenderer }));
    await import('./index.ts');
    expect(exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [key, value] = exposeInMainWorld.mock.calls[0]! as [string, Record<string, unknown>];
    expect(key).toBe('vantage');
    expect(Object.values(value)).not.toContain(ipcRenderer);
    expect(ipcRenderer.send).toHaveBeenCalledWith(SHELL_IPC_CHANNELS.enginePortRequest);
    expect(ipcRenderer.listenerCount(SHELL_IPC_CHANNELS.enginePort)).toBe(1);
    vi.doUnmock('electron');
  });
});
