import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Dispatcher, StreamBus, servePort } from '../main/core/host.ts';
import { SystemScheduler } from '../main/runtime/system-clock.ts';
import { startWebHost } from '../main/server/web-host.ts';
import { createPortPair } from '../shared/protocol.ts';
import { createPortClient, buildApi } from '../shared/client.ts';
import type { EngineStatus } from '../shared/contract/engine.ts';
import { atLeast, atMost, percentile, type Benchmark, type Figure } from './types.ts';

const ROUND_TRIPS = 5000;
const THROUGHPUT_REQUESTS = 20000;

function makeDispatcher(): Dispatcher {
  return new Dispatcher({ handlers: { 'engine:ping': (req) => ({ nonce: req.nonce, engineTimeMs: 0 }) } });
}

async function measure(label: string, ping: (n: number) => Promise<unknown>): Promise<Figure[]> {
  for (let i = 0; i < 500; i++) await ping(i); // warm-up
  const samples = new Float64Array(ROUND_TRIPS);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = performance.now();
    await ping(i);
    samples[i] = (performance.now() - t0) * 1000;
  }
  samples.sort();
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < THROUGHPUT_REQUESTS; i++) inflight.push(ping(i));
  await Promise.all(inflight);
  const seconds = (performance.now() - t0) / 1000;
  return [
    { name: `${label} round trip p50`, value: percentile(samples, 50), unit: 'us' },
    { name: `${label} round trip p99`, value: percentile(samples, 99), unit: 'us' },
    {
      name: `${label} throughput (${THROUGHPUT_REQUESTS} pipelined)`,
      value: THROUGHPUT_REQUESTS / seconds,
      unit: 'req/s',
    },
  ];
}

function status(seq: number): EngineStatus {
  return {
    version: `seq-${seq}`,
    state: 'ready',
    mode: 'paper',
    uptimeMs: seq,
    startedAtMs: 0,
    dataDir: '/bench',
    databases: [],
    onnxRuntime: { version: '1.30.0', activeProvider: 'cpu', providers: [] },
    nodeVersion: process.versions.node,
    platform: process.platform,
    arch: process.arch,
    pid: process.pid,
    tradingEnabled: true,
    problems: [],
    restarts: 0,
  };
}

export const benchmark: Benchmark = {
  name: 'contract',
  description:
    'IPC contract round trip (in-process and WebSocket hosts) and stream coalescing under 10,000 updates/s',
  async run() {
    const figures: Figure[] = [];
    const scheduler = new SystemScheduler();

    // In-process host: a port pair (structured clone + microtask delivery), full validation.
    {
      const bus = new StreamBus();
      const [a, b] = createPortPair();
      servePort(a, { dispatcher: makeDispatcher(), bus, scheduler, origin: 'bench' });
      const api = buildApi(createPortClient(b));
      figures.push(...(await measure('in-process', (n) => api.engine.ping({ nonce: n }))));
    }

    // WebSocket host, as `vantage serve` runs it.
    const staticDir = mkdtempSync(join(tmpdir(), 'vantage-bench-static-'));
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html>');
    const bus = new StreamBus();
    const web = await startWebHost({
      dispatcher: makeDispatcher(),
      bus,
      scheduler,
      staticDir,
      token: 'bench-token',
    });
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws?token=bench-token`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let nextId = 1;
    const pending = new Map<number, () => void>();
    let streamMessages = 0;
    let lastStreamVersion = '';
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { t: string; id?: number; payload?: { version: string } };
      if (msg.t === 'res') {
        pending.get(msg.id!)?.();
        pending.delete(msg.id!);
      } else if (msg.t === 'evt') {
        streamMessages++;
        lastStreamVersion = msg.payload!.version;
      }
    });
    const wsPing = (n: number) =>
      new Promise<void>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ t: 'req', id, channel: 'engine:ping', payload: { nonce: n } }));
      });
    figures.push(...(await measure('websocket', wsPing)));

    // Coalescing: publish 10,000 updates/s for 3 s; count what is actually sent.
    ws.send(JSON.stringify({ t: 'sub', stream: 'engine:changed' }));
    await new Promise((r) => setTimeout(r, 50));
    streamMessages = 0;
    const countedFrom = performance.now();
    const durationMs = 3000;
    const ratePerMs = 10;
    let published = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - start;
        const due = Math.min(Math.floor(elapsed * ratePerMs), durationMs * ratePerMs);
        while (published < due) bus.publish('engine:changed', status(++published));
        if (elapsed >= durationMs) resolve();
        else setImmediate(tick);
      };
      tick();
    });
    await new Promise((r) => setTimeout(r, 100)); // let the last window flush
    const seconds = durationMs / 1000;
    // Messages were counted from the reset to the end of the flush wait, not only while publishing.
    const sentPerSecond = streamMessages / ((performance.now() - countedFrom) / 1000);
    figures.push(
      { name: 'stream updates published', value: published / seconds, unit: 'updates/s' },
      {
        name: 'stream messages sent',
        value: sentPerSecond,
        unit: 'msg/s',
        ...atMost(sentPerSecond, 1000 / 16 + 1, 'msg/s'),
      },
      {
        name: 'latest value delivered',
        value: lastStreamVersion === `seq-${published}` ? 1 : 0,
        unit: 'bool',
        ...atLeast(lastStreamVersion === `seq-${published}` ? 1 : 0, 1, ''),
        note: `last published seq-${published}, last received ${lastStreamVersion}`,
      },
    );
    ws.close();
    await web.close();
    rmSync(staticDir, { recursive: true, force: true });
    return figures;
  },
};
