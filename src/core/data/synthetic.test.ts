import { describe, expect, it } from 'vitest';
import { generateSyntheticDataset, SYNTHETIC_CLASS_NAMES, SYNTHETIC_NUM_CLASSES } from './synthetic';
import { assertValidDataset } from './types';

function imageKeys(images: Uint8Array, count: number): Set<string> {
  const keys = new Set<string>();
  for (let i = 0; i < count; i++) keys.add(Buffer.from(images.subarray(i * 3072, (i + 1) * 3072)).toString('base64'));
  return keys;
}

describe('synthetic source domain', () => {
  it('has 10 named classes, balanced, in the Dataset format', () => {
    const train = generateSyntheticDataset({ split: 'train', count: 200 });
    assertValidDataset(train);
    expect(train.numClasses).toBe(10);
    expect(SYNTHETIC_CLASS_NAMES).toHaveLength(SYNTHETIC_NUM_CLASSES);
    expect(new Set(SYNTHETIC_CLASS_NAMES).size).toBe(10);
    expect(train.images.length).toBe(200 * 32 * 32 * 3);
    const counts = new Array(10).fill(0);
    for (const label of train.labels) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(20));
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = generateSyntheticDataset({ split: 'train', count: 20, seed: 5 });
    const b = generateSyntheticDataset({ split: 'train', count: 20, seed: 5 });
    const c = generateSyntheticDataset({ split: 'train', count: 20, seed: 6 });
    expect(b.images).toEqual(a.images);
    expect(c.images).not.toEqual(a.images);
  });

  it('keeps train, val and test disjoint', () => {
    const count = 300;
    const keys = ['train', 'val', 'test'].map((split) => imageKeys(generateSyntheticDataset({ split: split as 'train', count }).images, count));
    for (const set of keys) expect(set.size).toBe(count);
    const all = new Set([...keys[0], ...keys[1], ...keys[2]]);
    expect(all.size).toBe(3 * count);
  });

  it('uses the full dynamic range and varies within a class', () => {
    const data = generateSyntheticDataset({ split: 'val', count: 20 });
    let min = 255;
    let max = 0;
    for (const value of data.images) {
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    expect(min).toBeLessThan(20);
    expect(max).toBeGreaterThan(235);
    // Images 0 and 10 share class 0 but must not look alike (random pose and colours).
    let difference = 0;
    for (let p = 0; p < 3072; p++) difference += Math.abs(data.images[p] - data.images[10 * 3072 + p]);
    expect(difference / 3072).toBeGreaterThan(15);
  });

  it('generates a subset of classes with their original labels', () => {
    const data = generateSyntheticDataset({ split: 'train', count: 10, classes: [5, 9] });
    expect(Array.from(data.labels)).toEqual([5, 9, 5, 9, 5, 9, 5, 9, 5, 9]);
    expect(() => generateSyntheticDataset({ split: 'train', count: 1, classes: [10] })).toThrow(/out of range/);
  });
});
