import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from '../engine.ts';
import { Dispatcher } from '../host.ts';
import { ManualScheduler } from '../clock.ts';
import { SeededRandom } from '../random.ts';
import { marketModule } from '../data/module.ts';
import { modelsModule } from './module.ts';
import { gruOnnx, linearOnnx, randomGru, testCard } from './test-models.ts';
import type { RequestChannel, ResponseOf } from '../../../shared/contract/index.ts';
import type { AppError } from '../../../shared/errors.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 30, 0);
let dataDir: string;
let engine: Engine;
let dispatcher: Dispatcher;

async function ok<C extends RequestChannel>(channel: C, payload: unknown): Promise<ResponseOf<C>> {
  const reply = await dispatcher.dispatch(channel, payload, { origin: 'test' });
  if (!reply.ok) throw new Error(`${channel} failed: ${reply.error.code} ${reply.error.message}`);
  return reply.value as ResponseOf<C>;
}
async function fail(channel: RequestChannel, payload: unknown): Promise<AppError> {
  const reply = await dispatcher.dispatch(channel, payload, { origin: 'test' });
  if (reply.ok) throw new Error(`${channel} unexpectedly succeeded`);
  return reply.error;
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-models-module-'));
  engine = new Engine({
    dataDir,
    resourcesDir: resolve(import.meta.dirname, '..', '..', '..', 'resources'),
    version: '0.0.0-test',
    scheduler: new ManualScheduler(T0),
    random: new SeededRandom(3),
    modules: [marketModule, modelsModule],
    moduleOptions: { demoSeed: 77, forceCpu: true },
  });
  await engine.start();
  dispatcher = new Dispatcher({ handlers: engine.handlerTable() });
});

afterEach(async () => {
  await engine.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const series = { venue: 'demo', symbol: 'BTC/USDT', timeframe: '5m' } as const;

describe('models module', () => {
  it('loads the bundled default model at start and lists it with provider and latency', async () => {
    const list = await ok('models:list', {});
    expect(list.defaultModel).toBe('default-btc-5m');
    const m = list.models.find((x) => x.name === 'default-btc-5m')!;
    expect(m).toMatchObject({ status: 'loaded', provider: 'cpu', source: 'bundled', layout: 'tabular' });
    expect(m.features).toHaveLength(16);
  });

  it("predicts over the chart bars without look-ahead: a bar's prediction equals the one computed with only bars up to it", async () => {
    const p = await ok('models:predictions', { ...series, limit: 300 });
    expect(p.output).toBe('margin');
    expect(p.time).toHaveLength(300);
    const defined = p.value.filter((v) => v !== null);
    expect(defined.length).toBeGreaterThan(250);
    // Explaining bar t reads only bars <= t; its prediction is the pane's value at t.
    const i = 200;
    const e = await ok('models:explain', { ...series, timeMs: p.time[i]! });
    expect(e.prediction).toBeCloseTo(p.value[i]!, 5);
    expect(e.method).toBe('tree-shap');
    const sum = e.contributions.reduce((a, c) => a + c.contribution, 0);
    expect(Math.abs(sum - (e.prediction - e.baseValue))).toBeLessThanOrEqual(1e-5);
  });

  it('imports a model sent as content, explains it with exact Shapley against a background built from the series, and unloads it', async () => {
    const bytes = linearOnnx([0.3, -0.2, 0.1], 0);
    const summary = await ok('models:import', {
      onnxBase64: Buffer.from(bytes).toString('base64'),
      cardJson: JSON.stringify(testCard('lin-import', bytes, 3)),
    });
    expect(summary).toMatchObject({ name: 'lin-import', source: 'user', status: 'available' });
    await ok('models:load', { name: 'lin-import' });
    const p = await ok('models:predictions', { ...series, name: 'lin-import', limit: 50 });
    const e = await ok('models:explain', { ...series, name: 'lin-import', timeMs: p.time[49]! });
    expect(e.method).toBe('exact-shapley');
    expect(e.backgroundRows).toBeGreaterThan(0);
    const sum = e.contributions.reduce((a, c) => a + c.contribution, 0);
    expect(Math.abs(sum - (e.prediction - e.baseValue))).toBeLessThanOrEqual(1e-5);
    expect((await ok('models:unload', { name: 'lin-import' })).status).toBe('available');
    expect((await fail('models:explain', { ...series, name: 'lin-import', timeMs: p.time[49]! })).code).toBe(
      'NOT_FOUND',
    );
  });

  it('runs a GRU window model over the chart bars and explains it per feature across the window', async () => {
    const W = 8;
    const bytes = gruOnnx(randomGru(3, 4, new SeededRandom(12)), W);
    await ok('models:import', {
      onnxBase64: Buffer.from(bytes).toString('base64'),
      cardJson: JSON.stringify(testCard('gru-window', bytes, 3, { windowBars: W })),
    });
    const loaded = await ok('models:load', { name: 'gru-window' });
    expect(loaded).toMatchObject({ status: 'loaded', layout: 'window', features: ['f0', 'f1', 'f2'] });
    const p = await ok('models:predictions', { ...series, name: 'gru-window', limit: 100 });
    expect(p.value.every((v) => v !== null && Number.isFinite(v))).toBe(true);
    const e = await ok('models:explain', { ...series, name: 'gru-window', timeMs: p.time[60]! });
    expect(e.method).toBe('exact-shapley');
    expect(e.contributions.map((c) => c.feature)).toEqual(['f0', 'f1', 'f2']);
    expect(e.prediction).toBeCloseTo(p.value[60]!, 5);
    const sum = e.contributions.reduce((a, c) => a + c.contribution, 0);
    expect(Math.abs(sum - (e.prediction - e.baseValue))).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a bad import with MODEL_INVALID naming the field', async () => {
    const bytes = linearOnnx([0.3, -0.2, 0.1], 0);
    const err = await fail('models:import', {
      onnxBase64: Buffer.from(bytes).toString('base64'),
      cardJson: JSON.stringify({ ...testCard('lin-bad', bytes, 3), sha256: '0'.repeat(64) }),
    });
    expect(err).toMatchObject({ code: 'MODEL_INVALID', details: { field: 'sha256' } });
    expect((await fail('models:import', { onnxBase64: 'not base64!', cardJson: '{}' })).code).toBe(
      'IPC_INVALID_PAYLOAD',
    );
  });
});
