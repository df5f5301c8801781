import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CLI_ENTRY, runCliProcess } from '../test-support/run-cli.ts';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vantage-kill-switch-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function auditTypes(): { type: string; payload: string }[] {
  const db = new DatabaseSync(join(dataDir, 'ledger.db'), { readOnly: true });
  try {
    return db
      .prepare(`SELECT type, payload FROM audit_log WHERE type LIKE 'kill-switch%' ORDER BY seq`)
      .all() as {
      type: string;
      payload: string;
    }[];
  } finally {
    db.close();
  }
}

describe('vantage kill-switch', () => {
  it('engages the kill switch of a session running in another process: its stop order is cancelled and the engine audits it', async () => {
    // Enters on the first bar and never exits by rule; its stop-loss (50% away) then rests as a working order.
    const session = spawn(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        CLI_ENTRY,
        '--data-dir',
        dataDir,
        'run',
        '--strategy',
        'rules',
        '--param',
        'entry=close > 0',
        '--param',
        'exit=close < 0',
        '--stop-loss-pct',
        '50',
        '--speed',
        '600',
        '--symbol',
        'BTC/USDT',
      ],
      { env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    session.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => session.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      session.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/fill .*BUY/.test(stdout)) resolve();
      });
      session.on('close', () => reject(new Error(`vantage run ended early: ${stderr}`)));
    });

    const engaged = await runCliProcess([
      '--data-dir',
      dataDir,
      'kill-switch',
      'engage',
      '--reason',
      'stop everything from a terminal',
      '--wait',
      '60',
    ]);
    session.kill('SIGINT');
    expect(await closed, stderr).toBe(0);
    expect(engaged.code, engaged.stderr).toBe(0);
    expect(engaged.stdout).toMatch(
      /^Kill switch ENGAGED by the running engine: 1 working order\(s\) cancelled/,
    );
    const records = auditTypes();
    expect(records.map((r) => r.type)).toContain('kill-switch.engaged');
    const payload = JSON.parse(records.find((r) => r.type === 'kill-switch.engaged')!.payload) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({ source: 'cli', reason: 'stop everything from a terminal' });
    // The strategy was stopped: it sent no order after the kill switch was engaged.
    const db = new DatabaseSync(join(dataDir, 'ledger.db'), { readOnly: true });
    const engagedSeq = (
      db.prepare(`SELECT MIN(seq) AS seq FROM audit_log WHERE type = 'kill-switch.engaged'`).get() as {
        seq: number;
      }
    ).seq;
    const laterIntents = db
      .prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE type = 'order.intent' AND seq > ?`)
      .get(engagedSeq) as { n: number };
    db.close();
    expect(laterIntents.n).toBe(0);
    const status = await runCliProcess(['--data-dir', dataDir, 'kill-switch', 'status']);
    expect(status.stdout).toMatch(/^Kill switch ENGAGED \(cli\): stop everything from a terminal/);
    const verify = await runCliProcess(['--data-dir', dataDir, 'audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('with no engine running the request is kept, and the next session starts with the kill switch engaged', async () => {
    const engaged = await runCliProcess([
      '--data-dir',
      dataDir,
      'kill-switch',
      'engage',
      '--reason',
      'weekend',
      '--wait',
      '0',
    ]);
    expect(engaged.code, engaged.stderr).toBe(0);
    expect(engaged.stdout).toMatch(/No running engine answered within 0 s/);
    const pending = await runCliProcess(['--data-dir', dataDir, 'kill-switch', 'status']);
    expect(pending.stdout).toMatch(
      /Kill switch not engaged\.\nPending request \(not carried out yet\): engage, "weekend"/,
    );

    const run = await runCliProcess([
      '--data-dir',
      dataDir,
      'run',
      '--strategy',
      'none',
      '--for',
      '5s',
      '--speed',
      '60',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const after = await runCliProcess(['--data-dir', dataDir, 'kill-switch', 'status']);
    expect(after.stdout).toBe('Kill switch ENGAGED (cli): weekend\n');
    expect(auditTypes().map((r) => r.type)).toContain('kill-switch.engaged');
  });

  it('refuses a reason that is only spaces and a wait out of range, as bad usage', async () => {
    const blank = await runCliProcess(['--data-dir', dataDir, 'kill-switch', 'engage', '--reason', '  ']);
    expect(blank.code).toBe(2);
    const wait = await runCliProcess([
      '--data-dir',
      dataDir,
      'kill-switch',
      'engage',
      '--reason',
      'x',
      '--wait',
      '-1',
    ]);
    expect(wait.code).toBe(2);
  });
});
