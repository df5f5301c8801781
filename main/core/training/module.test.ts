import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.ts';
import { SeededRandom } from '../random.ts';
import { SystemScheduler } from '../../runtime/system-clock.ts';
import { marketModule, MARKET_STORE_SERVICE } from '../data/module.ts';
import { importCandles } from '../data/import.ts';
import type { CandleStore } from '../data/candle-store.ts';
import { defaultModelName, trainingModule } from './module.ts';
import { modelsModule } from '../models/module.ts';
import type { EngineModule } from '../module.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';
import { MODEL_NAME_PATTERN, type TrainJob } from '../../../shared/contract/training.ts';

const RESOURCES = join(import.meta.dirname, '..', '..', '..', 'resources');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(
  modules: EngineModule[] = [marketModule, trainingModule],
): Promise<{ engine: Engine; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vantage-training-'));
  const engine = new Engine({
    dataDir,
    resourcesDir: RESOURCES,
    version: 'test',
    scheduler: new SystemScheduler(),
    random: new SeededRandom(5),
    modules,
    moduleOptions: { demo: false },
  });
  await engine.start();
  cleanups.push(
    () => engine.stop(),
    () => rmSync(dataDir, { recursive: true, force: true }),
  );
  const store = engine.getService<CandleStore>(MARKET_STORE_SERVICE)!;
  importCandles(store, {
    venue: 'binance',
    symbol: 'BTC/USDT',
    path: testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'),
  });
  return { engine, dataDir };
}

function waitForJob(engine: Engine, jobId: string, isDone: (job: TrainJob) => boolean): Promise<TrainJob> {
  return new Promise((resolve) => {
    const off = engine.bus.listen((stream, payload) => {
      if (stream !== 'training:changed') return;
      const job = (payload as { jobs: TrainJob[] }).jobs.find((j) => j.jobId === jobId);
      if (job && isDone(job)) {
        off();
        resolve(job);
      }
    });
  });
}

const ctx = { origin: 'test' } as const;
// About 20,000 bars (70 days of 5m) keep the runs short; the stored series holds 65,741.
const small = { venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m', toMs: Date.UTC(2020, 11, 20) };

describeWithData('training from the engine (Model manager Train)', () => {
  it('trains a small model on a stored series on a thread, with progress, and saves it with its card into the models folder', async () => {
    const { engine, dataDir } = await setup([marketModule, modelsModule, trainingModule]);
    const fractions: number[] = [];
    engine.bus.listen((stream, payload) => {
      if (stream === 'training:changed') fractions.push((payload as { jobs: TrainJob[] }).jobs[0]!.progress);
    });
    const started = await engine.dispatcher.dispatch(
      'training:start',
      {
        ...small,
        label: 'sign:12',
        model: 'gbdt',
        trees: 20,
        depth: 3,
        folds: 2,
        minLeaf: 100,
        name: 'btc-test',
      },
      ctx,
    );
    expect(started).toMatchObject({
      ok: true,
      value: { state: 'running', name: 'btc-test', label: 'sign:12' },
    });
    const jobId = (started as { value: TrainJob }).value.jobId;
    // The engine's event loop stays free while the thread trains: a request is answered meanwhile.
    const listed = await engine.dispatcher.dispatch('training:jobs', {}, ctx);
    expect(listed).toMatchObject({ ok: true, value: { jobs: [{ jobId, state: 'running' }] } });

    const done = await waitForJob(engine, jobId, (j) => j.state !== 'running');
    expect(done.message).not.toMatch(/fail/i);
    expect(done.state).toBe('done');
    expect(fractions.some((f) => f > 0 && f < 1)).toBe(true);
    const models = join(dataDir, 'models');
    expect(readdirSync(models).sort()).toEqual(['btc-test.card.json', 'btc-test.onnx']);
    const card = JSON.parse(readFileSync(join(models, 'btc-test.card.json'), 'utf8')) as {
      name: string;
      training: { data: { source: string; bars: number } };
      evaluation: { outOfSample: { folds: unknown[]; overall: { metrics: { auc: number } } } };
    };
    expect(card.name).toBe('btc-test');
    expect(card.training.data.source).toBe('binance:BTC/USDT:5m');
    expect(card.evaluation.outOfSample.folds).toHaveLength(2);
    // The summary the UI shows is the card's out-of-sample figure, not an in-sample one.
    expect(done.result).toMatchObject({
      name: 'btc-test',
      folder: models,
      task: 'binary-classification',
      folds: 2,
      bars: card.training.data.bars,
      auc: card.evaluation.outOfSample.overall.metrics.auc,
    });
    expect(done.result!.auc).toBeGreaterThan(0.3);
    expect(done.result!.auc).toBeLessThan(0.7);

    // The model registry lists the new model as a user model without a restart.
    const registryList = await engine.dispatcher.dispatch('models:list', {}, ctx);
    expect(
      (registryList as { value: { models: { name: string; source: string; status: string }[] } }).value
        .models,
    ).toContainEqual(expect.objectContaining({ name: 'btc-test', source: 'user', status: 'available' }));

    // Same name again: refused, the saved model is kept.
    const again = await engine.dispatcher.dispatch(
      'training:start',
      { ...small, label: 'sign:12', name: 'btc-test' },
      ctx,
    );
    expect(again).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('cancels mid-training: the job ends cancelled and no model files are written', async () => {
    const { engine, dataDir } = await setup();
    const started = await engine.dispatcher.dispatch(
      'training:start',
      {
        venue: 'binance',
        symbol: 'BTC/USDT',
        timeframe: '5m',
        label: 'sign:12',
        trees: 3000,
        folds: 4,
        name: 'never',
      },
      ctx,
    );
    const jobId = (started as { value: TrainJob }).value.jobId;
    await waitForJob(engine, jobId, (j) => j.phase.startsWith('fold') && j.progress > 0);
    // A second training while one runs is a conflict.
    const second = await engine.dispatcher.dispatch('training:start', { ...small, label: 'sign:6' }, ctx);
    expect(second).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const ended = waitForJob(engine, jobId, (j) => j.state !== 'running');
    const cancel = await engine.dispatcher.dispatch('training:cancel', { jobId }, ctx);
    expect(cancel.ok).toBe(true);
    expect(await ended).toMatchObject({ state: 'cancelled', result: null });
    expect(existsSync(join(dataDir, 'models', 'never.onnx'))).toBe(false);
    expect(existsSync(join(dataDir, 'models')) ? readdirSync(join(dataDir, 'models')) : []).toEqual([]);
  });

  // Malformed requests stop at the contract (IPC_INVALID_PAYLOAD); well-formed but impossible ones at the module.
  it('refuses bad input with clear errors and starts nothing', async () => {
    const { engine } = await setup();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...small, symbol: 'ETH/USDT', label: 'sign:12' }, 'NOT_FOUND', /No stored 5m candles for ETH\/USDT/],
      [{ ...small, label: 'sign:0' }, 'BAD_INPUT', /label/i],
      [{ ...small, label: 'maybe:12' }, 'IPC_INVALID_PAYLOAD', /sign:H/],
      [{ ...small, label: 'return:12', model: 'logistic' }, 'BAD_INPUT', /classification label/],
      [{ ...small, label: 'sign:12', trees: 0 }, 'IPC_INVALID_PAYLOAD', /trees/],
      [{ ...small, label: 'sign:12', name: '../evil' }, 'IPC_INVALID_PAYLOAD', /name/],
      [{ ...small, label: 'sign:12', path: '/etc/passwd' }, 'IPC_INVALID_PAYLOAD', /path/],
    ];
    for (const [request, code, message] of cases) {
      const reply = await engine.dispatcher.dispatch('training:start', request, ctx);
      expect(reply, JSON.stringify(request)).toMatchObject({ ok: false, error: { code } });
      expect(
        (reply as { error: { message: string; details?: unknown } }).error.message +
          JSON.stringify((reply as { error: { details?: unknown } }).error.details ?? ''),
      ).toMatch(message);
    }
    const jobs = await engine.dispatcher.dispatch('training:jobs', {}, ctx);
    expect(jobs).toMatchObject({ ok: true, value: { jobs: [] } });
    const missing = await engine.dispatcher.dispatch('training:cancel', { jobId: 'train-99' }, ctx);
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('default model names', () => {
  it('are always valid file names in the models folder, whatever the symbol and label', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 64 }),
        fc.constantFrom('1m', '5m', '1h', '1d'),
        fc.string({ maxLength: 40 }),
        (symbol, timeframe, label) => {
          const name = defaultModelName(symbol, timeframe, label);
          expect(name).toMatch(MODEL_NAME_PATTERN);
          expect(name).not.toContain('/');
        },
      ),
    );
    expect(defaultModelName('BTC/USDT', '5m', 'sign:12')).toBe('BTC_USDT-5m-sign_12');
  });
});
