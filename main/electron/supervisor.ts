import type { Scheduler, TimerHandle } from '../core/clock.ts';
import type { SupervisorStatus } from '../../shared/contract/supervisor.ts';

/** The engine child as the supervisor sees it (Electron's UtilityProcess, or a fake in tests). */
export interface SupervisedProcess {
  /** Registers the listener for the process's end (UtilityProcess 'exit' gives the exit code). */
  onExit(listener: (exitCode: number) => void): void;
  kill(): void;
}

export interface SupervisorPolicy {
  /** Delay before the first restart after a crash. */
  initialBackoffMs: number;
  /** The delay doubles per crash in a row, up to this. */
  maxBackoffMs: number;
  /** Running this long without a crash resets the backoff and the crash count. */
  healthyAfterMs: number;
  /** After this many crashes in a row (none of them after a healthy period), stop restarting. */
  maxConsecutiveCrashes: number;
}

export const DEFAULT_SUPERVISOR_POLICY: SupervisorPolicy = {
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  healthyAfterMs: 60_000,
  maxConsecutiveCrashes: 8,
};

export interface SupervisorOptions<P extends SupervisedProcess> {
  /** Starts the engine process. `restarts` is how many times it was restarted before (the engine reports it). */
  spawn(launch: { restarts: number }): P;
  scheduler: Scheduler;
  policy?: Partial<SupervisorPolicy>;
  /** Every status change (sent to the window as `supervisor:changed`). */
  onStatus(status: SupervisorStatus): void;
  /** A new engine process is up: hand it its ports. */
  onStarted?(process: P): void;
}

/** The backoff before restart number `consecutiveCrashes` (1-based): initial * 2^(n-1), capped. */
export function backoffDelayMs(policy: SupervisorPolicy, consecutiveCrashes: number): number {
  const exponent = Math.max(0, consecutiveCrashes - 1);
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(exponent, 30));
}

/**
 * Keeps the engine process alive: restarts it after a crash with exponential backoff, resets the
 * backoff once it has run healthy for a while, and gives up (state 'failed') after too many
 * crashes in a row, so a process that dies at start does not spin forever. Pure: the process and
 * the timers are injected.
 */
export class Supervisor<P extends SupervisedProcess> {
  private readonly options: SupervisorOptions<P>;
  private readonly policy: SupervisorPolicy;
  private child: P | null = null;
  private status: SupervisorStatus = {
    state: 'stopped',
    restarts: 0,
    consecutiveCrashes: 0,
    nextRestartInMs: null,
    lastExitCode: null,
    message: 'The engine is not started.',
  };
  private restartTimer: TimerHandle | null = null;
  private healthyTimer: TimerHandle | null = null;
  private isStopping = false;
  private hasStartedOnce = false;

  constructor(options: SupervisorOptions<P>) {
    this.options = options;
    this.policy = { ...DEFAULT_SUPERVISOR_POLICY, ...options.policy };
  }

  get current(): SupervisorStatus {
    return { ...this.status };
  }

  get process(): P | null {
    return this.child;
  }

  start(): void {
    if (this.child || this.restartTimer) return;
    this.isStopping = false;
    this.launch();
  }

  /** A user-requested restart (also the way out of 'failed'): starts over with no backoff. */
  restart(): void {
    this.cancelTimers();
    this.isStopping = false;
    const old = this.child;
    this.child = null;
    if (old) old.kill();
    this.update({ consecutiveCrashes: 0 });
    this.launch();
  }

  stop(): void {
    this.isStopping = true;
    this.cancelTimers();
    const old = this.child;
    this.child = null;
    old?.kill();
    this.update({ state: 'stopped', nextRestartInMs: null, message: 'The engine is stopped.' });
  }

  private launch(): void {
    const restarts = this.hasStartedOnce ? this.status.restarts + 1 : this.status.restarts;
    this.update({ state: 'starting', restarts, nextRestartInMs: null, message: 'The engine is starting.' });
    let child: P;
    try {
      child = this.options.spawn({ restarts });
    } catch (err) {
      this.hasStartedOnce = true;
      this.handleExit(null, -1, `could not be started (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    this.hasStartedOnce = true;
    this.child = child;
    child.onExit((exitCode) => this.handleExit(child, exitCode, `exited with code ${exitCode}`));
    this.healthyTimer = this.options.scheduler.schedule(this.policy.healthyAfterMs, () => {
      this.healthyTimer = null;
      if (this.child === child && this.status.consecutiveCrashes > 0) {
        this.update({ consecutiveCrashes: 0, message: this.runningMessage() });
      }
    });
    this.update({
      state: 'running',
      message: this.runningMessage(),
    });
    this.options.onStarted?.(child);
  }

  private runningMessage(): string {
    const restarts = this.status.restarts;
    return restarts === 0
      ? 'The engine is running.'
      : `The engine is running (${restarts} restart${restarts === 1 ? '' : 's'} so far).`;
  }

  private handleExit(child: P | null, exitCode: number, what: string): void {
    // An exit of a process we already replaced or killed on purpose is not a crash.
    if (child !== null && child !== this.child) return;
    this.child = null;
    this.healthyTimer?.cancel();
    this.healthyTimer = null;
    if (this.isStopping) {
      this.update({
        state: 'stopped',
        lastExitCode: exitCode,
        nextRestartInMs: null,
        message: 'The engine is stopped.',
      });
      return;
    }
    const consecutiveCrashes = this.status.consecutiveCrashes + 1;
    if (consecutiveCrashes > this.policy.maxConsecutiveCrashes) {
      this.update({
        state: 'failed',
        consecutiveCrashes,
        lastExitCode: exitCode,
        nextRestartInMs: null,
        message: `The engine ${what} and crashed ${consecutiveCrashes} times in a row; Vantage stopped restarting it. Trading is off. See the log in the data folder (logs/), then use Restart engine or restart the app.`,
      });
      return;
    }
    const delayMs = backoffDelayMs(this.policy, consecutiveCrashes);
    this.update({
      state: 'restarting',
      consecutiveCrashes,
      lastExitCode: exitCode,
      nextRestartInMs: delayMs,
      message: `The engine ${what}; restarting in ${formatSeconds(delayMs)} (crash ${consecutiveCrashes} of at most ${this.policy.maxConsecutiveCrashes} in a row).`,
    });
    this.restartTimer = this.options.scheduler.schedule(delayMs, () => {
      this.restartTimer = null;
      this.launch();
    });
  }

  private cancelTimers(): void {
    this.restartTimer?.cancel();
    this.restartTimer = null;
    this.healthyTimer?.cancel();
    this.healthyTimer = null;
  }

  private update(patch: Partial<SupervisorStatus>): void {
    this.status = { ...this.status, ...patch };
    this.options.onStatus({ ...this.status });
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 1000 ? 1 : ms % 1000 === 0 ? 0 : 1)} s`;
}
