import { DemoMarket, EVENT_TRADE } from '../main/core/data/demo-venue.ts';
import { loadavg } from 'node:os';
import { atLeast, type Benchmark, type Figure } from './types.ts';

const EVENTS = 5_000_000;

export const benchmark: Benchmark = {
  name: 'market-demo',
  description:
    'Demo venue event generation (trades + book updates of 4 symbols, fast path), best of 3 runs of 5,000,000 events.',
  async run(): Promise<Figure[]> {
    let best = 0;
    let bestCpu = 0;
    let trades = 0;
    let simulatedHours = 0;
    const cap = EVENTS;
    const columns = {
      tsMs: new Float64Array(cap),
      price: new Float64Array(cap),
      quantity: new Float64Array(cap),
      side: new Int8Array(cap),
    };
    for (let run = 0; run < 3; run++) {
      const start = Date.UTC(2026, 0, 5);
      const market = new DemoMarket({ seed: 1000 + run, startMs: start });
      let k = 0;
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < EVENTS; i++) {
        if (market.step() === EVENT_TRADE) market.writeLastTrade(columns, k++);
      }
      const rate = EVENTS / ((performance.now() - t) / 1000);
      const cpu = process.cpuUsage(cpu0);
      bestCpu = Math.max(bestCpu, EVENTS / ((cpu.user + cpu.system) / 1e6));
      if (rate > best) {
        best = rate;
        trades = k;
        simulatedHours = (market.nextEventMs() - start) / 3_600_000;
      }
    }
    const value = Math.round(best);
    return [
      {
        name: 'demo venue events generated',
        value,
        unit: 'events/s',
        ...atLeast(value, 1_000_000, 'events/s'),
        note: `${trades} trades + ${EVENTS - trades} book updates = ${simulatedHours.toFixed(1)} simulated hours; by CPU time ${Math.round(bestCpu)} events/s (load average ${loadavg()[0]!.toFixed(1)})`,
      },
    ];
  },
};
