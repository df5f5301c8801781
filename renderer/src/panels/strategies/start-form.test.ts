import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildStartRequest,
  errorsFromEngine,
  type BuiltinStrategy,
  type StartFormInput,
} from './start-form.ts';
import { mergeSignals, MAX_SIGNALS } from '../../trading/strategies-store.ts';
import type { Signal } from '../../../../shared/contract/strategies.ts';

const smaCross: BuiltinStrategy = {
  id: 'sma-cross',
  title: 'SMA crossover',
  description: '',
  isModelDriven: false,
  params: [
    { name: 'fast', kind: 'int', default: 10, description: '', min: 1, max: 100_000 },
    { name: 'slow', kind: 'int', default: 30, description: '', min: 1, max: 100_000 },
  ],
};
const modelThreshold: BuiltinStrategy = {
  id: 'model-threshold',
  title: 'Model threshold',
  description: '',
  isModelDriven: true,
  params: [
    { name: 'output', kind: 'string', default: 'p_up', description: '' },
    { name: 'enterAbove', kind: 'number', default: 0.55, description: '' },
  ],
};

function input(overrides: Partial<StartFormInput> = {}): StartFormInput {
  return {
    builtin: 'sma-cross',
    symbol: 'BTC/USDT',
    timeframe: '1m',
    params: {},
    sizingKind: 'fixed-notional',
    sizing: { notional: '1000' },
    protection: {},
    model: '',
    ...overrides,
  };
}

describe('strategy start form', () => {
  it('sends the defaults as numbers when nothing is edited', () => {
    const result = buildStartRequest(input(), smaCross);
    expect(result).toEqual({
      ok: true,
      request: {
        builtin: 'sma-cross',
        symbol: 'BTC/USDT',
        timeframe: '1m',
        params: { fast: 10, slow: 30 },
        sizing: { kind: 'fixed-notional', notional: 1000 },
        protection: {},
      },
    });
  });

  it('reports each bad field on its own: a fractional int, a non-number, a missing sizing amount', () => {
    const result = buildStartRequest(input({ params: { fast: '2.5', slow: 'abc' }, sizing: {} }), smaCross);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors['param.fast']).toMatch(/whole number/);
    expect(result.errors['param.slow']).toMatch(/not a number/);
    expect(result.errors['sizing.notional']).toBe('Required.');
  });

  it('takes protective exits in percent and sends fractions; refuses a stop-loss of 100% or more', () => {
    const ok = buildStartRequest(input({ protection: { stopLoss: '2', takeProfit: '5' } }), smaCross);
    expect(ok.ok && ok.request.protection).toEqual({ stopLoss: 0.02, takeProfit: 0.05 });
    const bad = buildStartRequest(input({ protection: { stopLoss: '150' } }), smaCross);
    expect(!bad.ok && bad.errors['protection.stopLoss']).toMatch(/at most 99%/);
  });

  it('refuses a negative notional with the schema message on the sizing field', () => {
    const bad = buildStartRequest(input({ sizing: { notional: '-5' } }), smaCross);
    expect(!bad.ok && bad.errors['sizing.notional']).toBeTruthy();
  });

  it("refuses a parameter outside the built-in's bounds on its own field", () => {
    const result = buildStartRequest(input({ params: { fast: '0', slow: '200000' } }), smaCross);
    expect(!result.ok && result.errors['param.fast']).toBe('0 is below the minimum 1.');
    expect(!result.ok && result.errors['param.slow']).toBe('200000 is above the maximum 100000.');
  });

  it('passes the chosen model only for model-driven strategies', () => {
    const model = buildStartRequest(
      input({ builtin: 'model-threshold', model: 'default-btc-5m' }),
      modelThreshold,
    );
    expect(model.ok && model.request.model).toBe('default-btc-5m');
    expect(model.ok && model.request.params).toEqual({ output: 'p_up', enterAbove: 0.55 });
    const plain = buildStartRequest(input({ model: 'default-btc-5m' }), smaCross);
    expect(plain.ok && plain.request.model).toBeUndefined();
  });

  it('refuses an empty rule text', () => {
    const bad = buildStartRequest(
      input({ builtin: 'model-threshold', params: { output: '  ' } }),
      modelThreshold,
    );
    expect(!bad.ok && bad.errors['param.output']).toBe('Required.');
  });

  it('puts an engine refusal on the parameter it names, anything else on the form', () => {
    expect(
      errorsFromEngine({
        code: 'STRATEGY_INVALID',
        message: 'sma-cross.fast = 0 must be within 1..100000.',
        details: { param: 'fast' },
      }),
    ).toEqual({
      'param.fast': 'sma-cross.fast = 0 must be within 1..100000.',
    });
    expect(errorsFromEngine({ code: 'ENGINE_NOT_READY', message: 'No handler' })).toEqual({
      form: 'No handler',
    });
  });
});

function signal(id: string, tsMs: number): Signal {
  return {
    signalId: id,
    auditSeq: null,
    tsMs,
    strategyId: 's',
    builtin: 'rules',
    symbol: 'BTC/USDT',
    barTimeMs: tsMs,
    role: 'entry',
    side: 'buy',
    type: 'market',
    quantity: 1,
    reason: '',
    outcome: 'sent',
    clientOrderId: null,
    message: null,
    prediction: null,
  };
}

describe('signal list merge', () => {
  it('keeps signals newest first, once each, whatever order pages and stream batches arrive in', () => {
    const arb = fc.array(
      fc.record({ id: fc.integer({ min: 0, max: 50 }), tsMs: fc.integer({ min: 0, max: 1000 }) }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        // The same id always has the same time (a signal does not move).
        const toSignals = (xs: { id: number }[]) => xs.map((x) => signal(`sig-${x.id}`, x.id * 7));
        const merged = mergeSignals(toSignals(a), toSignals(b));
        const ids = merged.map((s) => s.signalId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(ids)).toEqual(new Set([...a, ...b].map((x) => `sig-${x.id}`)));
        for (let i = 1; i < merged.length; i++)
          expect(merged[i - 1]!.tsMs).toBeGreaterThanOrEqual(merged[i]!.tsMs);
        expect(mergeSignals(merged, toSignals(b))).toEqual(merged);
      }),
    );
  });

  it(`keeps at most ${MAX_SIGNALS} signals, dropping the oldest`, () => {
    const many = Array.from({ length: MAX_SIGNALS + 10 }, (_, i) => signal(`s${i}`, i));
    const merged = mergeSignals([], many);
    expect(merged).toHaveLength(MAX_SIGNALS);
    expect(merged[0]!.tsMs).toBe(MAX_SIGNALS + 9);
    expect(merged.at(-1)!.tsMs).toBe(10);
  });
});
