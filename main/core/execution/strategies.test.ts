import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../engine.ts';
import type { Dispatcher } from '../host.ts';
import { ManualScheduler } from '../clock.ts';
import type { EngineModule } from '../module.ts';
import { marketModule } from '../data/module.ts';
import { modelsModule } from '../models/module.ts';
import { tradingModule } from './module.ts';
import { ManualDriver, startTestEngine } from './test-support/manual-driver.ts';
import type { RequestChannel, ResponseOf } from '../../../shared/contract/index.ts';
import type { AppError } from '../../../shared/errors.ts';
import type { Signal, StrategyInstance } from '../../../shared/contract/strategies.ts';

/**
 * App strategies through the contract (Dispatcher: validation included) on the demo venue with a
 * manual scheduler: signals with rules, features, predictions, explanations and risk verdicts,
 * their audit records, the kill switch, stopping one of many, and cash reserved by working orders.
 */

const T0 = Date.UTC(2026, 0, 5, 9, 30, 10);
let dataDir: string | null = null;
let engine: Engine | null = null;
let scheduler: ManualScheduler;
let dispatcher: Dispatcher;
const published: { stream: string; payload: unknown }[] = [];

let driver: ManualDriver;
const drive = <T>(promise: Promise<T>): Promise<T> => driver.drive(promise);
const runUntil = (cond: () => boolean, maxMs: number, stepMs?: number): Promise<void> =>
  driver.runUntil(cond, maxMs, stepMs);
const ok = <C extends RequestChannel>(channel: C, payload: unknown): Promise<ResponseOf<C>> =>
  driver.ok(channel, payload);
const fail = (channel: RequestChannel, payload: unknown): Promise<AppError> => driver.fail(channel, payload);

async function startEngine(
  modules: EngineModule[],
  options: { isReusingData?: boolean } = {},
): Promise<void> {
  if (!options.isReusingData || !dataDir) dataDir = mkdtempSync(join(tmpdir(), 'vantage-strategies-'));
  // Time goes on across a restart.
  scheduler = new ManualScheduler(options.isReusingData ? scheduler.nowMs() + 60_000 : T0);
  driver = new ManualDriver(scheduler, () => dispatcher);
  published.length = 0;
  ({ engine, dispatcher } = await startTestEngine({ dataDir, driver, scheduler, modules, published }));
  scheduler.advance(2000); // books arrive
}

afterEach(async () => {
  if (engine) await drive(engine.stop());
  engine = null;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

function signalsPublished(): Signal[] {
  return published.filter((p) => p.stream === 'strategies:signal').map((p) => p.payload as Signal);
}

async function instance(strategyId: string): Promise<StrategyInstance> {
  const list = await ok('strategies:list', {});
  return list.instances.find((i) => i.strategyId === strategyId)!;
}

async function workingOrdersOf(strategyId: string): Promise<number> {
  const list = await ok('orders:list', { scope: 'working' });
  return list.orders.filter((o) => o.strategyId === strategyId).length;
}

/** Enters on the first closed bar (close > 0 always holds) and never exits by rule. */
const ALWAYS_ENTER = { entry: 'close > 0 and volume >= 0', exit: 'close < 0' };

describe('strategies in the app (rule and built-in strategies)', () => {
  it('refuses bad start requests at the contract and with named errors', async () => {
    await startEngine([marketModule, tradingModule]);
    expect((await fail('strategies:start', { builtin: 'rules', symbol: 'BTC/USDT', extra: 1 })).code).toBe(
      'IPC_INVALID_PAYLOAD',
    );
    expect(
      (
        await fail('strategies:start', {
          builtin: 'rules',
          symbol: 'BTC/USDT',
          params: { entry: Number.NaN },
        })
      ).code,
    ).toBe('IPC_INVALID_PAYLOAD');
    expect((await fail('strategies:start', { builtin: 'no-such', symbol: 'BTC/USDT' })).code).toBe(
      'STRATEGY_INVALID',
    );
    const badRule = await fail('strategies:start', {
      builtin: 'rules',
      symbol: 'BTC/USDT',
      params: { entry: 'close >' },
    });
    expect(badRule.code).toBe('RULE_PARSE_ERROR');
    expect((await fail('strategies:start', { builtin: 'rules', symbol: 'DOGE/USDT' })).message).toMatch(
      /no symbol DOGE\/USDT/,
    );
    expect((await fail('strategies:stop', { strategyId: 'nope-1' })).code).toBe('NOT_FOUND');
    expect((await ok('strategies:list', {})).instances).toEqual([]);
  });

  it('a rules strategy trades on the demo venue; its signal holds the rules, features and every risk check, in an audit record that verifies', async () => {
    await startEngine([marketModule, tradingModule]);
    const started = await ok('strategies:start', {
      builtin: 'rules',
      symbol: 'BTC/USDT',
      timeframe: '1m',
      params: ALWAYS_ENTER,
      sizing: { kind: 'fixed-notional', notional: 2000 },
    });
    expect(started).toMatchObject({
      strategyId: 'rules-BTC-USDT-1',
      state: 'running',
      builtin: 'rules',
      symbol: 'BTC/USDT',
      model: null,
      stopReason: null,
    });
    await runUntil(() => signalsPublished().length > 0, 120_000);
    await runUntil(
      () =>
        published.some(
          (p) => p.stream === 'orders:changed' && (p.payload as { state: string }).state === 'filled',
        ),
      5_000,
      5,
    );

    const [signal] = (await ok('strategies:signals', { strategyId: started.strategyId })).signals;
    expect(signal).toMatchObject({
      role: 'entry',
      side: 'buy',
      type: 'market',
      outcome: 'sent',
      symbol: 'BTC/USDT',
      prediction: null,
    });
    expect(signal!.clientOrderId).toMatch(/^vt_/);
    expect(signal!.signalId).toBe(`signal-${signal!.auditSeq}`);
    const detail = await ok('strategies:signal', { signalId: signal!.signalId });
    const entry = detail.rules.find((r) => r.name === 'entry')!;
    expect(entry).toMatchObject({ expression: ALWAYS_ENTER.entry, isTrue: true });
    expect(entry.inputs['close']).toBeGreaterThan(0);
    expect(detail.rules.filter((r) => r.name.startsWith('entry: clause')).map((r) => r.expression)).toEqual([
      'close > 0',
      'volume >= 0',
    ]);
    expect(detail.rules.find((r) => r.name === 'exit')).toMatchObject({
      expression: 'close < 0',
      isTrue: false,
    });
    expect(detail.verdict?.isApproved).toBe(true);
    expect(detail.verdict?.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining(['price-band', 'order-pct-available', 'position-pct-equity', 'kill-switch']),
    );
    expect(detail.barTimeMs % 60_000).toBe(0);
    expect(detail.explanation).toBeNull();

    // The audit record is the signal (minus its own seq) and the chain verifies.
    const records = await ok('audit:query', { type: 'strategy.signal' });
    expect(records.records).toHaveLength(1);
    expect(records.records[0]!.seq).toBe(signal!.auditSeq);
    expect(records.records[0]!.payload).toMatchObject({
      strategyId: started.strategyId,
      rules: detail.rules,
      verdict: { isApproved: true },
    });
    expect((await ok('audit:query', { type: 'strategy.start' })).records).toHaveLength(1);
    expect(await ok('audit:verify', {})).toMatchObject({ isOk: true });

    const running = await instance(started.strategyId);
    expect(running.signals).toBe(1);
    expect(running.bars).toBeGreaterThanOrEqual(1);
    expect(running.position).toBeGreaterThan(0);
    expect(running.feesPaid).toBeGreaterThan(0);
    expect(published.some((p) => p.stream === 'strategies:changed')).toBe(true);

    // After a restart the instance is gone (strategies do not outlive the engine run) but the signal reads back from the ledger.
    await drive(engine!.stop());
    await startEngine([marketModule, tradingModule], { isReusingData: true });
    expect((await ok('strategies:list', {})).instances).toEqual([]);
    expect(await ok('strategies:signal', { signalId: signal!.signalId })).toEqual(detail);
    expect((await fail('strategies:signal', { signalId: 'signal-1' })).code).toBe('NOT_FOUND');
    // A new instance never takes an old id (its position slot would carry the old fills).
    const again = await ok('strategies:start', {
      builtin: 'rules',
      symbol: 'BTC/USDT',
      params: ALWAYS_ENTER,
    });
    expect(again.strategyId).toBe('rules-BTC-USDT-2');
    expect(again.position).toBe(0);
  });

  it('stopping one strategy cancels its working orders and leaves the others running', async () => {
    await startEngine([marketModule, tradingModule]);
    const spec = {
      builtin: 'rules',
      timeframe: '1m',
      params: ALWAYS_ENTER,
      sizing: { kind: 'fixed-notional', notional: 2000 },
      protection: { stopLoss: 0.05 },
    };
    const a = await ok('strategies:start', { ...spec, symbol: 'BTC/USDT' });
    const b = await ok('strategies:start', { ...spec, symbol: 'ETH/USDT' });
    expect(a.strategyId).not.toBe(b.strategyId);
    // After each entry fills, its protective stop is working.
    await runUntil(() => signalsPublished().filter((s) => s.role === 'protective').length >= 2, 120_000);
    expect(await workingOrdersOf(a.strategyId)).toBe(1);
    expect(await workingOrdersOf(b.strategyId)).toBe(1);

    const stopped = await ok('strategies:stop', { strategyId: a.strategyId });
    expect(stopped).toMatchObject({ state: 'stopped', stopReason: 'stopped by the user' });
    expect(stopped.stoppedMs).not.toBeNull();
    expect(await workingOrdersOf(a.strategyId)).toBe(0);
    expect(await workingOrdersOf(b.strategyId)).toBe(1);

    const barsBefore = (await instance(b.strategyId)).bars;
    const barsOfStopped = (await instance(a.strategyId)).bars;
    await runUntil(() => scheduler.nowMs() > T0 + 10 * 60_000, 10 * 60_000, 200);
    expect((await instance(b.strategyId)).bars).toBeGreaterThan(barsBefore);
    expect((await instance(b.strategyId)).state).toBe('running');
    expect((await instance(a.strategyId)).bars).toBe(barsOfStopped);
    const stops = await ok('audit:query', { type: 'strategy.stop' });
    expect(stops.records.map((r) => r.payload)).toEqual([
      expect.objectContaining({ strategyId: a.strategyId, reason: 'stopped by the user', canceled: 1 }),
    ]);
  });

  it('the kill switch stops every strategy (state stopped, reason naming the kill switch) and cancels their working orders', async () => {
    await startEngine([marketModule, tradingModule]);
    const spec = {
      builtin: 'rules',
      timeframe: '1m',
      params: ALWAYS_ENTER,
      sizing: { kind: 'fixed-notional', notional: 2000 },
      protection: { stopLoss: 0.05 },
    };
    const a = await ok('strategies:start', { ...spec, symbol: 'BTC/USDT' });
    const b = await ok('strategies:start', {
      ...spec,
      builtin: 'sma-cross',
      params: { fast: 2, slow: 3 },
      symbol: 'ETH/USDT',
    });
    await runUntil(
      () => signalsPublished().some((s) => s.strategyId === a.strategyId && s.role === 'protective'),
      120_000,
    );
    expect(await workingOrdersOf(a.strategyId)).toBe(1);

    await ok('risk:killSwitch', { action: 'engage', reason: 'desk halt' });
    const list = (await ok('strategies:list', {})).instances;
    for (const i of list) expect(i).toMatchObject({ state: 'stopped', stopReason: 'kill switch: desk halt' });
    expect(list.map((i) => i.strategyId).sort()).toEqual([a.strategyId, b.strategyId].sort());
    expect((await ok('orders:list', { scope: 'working' })).orders).toHaveLength(0);
    const stops = await ok('audit:query', { type: 'strategy.stop' });
    expect(stops.records.map((r) => (r.payload as { reason: string }).reason)).toEqual([
      'kill switch: desk halt',
      'kill switch: desk halt',
    ]);
    // Starting again is refused while the kill switch is engaged.
    expect((await fail('strategies:start', { ...spec, symbol: 'BTC/USDT' })).code).toBe('TRADING_HALTED');
    const signalsBefore = signalsPublished().length;
    await runUntil(() => scheduler.nowMs() > T0 + 5 * 60_000, 5 * 60_000, 200);
    expect(signalsPublished()).toHaveLength(signalsBefore);
  });

  it('a working buy order reserves cash: the available balance drops and a second order too large for what is left is refused', async () => {
    await startEngine([marketModule, tradingModule]);
    const limits = (await ok('risk:limits', {})).config;
    limits.global.maxPositionPctOfEquity = 100;
    limits.global.maxOrderNotional = 1_000_000;
    await ok('risk:setLimits', { config: limits, reason: 'test: allow large orders' });
    const before = (await ok('portfolio:get', {})).account;
    expect(before.availableBalance).toBe(before.cash);
    const reference =
      (
        await ok('orders:preview', { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.01 })
      ).verdict.checks.find((c) => c.check === 'order-notional')!.value / 0.01;
    // A resting bid 1% under the market for 40% of the cash (within the 50% of available limit).
    const price = Math.floor(reference * 0.99);
    const quantity = Math.floor(((before.cash * 0.4) / price) * 1e5) / 1e5;
    const resting = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price,
      quantity,
    });
    expect(resting.order?.state).toBe('accepted');
    const during = (await ok('portfolio:get', {})).account;
    const reserved = quantity * price * (1 + 0.0005);
    expect(during.availableBalance).toBeCloseTo(before.cash - reserved, 6);
    expect(during.cash).toBe(before.cash);
    // 35% of the cash: under 50% of the cash, but over 50% of what the first order left available.
    const second = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price,
      quantity: Math.floor(((before.cash * 0.35) / price) * 1e5) / 1e5,
    });
    expect(second.status).toBe('risk-rejected');
    const check = second.verdict.checks.find((c) => c.check === 'order-pct-available')!;
    expect(check.isPassed).toBe(false);
    expect(check.value).toBeGreaterThan(50);
    expect(second.verdict.reason).toMatch(/available balance/);
    // Cancelling releases the reservation.
    await ok('orders:cancel', { clientOrderId: resting.order!.clientOrderId });
    expect((await ok('portfolio:get', {})).account.availableBalance).toBe(before.cash);
  });
});

describe('model-driven strategies in the app', () => {
  it('model-threshold with the bundled default model: signals carry the prediction (model name, version, sha256) and a TreeSHAP explanation that adds up', async () => {
    await startEngine([marketModule, modelsModule, tradingModule]);
    const models = await ok('models:list', {});
    const card = models.models.find((m) => m.name === models.defaultModel)!;
    // enterAbove far below any probability: the first bar with a prediction enters.
    const started = await ok('strategies:start', {
      builtin: 'model-threshold',
      symbol: 'BTC/USDT',
      timeframe: '5m',
      params: { enterAbove: -1, exitBelow: -2 },
    });
    expect(started.model).toEqual({ name: card.name, version: card.version, sha256: card.sha256 });
    await runUntil(() => signalsPublished().length > 0, 6 * 60_000);
    const signal = signalsPublished()[0]!;
    expect(signal).toMatchObject({ role: 'entry', outcome: 'sent', strategyId: started.strategyId });
    expect(signal.prediction?.model).toEqual({ name: card.name, version: card.version, sha256: card.sha256 });
    const pUp = signal.prediction!.values['p_up']!;
    expect(pUp).toBeGreaterThan(0);
    expect(pUp).toBeLessThan(1);
    const detail = await ok('strategies:signal', { signalId: signal.signalId });
    const explanation = detail.explanation!;
    expect(explanation.method).toBe('tree-shap');
    expect(explanation.timeMs).toBe(detail.barTimeMs);
    const sum = explanation.contributions.reduce((s, c) => s + c.contribution, 0);
    expect(sum).toBeCloseTo(explanation.prediction - explanation.baseValue, 4);
    expect(explanation.prediction).toBeCloseTo(signal.prediction!.values['margin']!, 5);
    expect(explanation.contributions.map((c) => c.feature)).toEqual(card.features);
    // The model's inputs are among the recorded feature values, finite at the signal.
    for (const name of card.features) expect(Number.isFinite(detail.features[name])).toBe(true);
    expect(detail.rules.find((r) => r.name === 'entry')).toMatchObject({
      expression: 'model.p_up > -1',
      isTrue: true,
      inputs: { 'model.p_up': pUp },
    });
    const record = (await ok('audit:query', { type: 'strategy.signal' })).records[0]!;
    expect(record.payload).toMatchObject({
      prediction: { model: { sha256: card.sha256 } },
      explanation: { method: 'tree-shap', baseValue: explanation.baseValue },
    });
    expect(await ok('audit:verify', {})).toMatchObject({ isOk: true });
  });
});
