import { describe, expect, it } from 'vitest';
import { decadeTicks, formatLossTick } from './format';

describe('formatLossTick', () => {
  it('keeps two decimals for ordinary losses and shortens a diverging run’s to at most 5 characters', () => {
    expect(formatLossTick(2.302)).toBe('2.30');
    expect(formatLossTick(0)).toBe('0.00');
    expect(formatLossTick(99.5)).toBe('99.50');
    expect(formatLossTick(100)).toBe('100');
    expect(formatLossTick(1234.5)).toBe('1235');
    expect(formatLossTick(1e4)).toBe('1e4');
    expect(formatLossTick(5.42e29)).toBe('5e29');
    expect(formatLossTick(0.003)).toBe('3e-3');
  });
});

describe('decadeTicks', () => {
  it('covers the range with at most six powers of ten', () => {
    expect(decadeTicks(2.3, 5.4e29)).toEqual({ domain: [1, 1e30], ticks: [1, 1e6, 1e12, 1e18, 1e24, 1e30] });
    expect(decadeTicks(0.5, 2000)).toEqual({ domain: [0.1, 1e4], ticks: [0.1, 1, 10, 100, 1000, 1e4] });
    expect(decadeTicks(3, 4)).toEqual({ domain: [1, 10], ticks: [1, 10] });
    for (const [min, max] of [[1.7, 3e7], [0.02, 9e37], [2.2, 1e5]]) {
      const { ticks } = decadeTicks(min, max);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(ticks[0]).toBeLessThanOrEqual(min);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
    }
  });
});
