import type { Clock } from '../clock.ts';

/** Event time for a backtest: the driver moves it to each bar's open and close; it never goes back. */
export class EventClock implements Clock {
  private currentMs: number;
  constructor(startMs = 0) {
    this.currentMs = startMs;
  }
  nowMs(): number {
    return this.currentMs;
  }
  set(ms: number): void {
    if (ms < this.currentMs) throw new Error(`event clock cannot go back from ${this.currentMs} to ${ms}`);
    this.currentMs = ms;
  }
}
