import type { Scheduler, TimerHandle } from '../core/clock.ts';

/** The wall clock, injected into the engine by the hosts (CLI, server, Electron utility process). */
export class SystemScheduler implements Scheduler {
  nowMs(): number {
    return Date.now();
  }
  schedule(delayMs: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, delayMs);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  }
}
