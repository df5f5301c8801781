import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../engine.ts';
import type { Dispatcher } from '../host.ts';
import { ManualScheduler } from '../clock.ts';
import { marketModule } from '../data/module.ts';
import { tradingModule } from './module.ts';
import { KILL_SWITCH_POLL_MS } from './trading-service.ts';
import { KILL_SWITCH_REQUEST_KEY, pendingKillSwitchRequest, writeSetting } from './kill-switch-store.ts';
import { ManualDriver, startTestEngine } from './test-support/manual-driver.ts';
import type { RequestChannel, ResponseOf } from '../../../shared/contract/index.ts';
import type { AppError } from '../../../shared/errors.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 30, 0);
let dataDir: string;
let engine: Engine;
let scheduler: ManualScheduler;
let dispatcher: Dispatcher;
const published: { stream: string; payload: unknown }[] = [];

let driver: ManualDriver;
const drive = <T>(promise: Promise<T>): Promise<T> => driver.drive(promise);
const ok = <C extends RequestChannel>(channel: C, payload: unknown): Promise<ResponseOf<C>> =>
  driver.ok(channel, payload);
const fail = (channel: RequestChannel, payload: unknown): Promise<AppError> => driver.fail(channel, payload);

async function startEngine(): Promise<void> {
  ({ engine, dispatcher } = await startTestEngine({
    dataDir,
    driver,
    scheduler,
    modules: [marketModule, tradingModule],
    published,
  }));
  scheduler.advance(2000); // books arrive
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-trading-module-'));
  scheduler = new ManualScheduler(T0);
  driver = new ManualDriver(scheduler, () => dispatcher);
  published.length = 0;
  await startEngine();
});

afterEach(async () => {
  await drive(engine.stop());
  rmSync(dataDir, { recursive: true, force: true });
});

describe('trading module (paper account on the demo venue)', () => {
  it('a paper market order fills, the portfolio and the blotter update, and the audit chain verifies', async () => {
    const result = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
      tif: 'IOC',
    });
    expect(result.status).toBe('sent');
    expect(result.order?.message ?? null).toBeNull();
    expect(result.order?.state).toBe('filled');
    expect(result.verdict.isApproved).toBe(true);
    const portfolio = await ok('portfolio:get', {});
    expect(portfolio.positions[0]).toMatchObject({
      symbol: 'BTC/USDT',
      quantity: 0.01,
      strategyId: 'manual',
    });
    expect(portfolio.account.feesPaid).toBeGreaterThan(0);
    const list = await ok('orders:list', { scope: 'recent' });
    expect(list.fills).toHaveLength(1);
    expect(published.some((p) => p.stream === 'orders:changed')).toBe(true);
    const verify = await ok('audit:verify', {});
    expect(verify).toMatchObject({ isOk: true });
    const intents = await ok('audit:query', { type: 'order.intent' });
    expect(intents.records).toHaveLength(1);
  });

  it('rejects an order priced more than 2% from the market, with the reason, and records the verdict', async () => {
    const preview = await ok('orders:preview', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: 50_000,
      quantity: 0.01,
    });
    const band = preview.verdict.checks.find((c) => c.check === 'price-band')!;
    expect(band.isPassed).toBe(false);
    expect(band.limit).toBe(2);
    const result = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: 50_000,
      quantity: 0.01,
    });
    expect(result.status).toBe('risk-rejected');
    expect(result.verdict.reason).toMatch(/band 2%/);
    const records = await ok('audit:query', { type: 'risk.rejected' });
    expect(records.records).toHaveLength(1);
  });

  it('refuses NaN, negative and unknown fields at the schema', async () => {
    for (const bad of [
      { quantity: Number.NaN },
      { quantity: -1 },
      { quantity: 1, extra: true },
      { quantity: Infinity },
    ]) {
      const error = await fail('orders:submit', { symbol: 'BTC/USDT', side: 'buy', type: 'market', ...bad });
      expect(error.code).toBe('IPC_INVALID_PAYLOAD');
    }
  });

  it('the kill switch cancels working orders, refuses new ones and is audited', async () => {
    const resting = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: 63_000,
      quantity: 0.01,
    });
    expect(resting.order?.state).toBe('accepted');
    const state = await ok('risk:killSwitch', { action: 'engage', reason: 'test' });
    expect(state.isKillSwitchEngaged).toBe(true);
    const list = await ok('orders:list', { scope: 'working' });
    expect(list.orders).toHaveLength(0);
    const refused = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(refused.verdict.reason).toMatch(/kill switch/);
    expect((await ok('audit:query', { type: 'kill-switch.engaged' })).records).toHaveLength(1);
    await ok('risk:killSwitch', { action: 'release', reason: 'done' });
    // A different quantity: the same order again within 2 s would be refused by the duplicate guard.
    expect(
      (await ok('orders:submit', { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.02 })).verdict
        .reason,
    ).toBeNull();
  });

  it('a kill switch request from the CLI (through ledger.db) is carried out by the running engine, answered and audited', async () => {
    const resting = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: 63_000,
      quantity: 0.01,
    });
    expect(resting.order?.state).toBe('accepted');
    const ledger = new DatabaseSync(join(dataDir, 'ledger.db'));
    try {
      writeSetting(
        ledger,
        KILL_SWITCH_REQUEST_KEY,
        { id: 'req-1', action: 'engage', reason: 'from a terminal', isFlattening: false, requestedMs: T0 },
        T0,
      );
      // The engine polls every KILL_SWITCH_POLL_MS of its clock.
      for (let i = 0; i < 50 && pendingKillSwitchRequest(ledger) !== null; i++) {
        scheduler.advance(KILL_SWITCH_POLL_MS);
        await new Promise<void>((r) => setImmediate(r));
      }
      expect(pendingKillSwitchRequest(ledger)).toBeNull();
      expect((await ok('risk:limits', {})).isKillSwitchEngaged).toBe(true);
      expect((await ok('orders:list', { scope: 'working' })).orders).toHaveLength(0);
      const engaged = (await ok('audit:query', { type: 'kill-switch.engaged' })).records;
      expect(engaged.map((r) => (r.payload as { source: string }).source)).toEqual(['cli']);
    } finally {
      ledger.close();
    }
  });

  it('an engaged kill switch still holds after a restart (working orders cancelled, new risk refused)', async () => {
    await ok('risk:killSwitch', { action: 'engage', reason: 'before restart' });
    await drive(engine.stop());
    await startEngine();
    // Orders wait for the start (reconciliation) to finish, which re-engages the kill switch first.
    const refused = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(refused.status).toBe('risk-rejected');
    expect(refused.verdict.reason).toMatch(/kill switch/);
    const state = await ok('risk:limits', {});
    expect(state.isKillSwitchEngaged).toBe(true);
    expect(state.killSwitchReason).toBe('before restart');
    await ok('risk:killSwitch', { action: 'release', reason: 'checked' });
    await drive(engine.stop());
    await startEngine();
    expect((await ok('risk:limits', {})).isKillSwitchEngaged).toBe(false);
  });

  it('validates and audits risk limit changes', async () => {
    const state = await ok('risk:limits', {});
    const bad = structuredClone(state.config);
    bad.global.maxOrdersPerWindow = bad.global.maxGlobalOrdersPerWindow + 1;
    expect((await fail('risk:setLimits', { config: bad, reason: 'x' })).code).toBe('BAD_INPUT');
    const good = structuredClone(state.config);
    good.global.priceBandPct = 1;
    expect(
      (await ok('risk:setLimits', { config: good, reason: 'tighter band' })).config.global.priceBandPct,
    ).toBe(1);
    const changes = await ok('audit:query', { type: 'risk.limits-changed' });
    expect(changes.records).toHaveLength(1);
  });

  it('after a restart the working order is reconciled, fills are not applied twice and limits persist', async () => {
    await ok('orders:submit', { symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.02 });
    const resting = await ok('orders:submit', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price: 63_000,
      quantity: 0.01,
    });
    await drive(engine.stop());
    await startEngine();
    const list = await ok('orders:list', { scope: 'working' });
    expect(list.orders.map((o) => o.clientOrderId)).toEqual([resting.order!.clientOrderId]);
    const portfolio = await ok('portfolio:get', {});
    expect(portfolio.positions[0]?.quantity).toBeCloseTo(0.02, 9);
    const verify = await ok('audit:verify', {});
    expect(verify).toMatchObject({ isOk: true, isCheckpointChecked: true });
    expect((await ok('audit:query', { type: 'reconciliation' })).records.length).toBe(2);
  });
});
