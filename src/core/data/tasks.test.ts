import { describe, expect, it } from 'vitest';
import { generateSyntheticDataset, SYNTHETIC_CLASS_NAMES } from './synthetic';
import { buildCustomDataset, makeShiftTask, makeUnseenClassesTask, resizeToRgb, splitDataset, type DecodedImage } from './tasks';
import { DataError } from './types';

const source = {
  train: generateSyntheticDataset({ split: 'train', count: 40 }),
  val: generateSyntheticDataset({ split: 'val', count: 20 }),
  test: generateSyntheticDataset({ split: 'test', count: 20 }),
};

function solidImage(name: string, width: number, height: number, rgba: [number, number, number, number]): DecodedImage {
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(rgba, p * 4);
  return { name, width, height, channels: 4, data };
}

describe('shift task', () => {
  it('fine-tunes on a corrupted train copy and evaluates on the corrupted test split, keeping the clean test', () => {
    const task = makeShiftTask(source, 'impulse_noise', 5, 1);
    expect(task.pretrainTrain).toBe(source.train);
    expect(task.cleanTest).toBe(source.test);
    expect(task.fineTuneTrain.labels).toEqual(source.train.labels);
    expect(task.fineTuneTrain.images).not.toEqual(source.train.images);
    expect(task.test.images).not.toEqual(source.test.images);
    expect(task.fineTuneVal?.images.length).toBe(source.val.images.length);
    expect(makeShiftTask(source, 'impulse_noise', 5, 1).test.images).toEqual(task.test.images);
  });
});

describe('unseen_classes task', () => {
  it('pretrains on classes 0–4 and fine-tunes on 5–9 relabelled 0..4', () => {
    const task = makeUnseenClassesTask(source);
    expect(task.pretrain.train.numClasses).toBe(5);
    expect(task.pretrain.train.classNames).toEqual(SYNTHETIC_CLASS_NAMES.slice(0, 5));
    expect(task.fineTune.train.classNames).toEqual(SYNTHETIC_CLASS_NAMES.slice(5));
    expect(task.pretrain.train.labels.length + task.fineTune.train.labels.length).toBe(40);
    expect(Math.max(...task.fineTune.test.labels)).toBe(4);
    // The first class-5 image of train becomes the first fine-tune image, label 0.
    const firstFive = source.train.labels.indexOf(5);
    expect(task.fineTune.train.labels[0]).toBe(0);
    expect(task.fineTune.train.images.subarray(0, 3072)).toEqual(source.train.images.subarray(firstFive * 3072, (firstFive + 1) * 3072));
  });
});

describe('custom images', () => {
  it('resizes images of any size to the model resolution', () => {
    const data = buildCustomDataset(
      [
        { name: 'person', images: [solidImage('a.png', 100, 60, [200, 10, 30, 255]), solidImage('b.png', 7, 9, [0, 0, 0, 255])] },
        { name: 'no person', images: [solidImage('c.png', 32, 32, [5, 6, 7, 255])] },
      ],
      48,
    );
    expect(data.height).toBe(48);
    expect(data.classNames).toEqual(['person', 'no person']);
    expect(Array.from(data.labels)).toEqual([0, 0, 1]);
    expect(data.images.length).toBe(3 * 48 * 48 * 3);
    expect(Array.from(data.images.subarray(0, 3))).toEqual([200, 10, 30]);
    expect(Array.from(data.images.subarray(2 * 48 * 48 * 3 + 300, 2 * 48 * 48 * 3 + 303))).toEqual([5, 6, 7]);
  });

  it('averages areas when shrinking and composites transparency over white', () => {
    // A 64×64 one-pixel checkerboard averages to mid-grey at 32×32.
    const checker = new Uint8Array(64 * 64 * 3);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) checker.fill((x + y) % 2 ? 255 : 0, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
    const small = resizeToRgb({ name: 'c', width: 64, height: 64, channels: 3, data: checker }, 32, 32);
    for (const value of small) expect(Math.abs(value - 127.5)).toBeLessThanOrEqual(0.5);
    const transparent = resizeToRgb(solidImage('t', 4, 4, [0, 0, 0, 0]), 8, 8);
    expect(Array.from(transparent.subarray(0, 3))).toEqual([255, 255, 255]);
  });

  it('names an empty class or an unreadable image and imports nothing', () => {
    const good = { name: 'cat', images: [solidImage('ok.png', 4, 4, [1, 2, 3, 255])] };
    expect(() => buildCustomDataset([good, { name: 'dog', images: [] }], 32)).toThrow(/dog: class has no images/);
    const truncated: DecodedImage = { name: 'broken.png', width: 10, height: 10, channels: 4, data: new Uint8Array(12) };
    expect(() => buildCustomDataset([good, { name: 'dog', images: [truncated] }], 32)).toThrow(/dog\/broken\.png: unreadable image/);
    let caught: unknown = null;
    try {
      buildCustomDataset([good, { name: 'dog', images: [{ name: 'x.heic', decodeError: 'unsupported format' }] }], 32);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DataError);
    expect((caught as DataError).file).toBe('dog/x.heic');
    expect(() => buildCustomDataset([good], 32)).toThrow(/at least 2 classes/);
  });

  it('splits a dataset per class, seeded and disjoint', () => {
    const { train, test } = splitDataset(source.train, 0.25, 3);
    expect(train.labels.length + test.labels.length).toBe(40);
    const testCounts = new Array(10).fill(0);
    for (const label of test.labels) testCounts[label]++;
    expect(testCounts).toEqual(new Array(10).fill(1));
    expect(splitDataset(source.train, 0.25, 3).test.images).toEqual(test.images);
  });
});
