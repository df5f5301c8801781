import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualScheduler } from '../core/clock.ts';
import type { SupervisorStatus } from '../../shared/contract/supervisor.ts';
import { supervisorStatusSchema } from '../../shared/contract/supervisor.ts';
import {
  backoffDelayMs,
  DEFAULT_SUPERVISOR_POLICY,
  Supervisor,
  type SupervisedProcess,
} from './supervisor.ts';

class FakeEngineProcess implements SupervisedProcess {
  isKilled = false;
  private exitListener: ((code: number) => void) | null = null;
  readonly restarts: number;
  constructor(restarts: number) {
    this.restarts = restarts;
  }
  onExit(listener: (code: number) => void): void {
    this.exitListener = listener;
  }
  kill(): void {
    this.isKilled = true;
    this.exitListener?.(0);
  }
  crash(code = 1): void {
    this.exitListener?.(code);
  }
}

function setup(policy = {}) {
  const scheduler = new ManualScheduler(1_000_000);
  const spawned: FakeEngineProcess[] = [];
  const statuses: SupervisorStatus[] = [];
  const started: FakeEngineProcess[] = [];
  const supervisor = new Supervisor<FakeEngineProcess>({
    scheduler,
    policy,
    spawn: ({ restarts }) => {
      const p = new FakeEngineProcess(restarts);
      spawned.push(p);
      return p;
    },
    onStatus: (s) => statuses.push(s),
    onStarted: (p) => started.push(p),
  });
  const last = (): SupervisorStatus => statuses[statuses.length - 1]!;
  return { scheduler, spawned, statuses, started, supervisor, last };
}

describe('Supervisor', () => {
  it('restarts a crashed engine with growing backoff and reports it', () => {
    const { scheduler, spawned, supervisor, last } = setup();
    supervisor.start();
    expect(spawned).toHaveLength(1);
    expect(last().state).toBe('running');

    const delays: number[] = [];
    for (let crash = 1; crash <= 4; crash++) {
      spawned[spawned.length - 1]!.crash(3);
      expect(last()).toMatchObject({ state: 'restarting', consecutiveCrashes: crash, lastExitCode: 3 });
      expect(last().message).toMatch(/exited with code 3; restarting in/);
      const delay = last().nextRestartInMs!;
      delays.push(delay);
      scheduler.advance(delay - 1);
      expect(spawned).toHaveLength(crash); // not before the backoff has passed
      scheduler.advance(1);
      expect(spawned).toHaveLength(crash + 1);
      expect(last()).toMatchObject({ state: 'running', restarts: crash });
    }
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    // The engine is told how often it was restarted (engine:status shows it).
    expect(spawned.map((p) => p.restarts)).toEqual([0, 1, 2, 3, 4]);
  });

  it('caps the backoff at the maximum', () => {
    expect(backoffDelayMs(DEFAULT_SUPERVISOR_POLICY, 1)).toBe(500);
    expect(backoffDelayMs(DEFAULT_SUPERVISOR_POLICY, 7)).toBe(30_000);
    expect(backoffDelayMs(DEFAULT_SUPERVISOR_POLICY, 1000)).toBe(30_000);
  });

  it('resets the backoff after the engine ran healthy for a minute', () => {
    const { scheduler, spawned, supervisor, last } = setup();
    supervisor.start();
    spawned[0]!.crash();
    scheduler.advance(500);
    spawned[1]!.crash();
    expect(last().nextRestartInMs).toBe(1000);
    scheduler.advance(1000);
    scheduler.advance(60_000);
    expect(last()).toMatchObject({ state: 'running', consecutiveCrashes: 0 });
    spawned[2]!.crash();
    expect(last()).toMatchObject({
      state: 'restarting',
      consecutiveCrashes: 1,
      nextRestartInMs: 500,
      restarts: 2,
    });
  });

  it('gives up after too many crashes in a row and says what to do', () => {
    const { scheduler, spawned, supervisor, last } = setup({ maxConsecutiveCrashes: 3 });
    supervisor.start();
    for (let i = 0; i < 3; i++) {
      spawned[spawned.length - 1]!.crash();
      scheduler.advance(last().nextRestartInMs!);
    }
    spawned[spawned.length - 1]!.crash(7);
    expect(last()).toMatchObject({
      state: 'failed',
      consecutiveCrashes: 4,
      lastExitCode: 7,
      nextRestartInMs: null,
    });
    expect(last().message).toContain('stopped restarting');
    expect(last().message).toContain('Restart engine');
    scheduler.advance(10 * 60_000);
    expect(spawned).toHaveLength(4);

    // The user asks for a restart: it starts at once, with a fresh crash count.
    supervisor.restart();
    expect(spawned).toHaveLength(5);
    expect(last()).toMatchObject({ state: 'running', consecutiveCrashes: 0, restarts: 4 });
  });

  it('treats a spawn failure as a crash and retries', () => {
    const scheduler = new ManualScheduler(0);
    let attempts = 0;
    const statuses: SupervisorStatus[] = [];
    const supervisor = new Supervisor({
      scheduler,
      spawn: () => {
        attempts++;
        if (attempts === 1) throw new Error('engine-entry.js missing');
        return new FakeEngineProcess(0);
      },
      onStatus: (s) => statuses.push(s),
    });
    supervisor.start();
    expect(statuses.at(-1)).toMatchObject({ state: 'restarting' });
    expect(statuses.at(-1)!.message).toContain('could not be started (engine-entry.js missing)');
    scheduler.advance(500);
    expect(statuses.at(-1)).toMatchObject({ state: 'running', restarts: 1 });
  });

  it('does not restart an engine that was stopped on purpose', () => {
    const { scheduler, spawned, supervisor, last } = setup();
    supervisor.start();
    supervisor.stop();
    expect(spawned[0]!.isKilled).toBe(true);
    expect(last().state).toBe('stopped');
    scheduler.advance(120_000);
    expect(spawned).toHaveLength(1);
  });

  it('hands every new engine process to onStarted (for its ports)', () => {
    const { scheduler, spawned, started, supervisor, last } = setup();
    supervisor.start();
    spawned[0]!.crash();
    scheduler.advance(last().nextRestartInMs!);
    expect(started).toEqual(spawned);
  });

  it('every status it reports is valid for the supervisor:changed stream (any crash pattern)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ gapMs: fc.integer({ min: 0, max: 120_000 }), code: fc.integer({ min: -1, max: 255 }) }),
          { maxLength: 30 },
        ),
        (crashes) => {
          const { scheduler, spawned, statuses, supervisor } = setup({ maxConsecutiveCrashes: 5 });
          supervisor.start();
          for (const { gapMs, code } of crashes) {
            scheduler.advance(gapMs);
            const current = supervisor.process;
            if (current) current.crash(code);
          }
          for (const s of statuses) expect(supervisorStatusSchema.safeParse(s).success).toBe(true);
          // restarts only ever grow; never more processes than restarts + 1
          expect(spawned.length).toBe(supervisor.current.restarts + 1);
          for (let i = 1; i < statuses.length; i++)
            expect(statuses[i]!.restarts).toBeGreaterThanOrEqual(statuses[i - 1]!.restarts);
          for (const s of statuses)
            if (s.nextRestartInMs !== null) expect(s.nextRestartInMs).toBeLessThanOrEqual(30_000);
        },
      ),
      { numRuns: 200 },
    );
  });
});
