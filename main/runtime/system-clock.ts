import type { Scheduler, TimerHandle } from '../core/clock.ts';

/** The wall clock, injected into the engine by the hosts (CLI, server, Electron utility process). */
export class SystemScheduler implements Scheduler {
  nowMs(): number {
    return Date.now();
  }
  schedule(delayMs: number, fn: () => void): TimerHandle {
    // Not unref'd: scheduled engine work (a reconciliation waiting on the venue, a feed's timers)
    // keeps the process alive; every module cancels its timers on stop.
    const t = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(t) };
  }
}
