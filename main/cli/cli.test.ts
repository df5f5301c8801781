import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from './test-support/run-cli.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-cli-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('vantage CLI', () => {
  it('prints help for every command and exits 0', async () => {
    const root = await runCliProcess(['--help']);
    expect(root.code).toBe(0);
    const commands = [...root.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)]
      .map((m) => m[1]!)
      .filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['serve', 'status', 'db']));
    for (const command of commands) {
      const result = await runCliProcess([command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toContain(`Usage: vantage ${command}`);
    }
  });

  it('exits 2 on bad usage', async () => {
    expect((await runCliProcess(['no-such-command'])).code).toBe(2);
    expect((await runCliProcess(['status', '--no-such-flag'])).code).toBe(2);
    const badPort = await runCliProcess(['--data-dir', dataDir, 'serve', '--port', 'abc']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be 0..65535');
  });

  it('status --json reports the real engine facts', async () => {
    const result = await runCliProcess(['--data-dir', dataDir, '--json', 'status']);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as Record<string, unknown> & {
      databases: { name: string; synchronous: string }[];
    };
    expect(status).toMatchObject({
      state: 'ready',
      tradingEnabled: true,
      dataDir,
      nodeVersion: process.versions.node,
    });
    expect(status.databases.map((d) => [d.name, d.synchronous])).toEqual([
      ['market.db', 'NORMAL'],
      ['ledger.db', 'FULL'],
    ]);
  });

  it('VANTAGE_DATA_DIR chooses the data folder when --data-dir is absent', async () => {
    const result = await runCliProcess(['--json', 'status'], { env: { VANTAGE_DATA_DIR: dataDir } });
    expect(JSON.parse(result.stdout)).toMatchObject({ dataDir });
  });

  it('db check reports a corrupt ledger with exit 1 and leaves it alone', async () => {
    await runCliProcess(['--data-dir', dataDir, 'status']);
    const ok = await runCliProcess(['--data-dir', dataDir, 'db', 'check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ledger\.db\s+ok/);
    writeFileSync(join(dataDir, 'ledger.db'), Buffer.alloc(4096, 0x33));
    const bad = await runCliProcess(['--data-dir', dataDir, '--json', 'db', 'check']);
    expect(bad.code).toBe(1);
    const parsed = JSON.parse(bad.stdout) as { databases: { name: string; integrity: string }[] };
    expect(parsed.databases.find((d) => d.name === 'ledger.db')!.integrity).toBe('corrupt');
    const status = await runCliProcess(['--data-dir', dataDir, 'status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('trading DISABLED');
    expect(status.stdout).toContain('STORE_CORRUPT');
    expect(status.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('db check also checks the paper venue database and fails on a corrupt one', async () => {
    const fresh = await runCliProcess(['--data-dir', dataDir, '--json', 'db', 'check']);
    const names = (
      JSON.parse(fresh.stdout) as { databases: { name: string; integrity: string }[] }
    ).databases.map((d) => [d.name, d.integrity]);
    expect(names).toContainEqual(['paper-venue.db', 'missing']);
    writeFileSync(join(dataDir, 'paper-venue.db'), Buffer.alloc(4096, 0x44));
    const bad = await runCliProcess(['--data-dir', dataDir, 'db', 'check']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/paper-venue\.db\s+corrupt/);
  });
});
