import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CandleStore, findGaps, MAX_CLOSURE_WEEKDAYS } from './candle-store.ts';
import { importCandles } from './import.ts';
import { openTempMarketDb } from './test-support/market-db.ts';
import { describeWithData, testDataPath } from '../../../tests/support/test-data.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);
const isWeekend = (ms: number): boolean => [0, 6].includes(new Date(ms).getUTCDay());

describeWithData('gaps of a real daily stock series', () => {
  let db: ReturnType<typeof openTempMarketDb>;
  let store: CandleStore;
  beforeEach(() => {
    db = openTempMarketDb();
    store = new CandleStore(db.market.db);
  });
  afterEach(() => db.cleanup());

  it('ORCL 1995-2014 daily: weekends are not gaps, holidays are closures, the 9/11 closure is the one gap', () => {
    importCandles(store, {
      venue: 'yahoo',
      symbol: 'ORCL',
      path: testDataPath('backtrader', 'orcl-1995-2014.txt'),
      format: 'csv',
      timeframe: '1d',
    });
    const report = store.gaps({ venue: 'yahoo', symbol: 'ORCL', timeframe: '1d' });
    expect(report.calendar).toBe('weekdays');
    // NYSE closed Tue 2001-09-11 .. Fri 2001-09-14: four weekdays in a row, more than a holiday.
    expect(report.gaps).toEqual([{ fromMs: day('2001-09-11'), toMs: day('2001-09-14'), missingBars: 4 }]);
    expect(report).toMatchObject({ gapCount: 1, missingBars: 4 });
    // 173 one-day holidays plus two 2-day closures (New Year + President Ford's funeral in 2007,
    // Hurricane Sandy in 2012): the 181 missing weekdays minus the four above.
    expect(report).toMatchObject({ closureCount: 175, closedBars: 177 });
    expect(report.closures).toContainEqual({
      fromMs: day('2012-10-29'),
      toMs: day('2012-10-30'),
      missingBars: 2,
    });
    expect(report.closures).toContainEqual({
      fromMs: day('2007-01-01'),
      toMs: day('2007-01-02'),
      missingBars: 2,
    });
    // Christmas 2014 (Thursday) is a closure, and the weekend after it is nothing at all.
    expect(report.closures).toContainEqual({
      fromMs: day('2014-12-25'),
      toMs: day('2014-12-25'),
      missingBars: 1,
    });
    for (const c of report.closures) {
      expect(isWeekend(c.fromMs) || isWeekend(c.toMs)).toBe(false);
    }
  });

  it('a real crypto series keeps the 24/7 calendar: every missing 5m slot counts, weekends included', () => {
    importCandles(store, {
      venue: 'binance',
      symbol: 'BTC/USDT',
      path: testDataPath('crypto', 'nostalgiaforinfinity', 'BTC_USDT-5m.json'),
    });
    const report = store.gaps({ venue: 'binance', symbol: 'BTC/USDT', timeframe: '5m' });
    expect(report.calendar).toBe('24/7');
    expect(report.gapCount).toBe(6);
    expect(report.closureCount).toBe(0);
  });
});

describe('gap calendar rules', () => {
  it('a weekday intraday series: nights and weekends are not gaps, a missing session hour is, a whole missing weekday is a closure', () => {
    // Mon 2024-03-04 .. Fri 2024-03-22, bars at 14:00..20:00 UTC (7 per day) on weekdays only.
    const times: number[] = [];
    for (let d = day('2024-03-04'); d <= day('2024-03-22'); d += DAY) {
      if (isWeekend(d)) continue;
      if (d === day('2024-03-14')) continue; // a Thursday holiday
      for (let h = 14; h <= 20; h++) {
        if (d === day('2024-03-06') && h === 16) continue; // one missing hour
        times.push(d + h * HOUR);
      }
    }
    const report = findGaps(Float64Array.from(times), '1h');
    expect(report.calendar).toBe('weekdays');
    expect(report.gaps).toEqual([
      { fromMs: day('2024-03-06') + 16 * HOUR, toMs: day('2024-03-06') + 16 * HOUR, missingBars: 1 },
    ]);
    expect(report.closures).toEqual([
      { fromMs: day('2024-03-14') + 14 * HOUR, toMs: day('2024-03-14') + 20 * HOUR, missingBars: 7 },
    ]);
  });

  it('a series with any weekend bar, or too short to tell, is 24/7', () => {
    const weekdaysOnly = [day('2024-03-04'), day('2024-03-05'), day('2024-03-08')];
    expect(findGaps(Float64Array.from(weekdaysOnly), '1d')).toMatchObject({
      calendar: '24/7',
      gapCount: 1,
      missingBars: 2,
    });
    const withSaturday = Array.from({ length: 30 }, (_, i) => day('2024-03-01') + i * DAY).filter(
      (t) => t !== day('2024-03-12'),
    );
    expect(findGaps(Float64Array.from(withSaturday), '1d')).toMatchObject({
      calendar: '24/7',
      gapCount: 1,
      missingBars: 1,
      closureCount: 0,
    });
  });

  it('every expected slot is a bar, a missing bar or a closed bar (24/7 and weekday daily series)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 20, maxLength: 400 }),
        fc.boolean(),
        (present, isWeekdaysOnly) => {
          const start = day('2021-01-04'); // a Monday
          const slots = Array.from({ length: present.length }, (_, i) => start + i * DAY).filter(
            (t) => !isWeekdaysOnly || !isWeekend(t),
          );
          const times = slots.filter(
            (_, i) => present[i % present.length] || i === 0 || i === slots.length - 1,
          );
          const report = findGaps(Float64Array.from(times), '1d');
          const first = times[0]!;
          const last = times[times.length - 1]!;
          const expected = slots.filter(
            (t) => t >= first && t <= last && (report.calendar === '24/7' || !isWeekend(t)),
          ).length;
          expect(times.length + report.missingBars + report.closedBars).toBe(expected);
          for (const c of report.closures) expect(c.missingBars).toBeLessThanOrEqual(MAX_CLOSURE_WEEKDAYS);
        },
      ),
      { numRuns: 300 },
    );
  });
});
