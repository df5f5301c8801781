import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManualScheduler } from '../clock.ts';
import { ModelRegistry } from '../models/registry.ts';
import { DEFAULT_MODEL } from '../models/module.ts';
import { PaperSession, type PaperSessionOptions } from './paper-session.ts';
import { ManualDriver } from './test-support/manual-driver.ts';
import type { Signal } from '../../../shared/contract/strategies.ts';
import type { Alert } from '../../../shared/contract/trading.ts';
import type { ModelSource } from '../strategy/live-model.ts';

/**
 * `vantage run` in-process (the CLI tests run it as a child process): the headless session goes
 * through the same StrategyHost as the app, so a model-driven strategy gets predictions, its
 * signals are audited with the model's identity, and a clean stop leaves nothing working.
 */

const T0 = Date.UTC(2026, 0, 5, 9, 30, 10);
let dataDir: string;
let scheduler: ManualScheduler;
let driver: ManualDriver;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-paper-session-'));
  scheduler = new ManualScheduler(T0);
  driver = new ManualDriver(scheduler);
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A 1m BTC/USDT session of `strategy` on this test's folder and clock (fixed notional 1000). */
function sessionOptions(strategy: string, more: Partial<PaperSessionOptions> = {}): PaperSessionOptions {
  return {
    dataDir,
    scheduler,
    symbol: 'BTC/USDT',
    strategy,
    params: {},
    timeframe: '1m',
    sizing: { kind: 'fixed-notional', notional: 1000 },
    protection: {},
    seed: 11,
    ...more,
  };
}

describe('headless paper session (vantage run)', () => {
  it('runs model-threshold on the default model: warmed-up features give a prediction on the first bar, the signal is audited with the model, and stop cancels the protective order', async () => {
    const models = new ModelRegistry({
      resourcesDir: resolve(import.meta.dirname, '..', '..', '..', 'resources'),
      dataDir,
      forceCpu: true,
    });
    const signals: Signal[] = [];
    const session = new PaperSession(
      sessionOptions('model-threshold', {
        params: { enterAbove: -1, exitBelow: -2 },
        protection: { stopLoss: 0.03 },
        models,
        model: DEFAULT_MODEL,
        onSignal: (s) => signals.push(s),
      }),
    );
    try {
      await driver.drive(session.start());
      // The first whole bar closes within two minutes; with features warm it already has a prediction.
      await driver.runUntil(() => signals.some((s) => s.role === 'protective'), 3 * 60_000);
      const entry = signals.find((s) => s.role === 'entry')!;
      expect(entry).toMatchObject({ strategyId: 'model-threshold', outcome: 'sent', side: 'buy' });
      expect(entry.prediction?.model.name).toBe(DEFAULT_MODEL);
      const detail = session.strategies.signal(entry.signalId);
      expect(detail.explanation?.method).toBe('tree-shap');
      const summary = await driver.drive(session.stop());
      expect(summary).toMatchObject({
        strategy: 'model-threshold',
        signals: signals.length,
        stillWorking: 0,
        isAuditOk: true,
        canceledAtStop: 1,
      });
      expect(summary.bars).toBeGreaterThanOrEqual(1);
      expect(summary.position).toBeGreaterThan(0);
    } finally {
      await models.close();
    }
  });

  it('refuses a model-driven strategy without a model registry before opening anything', () => {
    expect(() => new PaperSession(sessionOptions('hybrid'))).toThrow(/needs a model registry/);
    expect(existsSync(join(dataDir, 'ledger.db'))).toBe(false);
  });

  it('a strategy whose model fails at inference stops as failed, says why, raises an alert and is audited', async () => {
    const registry = new ModelRegistry({
      resourcesDir: resolve(import.meta.dirname, '..', '..', '..', 'resources'),
      dataDir,
      forceCpu: true,
    });
    // The real card and file, but a session whose runs fail (as a crashed inference worker would).
    const broken: ModelSource = {
      entry: (name) => registry.entry(name),
      load: () =>
        Promise.resolve({
          runAll: () => Promise.reject(new Error('inference worker exited')),
        } as unknown as Awaited<ReturnType<ModelSource['load']>>),
    };
    const alerts: Alert[] = [];
    const session = new PaperSession(
      sessionOptions('model-threshold', {
        models: broken,
        model: DEFAULT_MODEL,
        onAlert: (a) => alerts.push(a),
      }),
    );
    await driver.drive(session.start());
    await driver.runUntil(
      () => session.strategies.instance('model-threshold')?.state === 'failed',
      3 * 60_000,
    );
    expect(session.strategies.instance('model-threshold')).toMatchObject({
      state: 'failed',
      stopReason: 'inference worker exited',
      signals: 0,
    });
    expect(alerts.some((a) => a.kind === 'strategy-error' && /inference worker exited/.test(a.message))).toBe(
      true,
    );
    const failed = session.service.audit.query({ type: 'strategy.failed', limit: 10 });
    expect(failed.map((r) => r.payload)).toEqual([
      expect.objectContaining({ strategyId: 'model-threshold', reason: 'inference worker exited' }),
    ]);
    const summary = await driver.drive(session.stop());
    expect(summary).toMatchObject({ isAuditOk: true, stillWorking: 0 });
  });
});
