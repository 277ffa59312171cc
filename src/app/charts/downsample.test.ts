import { describe, expect, it } from 'vitest';
import { downsampleMinMax, type XY } from './downsample';

const series = (ys: number[]): XY[] => ys.map((y, x) => ({ x, y }));

describe('downsampleMinMax', () => {
  it('returns short series unchanged (a copy)', () => {
    const points = series([3, 1, 2]);
    const result = downsampleMinMax(points, 10);
    expect(result).toEqual(points);
    expect(result).not.toBe(points);
  });

  it('bounds the length, keeps first and last, and stays in x order', () => {
    const points = series(Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 50) + i / 1000));
    for (const max of [4, 5, 50, 200, 301]) {
      const result = downsampleMinMax(points, max);
      expect(result.length).toBeLessThanOrEqual(max);
      expect(result.length).toBeGreaterThanOrEqual(Math.min(max, 4) - 1);
      expect(result[0]).toBe(points[0]);
      expect(result.at(-1)).toBe(points.at(-1));
      for (let i = 1; i < result.length; i++) expect(result[i].x).toBeGreaterThan(result[i - 1].x);
    }
  });

  it('keeps a spike that a stride would drop', () => {
    const ys = Array.from({ length: 1000 }, () => 1);
    ys[517] = 50;
    const result = downsampleMinMax(series(ys), 20);
    expect(result.some((point) => point.y === 50)).toBe(true);
  });

  it('keeps a non-finite loss', () => {
    const ys = Array.from({ length: 1000 }, (_, i) => 2 - i / 1000);
    ys[700] = Number.NaN;
    const result = downsampleMinMax(series(ys), 30);
    expect(result.some((point) => Number.isNaN(point.y))).toBe(true);
  });

  it('keeps each bucket’s minimum and maximum', () => {
    const result = downsampleMinMax(series([0, 5, -5, 1, 9, 2, 0, 7]), 6);
    expect(result.map((p) => p.y)).toEqual([0, 5, -5, 9, 0, 7].filter((y) => result.some((p) => p.y === y)));
    expect(result.map((p) => p.y)).toContain(-5);
    expect(result.map((p) => p.y)).toContain(9);
  });

  it('tiny limits and bad limits', () => {
    const points = series([1, 2, 3, 4, 5]);
    expect(downsampleMinMax(points, 1)).toEqual([points[4]]);
    expect(downsampleMinMax(points, 2)).toEqual([points[0], points[4]]);
    expect(() => downsampleMinMax(points, 0)).toThrow(RangeError);
  });
});
