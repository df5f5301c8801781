import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from '../test-support/run-cli.ts';
import { linearOnnx, testCard } from '../../core/models/test-models.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'vantage-cli-models-'));
  dirs.push(d);
  return d;
}

describe('vantage models', () => {
  it('lists the bundled default model as JSON with sha256, provider and status', async () => {
    const dataDir = temp();
    const r = await runCliProcess(['models', 'list', '--json', '--data-dir', dataDir, '--force-cpu']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      models: { name: string; sha256: string; provider: string; status: string }[];
    };
    expect(out.models).toContainEqual(
      expect.objectContaining({
        name: 'default-btc-5m',
        provider: 'cpu',
        status: 'loaded',
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    );
  });

  it('imports a model with its card into the data folder, then lists and verifies it; a tampered file fails verify', async () => {
    const dataDir = temp();
    const work = temp();
    const bytes = linearOnnx([1, -1], 0.5);
    writeFileSync(join(work, 'm.onnx'), bytes);
    writeFileSync(join(work, 'm.card.json'), JSON.stringify(testCard('my-lin', bytes, 2)));
    const imported = await runCliProcess([
      'models',
      'import',
      join(work, 'm.onnx'),
      '--card',
      join(work, 'm.card.json'),
      '--data-dir',
      dataDir,
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/Imported my-lin 1/);
    expect(existsSync(join(dataDir, 'models', 'my-lin.onnx'))).toBe(true);

    const list = await runCliProcess(['models', 'list', '--data-dir', dataDir]);
    expect(list.stdout).toMatch(/my-lin\s+1\s+[0-9a-f]{16}\s+cpu\s+user\s+loaded/);

    const verified = await runCliProcess(['models', 'verify', 'my-lin', '--data-dir', dataDir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/my-lin: OK/);

    writeFileSync(join(dataDir, 'models', 'my-lin.onnx'), linearOnnx([1, -2], 0.5));
    const tampered = await runCliProcess(['models', 'verify', 'my-lin', '--data-dir', dataDir]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/INVALID at sha256/);
  });

  it('refuses an import whose card does not match the file, naming the field, and copies nothing', async () => {
    const dataDir = temp();
    const work = temp();
    const bytes = linearOnnx([1, -1], 0.5);
    writeFileSync(join(work, 'm.onnx'), bytes);
    const card = testCard('my-lin', bytes, 2);
    writeFileSync(
      join(work, 'bad.card.json'),
      JSON.stringify({ ...card, inputs: [{ name: 'features', dtype: 'float32', shape: ['N', 2] }] }),
    );
    const r = await runCliProcess([
      'models',
      'import',
      join(work, 'm.onnx'),
      '--card',
      join(work, 'bad.card.json'),
      '--data-dir',
      dataDir,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inputs\.0\.name/);
    expect(existsSync(join(dataDir, 'models', 'my-lin.onnx'))).toBe(false);
    const missing = await runCliProcess([
      'models',
      'import',
      join(work, 'nope.onnx'),
      '--card',
      join(work, 'bad.card.json'),
      '--data-dir',
      dataDir,
    ]);
    expect(missing.code).toBe(2);
  });
});
