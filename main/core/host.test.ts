import { describe, expect, it } from 'vitest';
import {
  Dispatcher,
  StreamBus,
  StreamCoalescer,
  servePort,
  STREAM_COALESCE_MS,
  type Handlers,
} from './host.ts';
import { ManualScheduler } from './clock.ts';
import { createPortPair } from '../../shared/protocol.ts';
import { createPortClient, buildApi } from '../../shared/client.ts';
import { appError } from '../../shared/errors.ts';
import type { EngineStatus } from '../../shared/contract/engine.ts';

function fakeStatus(state: EngineStatus['state'] = 'ready'): EngineStatus {
  return {
    version: '0.0.0-test',
    state,
    mode: 'paper',
    uptimeMs: 0,
    startedAtMs: 0,
    dataDir: '/tmp/x',
    databases: [],
    onnxRuntime: { version: '1.30.0', activeProvider: 'cpu', providers: [] },
    nodeVersion: '24.0.0',
    platform: 'linux',
    arch: 'x64',
    pid: 1,
    tradingEnabled: true,
    problems: [],
    restarts: 0,
  };
}

function setup(handlers: Handlers) {
  const scheduler = new ManualScheduler(1000);
  const bus = new StreamBus();
  const dispatcher = new Dispatcher({ handlers });
  const [engineSide, clientSide] = createPortPair();
  servePort(engineSide, { dispatcher, bus, scheduler, origin: 'test' });
  const client = createPortClient(clientSide);
  return { scheduler, bus, client, api: buildApi(client), clientSide, engineSide };
}

describe('contract host', () => {
  it('answers a valid request with the handler value', async () => {
    const { api } = setup({ 'engine:ping': (req) => ({ nonce: req.nonce, engineTimeMs: 5 }) });
    expect(await api.engine.ping({ nonce: 42 })).toEqual({ ok: true, value: { nonce: 42, engineTimeMs: 5 } });
  });

  it('rejects an invalid payload with the issues before the handler runs', async () => {
    let calls = 0;
    const { client } = setup({
      'engine:ping': (req) => {
        calls++;
        return { nonce: req.nonce, engineTimeMs: 1 };
      },
    });
    const reply = await client.request('engine:ping', { nonce: 'seven' } as never);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('IPC_INVALID_PAYLOAD');
    expect(reply.error.message).toContain('nonce');
    expect((reply.error.details as { issues: { path: string }[] }).issues[0]!.path).toBe('nonce');
    // Extra keys are refused too (strict schemas).
    const extra = await client.request('engine:ping', { nonce: 1, admin: true } as never);
    expect(extra.ok).toBe(false);
    expect(calls).toBe(0);
  });

  it('answers an unknown channel with IPC_UNKNOWN_CHANNEL', async () => {
    const { client } = setup({});
    const reply = await client.request('engine:selfDestruct' as never, {} as never);
    expect(reply).toMatchObject({ ok: false, error: { code: 'IPC_UNKNOWN_CHANNEL' } });
  });

  it('turns a throwing handler into an error reply, expected or not', async () => {
    const { api } = setup({
      'engine:ping': (req) => {
        if (req.nonce === 1) throw appError('NOT_FOUND', 'nothing with nonce 1');
        throw new Error('boom');
      },
    });
    expect(await api.engine.ping({ nonce: 1 })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'nothing with nonce 1' },
    });
    const internal = await api.engine.ping({ nonce: 2 });
    expect(internal).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('refuses a handler response that breaks the contract', async () => {
    const { api } = setup({ 'engine:ping': () => ({ nonce: 'not a number' }) as never });
    expect(await api.engine.ping({ nonce: 3 })).toMatchObject({
      ok: false,
      error: { code: 'IPC_INVALID_RESPONSE' },
    });
  });

  it('answers malformed wire messages without throwing', async () => {
    const { clientSide } = setup({});
    const received: unknown[] = [];
    clientSide.onMessage((m) => received.push(m));
    clientSide.postMessage({ t: 'req', id: 9, channel: 'engine:ping' });
    clientSide.postMessage('garbage');
    clientSide.postMessage({ t: 'sub', stream: 'nope:changed' });
    await new Promise((r) => setTimeout(r, 10));
    expect(received).toHaveLength(3);
    expect(received[0]).toMatchObject({
      t: 'res',
      id: 9,
      reply: { ok: false, error: { code: 'IPC_INVALID_PAYLOAD' } },
    });
    expect(received[1]).toMatchObject({
      t: 'err',
      reply: { ok: false, error: { code: 'IPC_INVALID_PAYLOAD' } },
    });
    expect(received[2]).toMatchObject({
      t: 'err',
      reply: { ok: false, error: { code: 'IPC_UNKNOWN_CHANNEL' } },
    });
  });
});

describe('stream coalescing', () => {
  it('sends at most one message per stream per 16 ms and always the latest value', async () => {
    const { bus, client, scheduler } = setup({});
    const got: string[] = [];
    client.subscribe('engine:changed', (s) => got.push(s.version));
    await new Promise((r) => setTimeout(r, 0));
    // 1,000 updates within one 16 ms window: one immediate message, then the latest after the window.
    for (let i = 0; i < 1000; i++) bus.publish('engine:changed', { ...fakeStatus(), version: `v${i}` });
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual(['v0']);
    scheduler.advance(STREAM_COALESCE_MS);
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual(['v0', 'v999']);
    // Nothing new published: nothing more is sent.
    scheduler.advance(1000);
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toHaveLength(2);
  });

  it('never sends two messages of one stream within 16 ms of simulated time, ending on the latest', () => {
    const scheduler = new ManualScheduler(0);
    const sent: { stream: string; payload: unknown }[] = [];
    const coalescer = new StreamCoalescer(scheduler, (stream, payload) => sent.push({ stream, payload }));
    // 'engine:heartbeat' is a latest stream; exercise the rate limit over simulated time.
    for (let t = 0; t < 1000; t++) {
      coalescer.push('engine:heartbeat', { engineTimeMs: t, seq: t });
      scheduler.advance(1);
    }
    scheduler.advance(100);
    // 1000 ms of updates at 1 kHz -> about 1000/16 messages, never two within 16 ms.
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(1000 / STREAM_COALESCE_MS) + 1);
    expect(sent.at(-1)!.payload).toEqual({ engineTimeMs: 999, seq: 999 });
  });

  it('sends the last state to a new subscriber at once', async () => {
    const { bus, client } = setup({});
    bus.publish('engine:changed', fakeStatus('degraded'));
    const got: string[] = [];
    client.subscribe('engine:changed', (s) => got.push(s.state));
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(['degraded']);
  });

  it('stops sending after unsubscribe', async () => {
    const { bus, client, scheduler } = setup({});
    const got: unknown[] = [];
    const off = client.subscribe('engine:heartbeat', (h) => got.push(h));
    await new Promise((r) => setTimeout(r, 0));
    bus.publish('engine:heartbeat', { engineTimeMs: 1, seq: 1 });
    await new Promise((r) => setTimeout(r, 0));
    off();
    await new Promise((r) => setTimeout(r, 0));
    scheduler.advance(100);
    bus.publish('engine:heartbeat', { engineTimeMs: 2, seq: 2 });
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([{ engineTimeMs: 1, seq: 1 }]);
  });
});
