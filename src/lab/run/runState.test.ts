import { describe, expect, it } from 'vitest';
import { EarlyStopping, etaSeconds, RunControl, testImagesFor, Throttle } from './runState';

describe('EarlyStopping', () => {
  it('stops after `patience` evaluations without improvement and remembers the best', () => {
    const stopping = new EarlyStopping(2);
    expect(stopping.update(1, 0.5)).toBe('improved');
    expect(stopping.update(2, 0.6)).toBe('improved');
    expect(stopping.update(3, 0.6)).toBe('wait'); // equal is no improvement
    expect(stopping.update(4, 0.55)).toBe('stop');
    expect(stopping.best).toBe(0.6);
    expect(stopping.bestEpoch).toBe(2);
  });

  it('resets the count on an improvement', () => {
    const stopping = new EarlyStopping(2);
    stopping.update(1, 0.5);
    expect(stopping.update(2, 0.4)).toBe('wait');
    expect(stopping.update(3, 0.7)).toBe('improved');
    expect(stopping.update(4, 0.1)).toBe('wait');
    expect(stopping.epochsWithoutImprovement).toBe(1);
  });

  it('patience 1 stops at the first non-improvement; bad patience is refused', () => {
    const stopping = new EarlyStopping(1);
    stopping.update(1, 0.3);
    expect(stopping.update(2, 0.3)).toBe('stop');
    expect(() => new EarlyStopping(0)).toThrow(RangeError);
    expect(() => new EarlyStopping(1.5)).toThrow(RangeError);
  });

  it('a NaN accuracy never counts as an improvement', () => {
    const stopping = new EarlyStopping(1);
    expect(stopping.update(1, Number.NaN)).toBe('stop');
  });
});

describe('etaSeconds', () => {
  it('extrapolates the average pace', () => {
    expect(etaSeconds(10, 30, 5)).toBe(10);
    expect(etaSeconds(30, 30, 5)).toBe(0);
    expect(etaSeconds(0, 30, 5)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('Throttle', () => {
  it('lets the first through, then one per interval, and forced ones always', () => {
    const throttle = new Throttle(250);
    expect(throttle.ready(0)).toBe(true);
    expect(throttle.ready(100)).toBe(false);
    expect(throttle.ready(200, true)).toBe(true);
    expect(throttle.ready(300)).toBe(false);
    expect(throttle.ready(450)).toBe(true);
  });
});

describe('testImagesFor', () => {
  it('is half the training images within [16, 500]', () => {
    expect(testImagesFor(32)).toBe(16);
    expect(testImagesFor(8)).toBe(16);
    expect(testImagesFor(400)).toBe(200);
    expect(testImagesFor(10_000)).toBe(500);
  });
});

describe('RunControl', () => {
  it('a paused run waits until resumed; stop wakes it too', async () => {
    const control = new RunControl();
    await control.waitWhilePaused(); // not paused: resolves at once
    control.pause();
    let woke = false;
    const waiting = control.waitWhilePaused().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    control.resume();
    await waiting;
    expect(woke).toBe(true);

    control.pause();
    const stopped = control.waitWhilePaused();
    control.stop();
    await stopped;
    expect(control.stopped).toBe(true);
    expect(control.paused).toBe(false);
    control.pause(); // a stopped run cannot be paused
    expect(control.paused).toBe(false);
  });
});
