import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CLI_ENTRY, runCliProcess } from '../test-support/run-cli.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-trading-cli-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** Starts `vantage run`, waits until stdout shows `waitFor`, sends SIGINT and collects the rest. */
function runUntilThenInterrupt(
  args: string[],
  waitFor: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string; sawMarker: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', CLI_ENTRY, '--data-dir', dataDir, ...args],
      {
        env: { ...process.env, CI: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let sawMarker = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sawMarker && waitFor.test(stdout)) {
        sawMarker = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, sawMarker }));
  });
}

describe('vantage run (paper) and vantage audit', () => {
  it('Ctrl-C stops cleanly: working orders cancelled, ledger consistent, audit verifies', async () => {
    // A fast crossover with a stop-loss: after the first entry fill a protective stop order is working.
    const result = await runUntilThenInterrupt(
      [
        'run',
        '--strategy',
        'sma-cross',
        '--param',
        'fast=2',
        '--param',
        'slow=3',
        '--stop-loss-pct',
        '5',
        '--speed',
        '600',
        '--symbol',
        'BTC/USDT',
      ],
      /fill .*BUY/,
    );
    expect(result.sawMarker, result.stderr).toBe(true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/stopping \(SIGINT\)/);
    expect(result.stdout).toMatch(/summary {2}sma-cross on BTC\/USDT/);
    expect(result.stdout).toMatch(/0 still working/);
    expect(result.stdout).toMatch(/audit OK/);
    const db = new DatabaseSync(join(dataDir, 'ledger.db'), { readOnly: true });
    const open = db
      .prepare(
        `SELECT COUNT(*) AS n FROM orders WHERE state NOT IN ('filled', 'canceled', 'rejected', 'expired')`,
      )
      .get() as { n: number };
    const canceled = db.prepare(`SELECT COUNT(*) AS n FROM orders WHERE state = 'canceled'`).get() as {
      n: number;
    };
    const fills = db.prepare('SELECT COUNT(*) AS n FROM fills').get() as { n: number };
    db.close();
    expect(open.n).toBe(0);
    expect(canceled.n).toBeGreaterThanOrEqual(1);
    expect(fills.n).toBeGreaterThanOrEqual(1);
    const verify = await runCliProcess(['--data-dir', dataDir, 'audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: \d+ records verified/);
  });

  it('audit export writes JSONL that verifies elsewhere, and verify names a tampered record', async () => {
    const run = await runCliProcess([
      '--data-dir',
      dataDir,
      'run',
      '--strategy',
      'none',
      '--for',
      '5s',
      '--speed',
      '10',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const out = join(dataDir, 'export.jsonl');
    const exported = await runCliProcess(['--data-dir', dataDir, 'audit', 'export', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const header = JSON.parse(lines[0]!) as {
      format: string;
      publicKey: string;
      checkpoint: { seq: number };
    };
    expect(header.format).toBe('vantage-audit-export/1');
    expect(header.publicKey).toMatch(/BEGIN PUBLIC KEY/);
    expect(header.checkpoint.seq).toBe(lines.length - 1);
    const verifyExport = await runCliProcess([
      '--data-dir',
      join(dataDir, 'elsewhere'),
      'audit',
      'verify',
      '--export',
      out,
    ]);
    expect(verifyExport.stdout).toMatch(/^OK/);
    // Tamper with the second record of the export.
    const row = JSON.parse(lines[2]!) as { type: string };
    lines[2] = JSON.stringify({ ...row, type: `${row.type}x` });
    writeFileSync(out, `${lines.join('\n')}\n`);
    const tampered = await runCliProcess(['--data-dir', dataDir, 'audit', 'verify', '--export', out]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^FAILED at record 2: modified/);
    // And in the ledger itself.
    const db = new DatabaseSync(join(dataDir, 'ledger.db'));
    db.exec('DROP TRIGGER audit_log_no_delete');
    db.exec('DELETE FROM audit_log WHERE seq = 2');
    db.close();
    const broken = await runCliProcess(['--data-dir', dataDir, 'audit', 'verify', '--json']);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ isOk: false, problem: { kind: 'deleted', seq: 2 } });
  });

  it('refuses bad usage with exit code 2 and a message', async () => {
    const live = await runCliProcess(['--data-dir', dataDir, 'run', '--account', 'live']);
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/Only the paper account/);
    const strategy = await runCliProcess(['--data-dir', dataDir, 'run', '--strategy', 'nope']);
    expect(strategy.code).toBe(2);
    const duration = await runCliProcess(['--data-dir', dataDir, 'run', '--for', 'ten']);
    expect(duration.code).toBe(2);
  });
});
