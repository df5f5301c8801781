import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CHILD = resolve(import.meta.dirname, 'test-support', 'crash-child.ts');

function runChild(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

interface Recovered {
  summary: { resolved: number; external: number; fillsApplied: number };
  ledgerOrders: { id: string; state: string; filled: number; isExternal: boolean }[];
  ledgerFills: string[];
  venueOrders: { id: string; state: string; filled: number }[];
  venueFills: { id: string; side: string; quantity: number }[];
  netQuantity: number;
  audit: { isOk: boolean; problem: unknown };
}

// Every durable step of an order's life in the script, and how many times it happens there.
const STEPS: [string, number][] = [
  ['after-intent', 3],
  ['after-venue-accepted', 3],
  ['after-accepted-recorded', 3],
  ['after-venue-fill', 2],
  // The fill and the order's progress (partially-filled/filled) are one transaction.
  ['after-fill-recorded', 2],
  ['after-pending-cancel-recorded', 1],
  ['after-venue-canceled', 1],
  ['after-canceled-recorded', 1],
];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('crash safety (SIGKILL at each step of an order life, restart, reconcile)', () => {
  const cases = STEPS.flatMap(([step, times]) =>
    Array.from({ length: times }, (_, i) => [step, i + 1] as const),
  );
  it.each(cases)('killed %s (#%i): no duplicate and no loss after restart', async (step, occurrence) => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-crash-'));
    dirs.push(dir);
    const run = await runChild(['run', dir, step, String(occurrence)]);
    expect(run.signal, `the step must have happened: ${run.stderr}${run.stdout}`).toBe('SIGKILL');
    const recover = await runChild(['recover', dir]);
    expect(recover.code, recover.stderr).toBe(0);
    const state = JSON.parse(recover.stdout) as Recovered;

    const ledgerById = new Map(state.ledgerOrders.map((o) => [o.id, o]));
    // No duplicate: the venue holds only orders the ledger recorded first, each client id once.
    expect(state.summary.external).toBe(0);
    expect(new Set(state.venueOrders.map((o) => o.id)).size).toBe(state.venueOrders.length);
    for (const v of state.venueOrders) expect(ledgerById.has(v.id)).toBe(true);
    expect(state.venueOrders.length).toBeLessThanOrEqual(state.ledgerOrders.length);
    // No loss: every venue fill is in the ledger exactly once, and positions follow the fills.
    expect([...state.ledgerFills].sort()).toEqual(state.venueFills.map((f) => f.id).sort());
    const venueNet = state.venueFills.reduce(
      (sum, f) => sum + (f.side === 'buy' ? f.quantity : -f.quantity),
      0,
    );
    expect(state.netQuantity).toBeCloseTo(venueNet, 9);
    // Every order's state agrees with the venue; orders the venue never received are closed as rejected.
    const venueById = new Map(state.venueOrders.map((o) => [o.id, o]));
    for (const o of state.ledgerOrders) {
      const v = venueById.get(o.id);
      if (v) {
        expect({ id: o.id, state: o.state, filled: o.filled }).toEqual({
          id: v.id,
          state: v.state,
          filled: v.filled,
        });
      } else {
        expect(o.state).toBe('rejected');
      }
    }
    expect(state.audit.isOk, JSON.stringify(state.audit.problem)).toBe(true);

    // A second restart finds nothing more to do.
    const again = JSON.parse((await runChild(['recover', dir])).stdout) as Recovered;
    expect(again.summary.fillsApplied).toBe(0);
    expect(again.ledgerFills.length).toBe(state.ledgerFills.length);
  });

  it('an uninterrupted run leaves ledger and venue in agreement', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-crash-'));
    dirs.push(dir);
    const run = await runChild(['run', dir, 'none']);
    expect(run.code, run.stderr).toBe(0);
    const state = JSON.parse((await runChild(['recover', dir])).stdout) as Recovered;
    expect(state.ledgerOrders.map((o) => o.state)).toEqual(['filled', 'filled', 'canceled']);
    expect(state.ledgerFills).toHaveLength(2);
    expect(state.netQuantity).toBeCloseTo(0.5, 9);
  });
});
