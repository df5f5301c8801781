import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { MessageChannel } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type InlineConfig } from 'vite';
import electronViteConfig from '../electron.vite.config.ts';
import { Dispatcher, servePort, StreamBus } from '../main/core/host.ts';
import { ManualScheduler } from '../main/core/clock.ts';
import { SHELL_IPC_CHANNELS } from '../shared/contract/supervisor.ts';

// Builds the preload exactly as the app does (the preload section of electron.vite.config.ts) and
// runs the output the way a sandboxed renderer would: a fresh JS realm whose `require` knows only
// 'electron', and no Node globals (no process, no Buffer).
let outDir: string;
let bundle: string;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'vantage-preload-'));
  const preload = (electronViteConfig as { preload: InlineConfig & { build: Record<string, unknown> } })
    .preload;
  const { externalizeDeps: _externalizeDeps, ...buildOptions } = preload.build;
  await build({
    ...preload,
    configFile: false,
    logLevel: 'silent',
    build: { ...buildOptions, outDir, emptyOutDir: true },
  });
  const files = readdirSync(outDir);
  expect(files).toEqual(['index.cjs']);
  bundle = readFileSync(join(outDir, 'index.cjs'), 'utf8');
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('built preload', () => {
  it('is one CommonJS file that requires only electron', () => {
    const required = [...bundle.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
    expect(bundle).not.toMatch(/^\s*import\s.+from\s/m);
    expect(bundle).not.toMatch(/^\s*export\s/m);
  });

  it('runs in a sandbox-like realm and serves requests over the engine port', async () => {
    const exposed: {
      key: string;
      value: Record<string, Record<string, (p: unknown) => Promise<unknown>>>;
    }[] = [];
    const ipcRenderer = Object.assign(new EventEmitter(), {
      sent: [] as string[],
      send: (channel: string) => ipcRenderer.sent.push(channel),
    });
    const fakeElectron = {
      contextBridge: { exposeInMainWorld: (key: string, value: never) => exposed.push({ key, value }) },
      ipcRenderer,
    };
    const sandboxRequire = (name: string): unknown => {
      if (name === 'electron') return fakeElectron;
      throw new Error(`a sandboxed preload cannot require ${name}`);
    };
    runInNewContext(bundle, {
      require: sandboxRequire,
      module: { exports: {} },
      exports: {},
      structuredClone,
      queueMicrotask,
      console,
    });

    expect(exposed.map((e) => e.key)).toEqual(['vantage']);
    expect(ipcRenderer.sent).toEqual([SHELL_IPC_CHANNELS.enginePortRequest]);
    const api = exposed[0]!.value;

    const { port1, port2 } = new MessageChannel();
    try {
      servePort(
        {
          postMessage: (m) => port1.postMessage(m),
          onMessage: (l) => {
            port1.on('message', l);
            return () => port1.off('message', l);
          },
        },
        {
          dispatcher: new Dispatcher({
            handlers: { 'engine:ping': (r) => ({ nonce: r.nonce, engineTimeMs: 42 }) },
          }),
          bus: new StreamBus(),
          scheduler: new ManualScheduler(0),
          origin: 'test',
        },
      );
      const reply = api.engine!.ping!({ nonce: 8 });
      ipcRenderer.emit(SHELL_IPC_CHANNELS.enginePort, { ports: [port2] });
      expect(await reply).toEqual({ ok: true, value: { nonce: 8, engineTimeMs: 42 } });
    } finally {
      port1.close();
    }
  });
});
