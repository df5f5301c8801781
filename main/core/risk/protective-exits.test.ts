import { describe, expect, it } from 'vitest';
import { exitLevelByFraction, exitLevelByOffset } from './protective-exits.ts';

describe('protective exit levels', () => {
  it('puts stop-loss and trailing levels on the losing side and take-profit on the winning side of a long or a short', () => {
    expect(exitLevelByFraction(100, 0.05, true, 'loss')).toBe(95);
    expect(exitLevelByFraction(100, 0.1, true, 'profit')).toBeCloseTo(110, 12);
    expect(exitLevelByFraction(100, 0.05, false, 'loss')).toBe(105);
    expect(exitLevelByFraction(100, 0.1, false, 'profit')).toBe(90);
    expect(exitLevelByOffset(100, 2.5, true, 'loss')).toBe(97.5);
    expect(exitLevelByOffset(100, 2.5, false, 'loss')).toBe(102.5);
  });
});
