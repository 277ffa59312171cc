import { describe, expect, it } from 'vitest';
import { decadeTicks, formatBytes, formatChange, formatDuration, formatFlops, formatLossTick, formatPercent } from './format';

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

// The e2e specs build their expected strings with these: pinned here to values worked out by hand.
describe('formatBytes, formatFlops, formatPercent, formatChange, formatDuration', () => {
  it('bytes in binary multiples, three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(1536)).toBe('1.50 KiB'); // 1536 / 1024
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
    expect(formatBytes(180_776_960)).toBe('172 MiB'); // 180,776,960 / 1,048,576 = 172.40
    expect(formatBytes(1_610_612_736)).toBe('1.50 GiB'); // 1.5 · 2³⁰
  });

  it('FLOPs in decimal multiples', () => {
    expect(formatFlops(999)).toBe('999 FLOPs');
    expect(formatFlops(1000)).toBe('1.00 kFLOPs');
    expect(formatFlops(221_000_000)).toBe('221 MFLOPs');
    expect(formatFlops(2_970_000_000)).toBe('2.97 GFLOPs');
    expect(formatFlops(42_500_000_000_000)).toBe('42.5 TFLOPs');
  });

  it('percentages and changes to one decimal, durations in words', () => {
    expect(formatPercent(0.123456)).toBe('12.3%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatChange(110, 100)).toBe('+10.0%');
    expect(formatChange(90, 100)).toBe('−10.0%');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});
