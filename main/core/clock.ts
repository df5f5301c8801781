/**
 * Time and timers reach core code only through this interface: wall clock live,
 * event time in backtests and tests. Core code never calls Date.now() or setTimeout directly.
 */
export interface Clock {
  nowMs(): number;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler extends Clock {
  /** Runs fn after delayMs (of this scheduler's time). */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** A manually advanced clock for tests and simulations: timers fire as time is advanced. */
export class ManualScheduler implements Scheduler {
  private currentMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, { atMs: number; fn: () => void }>();

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { atMs: this.currentMs + Math.max(0, delayMs), fn });
    return { cancel: () => void this.timers.delete(id) };
  }

  /** Advances time to nowMs()+ms, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.currentMs + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.atMs <= target && t.atMs < dueAt) {
          dueAt = t.atMs;
          dueId = id;
        }
      }
      if (dueId < 0) break;
      const timer = this.timers.get(dueId)!;
      this.timers.delete(dueId);
      this.currentMs = Math.max(this.currentMs, timer.atMs);
      timer.fn();
    }
    this.currentMs = target;
  }

  pendingCount(): number {
    return this.timers.size;
  }
}

/**
 * Wraps a scheduler and remembers every pending timer, so an owner (the engine) can cancel all of
 * them at stop: a stopped engine leaves nothing behind that keeps the process alive or fires later.
 */
export class TrackingScheduler implements Scheduler {
  private readonly inner: Scheduler;
  private readonly pending = new Set<TimerHandle>();

  constructor(inner: Scheduler) {
    this.inner = inner;
  }

  nowMs(): number {
    return this.inner.nowMs();
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    let handle: TimerHandle | null = null;
    const inner = this.inner.schedule(delayMs, () => {
      if (handle) this.pending.delete(handle);
      fn();
    });
    handle = {
      cancel: () => {
        this.pending.delete(handle!);
        inner.cancel();
      },
    };
    this.pending.add(handle);
    return handle;
  }

  pendingCount(): number {
    return this.pending.size;
  }

  cancelAll(): number {
    const count = this.pending.size;
    for (const h of [...this.pending]) h.cancel();
    return count;
  }
}
