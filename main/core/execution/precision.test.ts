import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ceilToStep, floorToStep, roundToStep, StepGrid } from './precision.ts';

// Steps as venues publish them: a few significant digits times a power of ten.
const stepArb = fc
  .record({ digits: fc.integer({ min: 1, max: 999 }), exponent: fc.integer({ min: -12, max: 4 }) })
  .map(({ digits, exponent }) => Number(`${digits}e${exponent}`));
const valueArb = fc.oneof(
  fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 1000),
);

describe('step grid', () => {
  it('rounds exactly as the step functions do, for any step and value (same double, same sign of zero)', () => {
    fc.assert(
      fc.property(stepArb, valueArb, (step, value) => {
        const grid = new StepGrid(step);
        expect(Object.is(grid.floor(value), floorToStep(value, step))).toBe(true);
        expect(Object.is(grid.ceil(value), ceilToStep(value, step))).toBe(true);
        expect(Object.is(grid.nearest(value), roundToStep(value, step))).toBe(true);
        // A multiple of the step: the exact quotient the grid works from, far from the cut-over.
        const n = Math.round(value / step);
        if (Math.abs(n) < 1e6)
          expect(Object.is(grid.floor(n * step), floorToStep(n * step, step))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives clean decimals where a plain multiply drifts', () => {
    expect(new StepGrid(0.1).floor(0.3)).toBe(0.3);
    expect(new StepGrid(0.001).ceil(1.0001)).toBe(1.001);
    expect(new StepGrid(0.01).floor(64_000.129)).toBe(64_000.12);
    expect(Object.is(new StepGrid(0.01).floor(-0.001), -0.01)).toBe(true);
    expect(Object.is(new StepGrid(0.01).nearest(-0.001), 0)).toBe(true);
  });
});
