import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineArgs, parseEngineArgs, serveParentPort } from './engine-process.ts';
import { Dispatcher, StreamBus } from '../core/host.ts';
import { ManualScheduler } from '../core/clock.ts';
import { createPortClient } from '../../shared/client.ts';
import { adaptMessagePortMain } from './ports.ts';
import { fakeChannel } from './test-support/fake-electron.ts';

const REPO = join(import.meta.dirname, '..', '..');

describe('engine process', () => {
  it('round-trips its launch arguments, including paths with spaces and =', () => {
    const launch = {
      dataDir: '/home/a b/Vantage=x',
      resourcesDir: 'C:\\Program Files\\Vantage\\resources',
      version: '0.1.0',
      restarts: 3,
    };
    expect(parseEngineArgs(engineArgs(launch))).toEqual(launch);
  });

  it('refuses to start without a data folder, with a clear message', () => {
    expect(() => parseEngineArgs(['--resources-dir=/r', '--app-version=1'])).toThrow(
      /needs --data-dir=<value>/,
    );
    expect(() =>
      parseEngineArgs(['--data-dir=/d', '--resources-dir=/r', '--app-version=1', '--restarts=-1']),
    ).toThrow(/--restarts/);
  });

  it('serves requests that arrive before the engine finished starting', async () => {
    let resolveEngine!: (host: { dispatcher: Dispatcher; bus: StreamBus }) => void;
    const engine = new Promise<{ dispatcher: Dispatcher; bus: StreamBus }>((r) => (resolveEngine = r));
    const listeners: ((e: { data: unknown; ports: ReturnType<typeof fakeChannel>['port1'][] }) => void)[] =
      [];
    serveParentPort({
      parentPort: { on: (_event, l) => listeners.push(l) },
      engine,
      scheduler: new ManualScheduler(0),
      logger: { warn: () => undefined, error: () => undefined },
    });
    const { port1, port2 } = fakeChannel();
    for (const l of listeners) l({ data: { type: 'connect', origin: 'window' }, ports: [port1] });
    const client = createPortClient(adaptMessagePortMain(port2));
    const reply = client.request('engine:ping', { nonce: 5 });
    resolveEngine({
      dispatcher: new Dispatcher({
        handlers: { 'engine:ping': (r) => ({ nonce: r.nonce, engineTimeMs: 1 }) },
      }),
      bus: new StreamBus(),
    });
    expect(await reply).toEqual({ ok: true, value: { nonce: 5, engineTimeMs: 1 } });
  });

  it('closes ports that come without a connect message', () => {
    const listeners: ((e: { data: unknown; ports: ReturnType<typeof fakeChannel>['port1'][] }) => void)[] =
      [];
    const warnings: string[] = [];
    serveParentPort({
      parentPort: { on: (_event, l) => listeners.push(l) },
      engine: new Promise(() => undefined),
      scheduler: new ManualScheduler(0),
      logger: { warn: (_o: object, m: string) => void warnings.push(m), error: () => undefined },
    });
    const { port1 } = fakeChannel();
    for (const l of listeners) l({ data: { type: 'something-else' }, ports: [port1] });
    expect(port1.isClosed).toBe(true);
    expect(warnings).toHaveLength(1);
  });

  it('engine-entry builds the real engine and serves engine:status on the port main hands it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vantage-engine-entry-'));
    try {
      const result = spawnSync(
        process.execPath,
        [
          '--disable-warning=ExperimentalWarning',
          '--import',
          join(REPO, 'main/electron/test-support/fake-parent-port.ts'),
          join(REPO, 'main/electron/engine-entry.ts'),
          `--data-dir=${dataDir}`,
          `--resources-dir=${join(REPO, 'resources')}`,
          '--app-version=9.8.7',
          '--restarts=2',
        ],
        { encoding: 'utf8', timeout: 50_000, env: { ...process.env, VANTAGE_FORCE_CPU: '1' } },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const message = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
        reply: { ok: boolean; value: Record<string, unknown> };
      };
      expect(message.reply.ok).toBe(true);
      expect(message.reply.value).toMatchObject({ version: '9.8.7', dataDir, restarts: 2 });
      expect(['ready', 'degraded']).toContain(message.reply.value.state);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
