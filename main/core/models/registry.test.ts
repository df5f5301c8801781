import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppErrorException } from '../../../shared/errors.ts';
import { ModelRegistry } from './registry.ts';
import { linearOnnx, testCard } from './test-models.ts';

const resourcesDir = resolve(import.meta.dirname, '../../../resources');
const dirs: string[] = [];
const registries: ModelRegistry[] = [];
afterEach(async () => {
  for (const r of registries.splice(0)) await r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function registry(): { r: ModelRegistry; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'vantage-models-'));
  dirs.push(dataDir);
  const r = new ModelRegistry({ resourcesDir, dataDir, forceCpu: true });
  registries.push(r);
  return { r, dataDir };
}

async function importError(
  r: ModelRegistry,
  bytes: Uint8Array,
  card: unknown,
): Promise<{ code: string; field: string; message: string }> {
  try {
    await r.importModel(bytes, JSON.stringify(card));
  } catch (error) {
    expect(error).toBeInstanceOf(AppErrorException);
    const e = error as AppErrorException;
    return { code: e.code, field: (e.details as { field: string }).field, message: e.message };
  }
  throw new Error('import succeeded');
}

describe('model registry', () => {
  it('loads the bundled default model on the CPU provider, warmed up, and runs a batch of rows in one call', async () => {
    const { r } = registry();
    const [entry] = r.list();
    expect(entry).toMatchObject({ name: 'default-btc-5m', source: 'bundled', status: 'available' });
    const session = await r.load('default-btc-5m');
    expect(session.provider).toBe('cpu');
    expect(r.list()[0]!.status).toBe('loaded');
    const out = await session.runBatch(new Float32Array(16 * 100), 100);
    expect(out).toHaveLength(100);
    await session.runBatch(new Float32Array(16), 1);
    // Batch-1 runs feed the latency histogram; the 100-row run counts as batch throughput.
    expect(r.list()[0]!.latency).toMatchObject({ count: 1, batchRuns: 1, batchRows: 100 });
    expect(r.list()[0]!.latency!.p99Us).toBeGreaterThan(0);
    await r.unload('default-btc-5m');
    expect(r.list()[0]!.status).toBe('available');
  });

  it('imports a valid model into the data folder and verifies it', async () => {
    const { r, dataDir } = registry();
    const bytes = linearOnnx([1, 2, 3], 0);
    const summary = await r.importModel(bytes, JSON.stringify(testCard('lin3', bytes, 3)));
    expect(summary).toMatchObject({
      name: 'lin3',
      source: 'user',
      status: 'available',
      features: ['f0', 'f1', 'f2'],
    });
    expect(readdirSync(join(dataDir, 'models')).sort()).toEqual(['lin3.card.json', 'lin3.onnx']);
    expect((await r.verify('lin3')).ok).toBe(true);
    // A fresh registry over the same folder finds it.
    const again = new ModelRegistry({ resourcesDir, dataDir, forceCpu: true });
    registries.push(again);
    expect(again.list().map((m) => m.name)).toContain('lin3');
  });

  it('rejects bad imports with MODEL_INVALID naming the field, and writes nothing', async () => {
    const { r, dataDir } = registry();
    const bytes = linearOnnx([1, 2, 3], 0);
    const good = testCard('lin3', bytes, 3);
    expect(await importError(r, bytes, { ...good, sha256: 'a'.repeat(64) })).toMatchObject({
      code: 'MODEL_INVALID',
      field: 'sha256',
    });
    expect(
      await importError(r, bytes, { ...good, inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3] }] }),
    ).toMatchObject({
      field: 'inputs.0.name',
    });
    expect(
      await importError(r, bytes, {
        ...good,
        outputs: [{ name: 'prediction', dtype: 'float32', shape: ['N', 2] }],
      }),
    ).toMatchObject({
      field: 'outputs.0.shape',
    });
    expect(
      await importError(r, bytes, {
        ...good,
        outputs: [{ name: 'prediction', dtype: 'int64', shape: ['N', 1] }],
      }),
    ).toMatchObject({
      field: 'outputs',
    });
    const unknownFeature = {
      ...good,
      featureSpec: {
        features: [
          { name: 'a', indicator: 'nope' },
          { name: 'b', indicator: 'rsi' },
          { name: 'c', indicator: 'rsi' },
        ],
      },
    };
    expect(await importError(r, bytes, unknownFeature)).toMatchObject({
      field: 'featureSpec.features.0.indicator',
    });
    expect(
      await importError(r, bytes, { ...good, featureSpec: { features: [{ name: 'a', indicator: 'rsi' }] } }),
    ).toMatchObject({
      field: 'inputs.0.shape',
    });
    expect(await importError(r, bytes, { ...good, name: 'Bad Name' })).toMatchObject({ field: 'name' });
    expect(await importError(r, bytes, { ...good, name: 'default-btc-5m' })).toMatchObject({ field: 'name' });
    const garbage = new Uint8Array([1, 2, 3]);
    await expect(r.importModel(garbage, JSON.stringify(testCard('junk', garbage, 3)))).rejects.toMatchObject({
      code: 'MODEL_LOAD_FAILED',
    });
    expect(readdirSync(dataDir)).not.toContain('models');
  });

  it('reports a tampered model file at verify and load time as a sha256 mismatch', async () => {
    const { r, dataDir } = registry();
    const bytes = linearOnnx([1, 2, 3], 0);
    await r.importModel(bytes, JSON.stringify(testCard('lin3', bytes, 3)));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, 'models', 'lin3.onnx'), linearOnnx([1, 2, 4], 0));
    const verified = await r.verify('lin3');
    expect(verified.ok).toBe(false);
    expect(verified.error).toMatchObject({ code: 'MODEL_INVALID', details: { field: 'sha256' } });
    await expect(r.load('lin3')).rejects.toThrow(/sha256/);
  });
});
