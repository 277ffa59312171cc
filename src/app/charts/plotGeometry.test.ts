import { describe, expect, it } from 'vitest';
import { drawable, fractionOf, latestInWords, linearAxis, logAxis, nearestX, pointAt, xPixel, yPixel } from './plotGeometry';

describe('linearAxis', () => {
  it('covers the range with round ticks from the first multiple below to the first above', () => {
    expect(linearAxis(0, 2.31)).toEqual({ domain: [0, 3], ticks: [0, 1, 2, 3], log: false });
    expect(linearAxis(0.4, 1.9)).toEqual({ domain: [0, 2], ticks: [0, 0.5, 1, 1.5, 2], log: false });
    expect(linearAxis(0, 174)).toEqual({ domain: [0, 200], ticks: [0, 50, 100, 150, 200], log: false });
    expect(linearAxis(0, 1).ticks).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('steps by whole numbers at least for steps, and ends at the last step when exact', () => {
    expect(linearAxis(0, 2, { integers: true, exact: true })).toEqual({ domain: [0, 2], ticks: [0, 1, 2], log: false });
    const steps = linearAxis(0, 37, { integers: true, exact: true });
    expect(steps.domain).toEqual([0, 37]);
    expect(steps.ticks).toEqual([0, 10, 20, 30]);
  });

  it('widens an empty range instead of dividing by zero', () => {
    const axis = linearAxis(3, 3);
    expect(axis.domain[1]).toBeGreaterThan(axis.domain[0]);
    expect(axis.ticks.every(Number.isFinite)).toBe(true);
  });
});

describe('logAxis', () => {
  it('spans whole decades, about five ticks however wide', () => {
    expect(logAxis(0.02, 40)).toEqual({ domain: [0.01, 100], ticks: [0.01, 0.1, 1, 10, 100], log: true });
    const wide = logAxis(1e-3, 1e30);
    expect(wide.ticks.length).toBeLessThanOrEqual(6);
    expect(wide.domain[0]).toBeLessThanOrEqual(1e-3);
    expect(wide.domain[1]).toBeGreaterThanOrEqual(1e30);
  });
});

describe('positions', () => {
  const box = { left: 50, top: 8, width: 200, height: 100 };
  it('maps the domain onto the box, y upwards', () => {
    const axis = linearAxis(0, 4, { integers: true, exact: true });
    expect(xPixel(box, axis, 0)).toBe(50);
    expect(xPixel(box, axis, 4)).toBe(250);
    expect(yPixel(box, linearAxis(0, 1), 1)).toBe(8);
    expect(yPixel(box, linearAxis(0, 1), 0)).toBe(108);
    expect(yPixel(box, logAxis(0.01, 100), 1)).toBeCloseTo(58);
  });

  it('cannot place non-finite values, nor values ≤ 0 on a log axis: they are not drawn', () => {
    const log = logAxis(0.01, 100);
    expect(fractionOf(log, 0)).toBeNaN();
    expect(fractionOf(linearAxis(0, 1), Number.NaN)).toBeNaN();
    const points = [
      { x: 1, y: 2 },
      { x: 2, y: Number.POSITIVE_INFINITY },
      { x: 3, y: 0 },
      { x: 4, y: Number.NaN },
    ];
    expect(drawable(points, log)).toEqual([{ x: 1, y: 2 }]);
    expect(drawable(points, linearAxis(0, 2))).toEqual([
      { x: 1, y: 2 },
      { x: 3, y: 0 },
    ]);
  });
});

describe('readout and words', () => {
  it('finds the nearest x among all series and the point there', () => {
    const train = [1, 2, 3, 4].map((x) => ({ x, y: 1 / x }));
    const evals = [{ x: 10, y: 0.5 }];
    expect(nearestX([train, evals], 3.4)).toBe(3);
    expect(nearestX([train, evals], 8)).toBe(10);
    expect(nearestX([[], []], 1)).toBeNull();
    expect(pointAt(train, 2)).toEqual({ x: 2, y: 0.5 });
    expect(pointAt(train, 5)).toBeUndefined();
  });

  it('states a series by its latest point', () => {
    expect(latestInWords('train loss', [{ x: 1, y: 2.5 }, { x: 2, y: 2.25 }], (v) => v.toFixed(3), 'step')).toBe('train loss 2.250 at step 2');
    expect(latestInWords('eval loss', [], String, 'step')).toBe('eval loss: no points yet');
  });
});
