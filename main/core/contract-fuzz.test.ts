import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Engine } from './engine.ts';
import { Dispatcher, type Handlers } from './host.ts';
import { ManualScheduler } from './clock.ts';
import { SeededRandom } from './random.ts';
import { requestChannels, requests } from '../../shared/contract/index.ts';

const RUNS = 1000;

/** JSON texts that parse to hostile shapes: deep nesting, huge strings, prototype keys. */
const hostileJson = fc.oneof(
  fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1, max: 2000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.integer({ min: 100_000, max: 2_000_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc
    .jsonValue()
    .map((v) => `{"__proto__":${JSON.stringify(v)},"constructor":{"prototype":{"isAdmin":true}}}`),
  fc.jsonValue().map((v) => `{"__proto__":{"polluted":true},"payload":${JSON.stringify(v)}}`),
);

const arbitraryValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 6 }) },
  { weight: 1, arbitrary: hostileJson.map((text) => JSON.parse(text) as unknown) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(null, undefined, NaN, Infinity, -0, '', [], 'engine:status'),
  },
);

describe('contract fuzzing over the real engine', () => {
  let dataDir: string;
  let engine: Engine;
  let dispatcher: Dispatcher;
  const calls = new Map<string, number>();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vantage-fuzz-'));
    engine = new Engine({
      dataDir,
      resourcesDir: resolve(import.meta.dirname, '..', '..', 'resources'),
      version: '0.0.0-fuzz',
      scheduler: new ManualScheduler(1_700_000_000_000),
      random: new SeededRandom(7),
    });
    await engine.start();
    // Count every handler call: an invalid payload must never reach one.
    const counted: Handlers = {};
    for (const [channel, handler] of Object.entries(engine.handlerTable())) {
      (counted as Record<string, unknown>)[channel] = (req: unknown, ctx: unknown) => {
        calls.set(channel, (calls.get(channel) ?? 0) + 1);
        return (handler as (a: unknown, b: unknown) => unknown)(req, ctx);
      };
    }
    dispatcher = new Dispatcher({ handlers: counted });
  });

  afterAll(async () => {
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const stableStatus = () => {
    const { uptimeMs: _u, ...rest } = engine.status();
    return rest;
  };

  it.each(requestChannels)(
    '%s answers 1,000 arbitrary invalid values with { ok: false } and changes nothing',
    async (channel) => {
      const before = stableStatus();
      const schema = requests[channel].request;
      await fc.assert(
        fc.asyncProperty(
          arbitraryValue.filter((v) => !schema.safeParse(v).success),
          async (value) => {
            const reply = await dispatcher.dispatch(channel, value, { origin: 'fuzz' });
            expect(reply.ok).toBe(false);
            if (!reply.ok) expect(reply.error.code).toBe('IPC_INVALID_PAYLOAD');
          },
        ),
        { numRuns: RUNS, seed: 20261125 },
      );
      expect(calls.get(channel) ?? 0).toBe(0);
      expect(stableStatus()).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it('answers arbitrary channel names with IPC_UNKNOWN_CHANNEL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'))
          .filter((c) => !requestChannels.includes(c as never)),
        fc.jsonValue(),
        async (channel, payload) => {
          const reply = await dispatcher.dispatch(channel, payload, { origin: 'fuzz' });
          expect(reply).toMatchObject({ ok: false, error: { code: 'IPC_UNKNOWN_CHANNEL' } });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
