import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUGMENT_PADDING, batchCount, DEFAULT_NORMALIZATION, epochOrder, iterateBatches, makeBatch } from './batching';
import { generateSyntheticDataset } from './synthetic';

const data = generateSyntheticDataset({ split: 'train', count: 37 });

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('batching', () => {
  it('shuffles deterministically per (seed, epoch), covering every image once', () => {
    const order = epochOrder(37, 1, 0);
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    expect(epochOrder(37, 1, 0)).toEqual(order);
    expect(epochOrder(37, 1, 1)).not.toEqual(order);
    expect(epochOrder(37, 2, 0)).not.toEqual(order);
  });

  it('makes normalised float32 NHWC images and int32 labels', async () => {
    const batch = makeBatch(data, [4, 0], { seed: 0, epoch: 0 });
    expect(batch.images.shape).toEqual([2, 32, 32, 3]);
    expect(batch.images.dtype).toBe('float32');
    expect(batch.labels.dtype).toBe('int32');
    expect(Array.from(await batch.labels.data())).toEqual([data.labels[4], data.labels[0]]);
    const values = await batch.images.data();
    const { mean, std } = DEFAULT_NORMALIZATION;
    for (const [position, source] of [[0, 4], [1, 0]] as const) {
      for (let c = 0; c < 3; c++) {
        const raw = data.images[source * 3072 + 100 * 3 + c];
        expect(values[position * 3072 + 100 * 3 + c]).toBeCloseTo((raw / 255 - mean[c]) / std[c], 4);
      }
    }
    tf.dispose([batch.images, batch.labels]);
  });

  it('iterates an epoch in batches without leaking tensors', () => {
    const before = tf.memory().numTensors;
    let seen = 0;
    for (const batch of iterateBatches(data, { batchSize: 8, seed: 3, epoch: 0, augment: true, inputSize: 40 })) {
      expect(batch.images.shape.slice(1)).toEqual([40, 40, 3]);
      seen += batch.labels.shape[0];
      tf.dispose([batch.images, batch.labels]);
    }
    expect(seen).toBe(37);
    expect(tf.memory().numTensors).toBe(before);
    expect(batchCount(37, 8)).toBe(5);
    expect(batchCount(37, 8, true)).toBe(4);
    expect([...iterateBatches(data, { batchSize: 8, seed: 3, epoch: 0, dropRemainder: true })].map((b) => {
      tf.dispose([b.images, b.labels]);
      return b.indices.length;
    })).toEqual([8, 8, 8, 8]);
  });

  it('augments each image by a padded random crop and optional flip, seeded', async () => {
    const indices = Array.from({ length: 16 }, (_, i) => i);
    const plain = makeBatch(data, indices, { seed: 0, epoch: 0 });
    const augmented = makeBatch(data, indices, { seed: 9, epoch: 2, augment: true, batchIndex: 1 });
    const again = makeBatch(data, indices, { seed: 9, epoch: 2, augment: true, batchIndex: 1 });
    const [plainValues, augmentedValues, againValues] = await Promise.all([plain.images.data(), augmented.images.data(), again.images.data()]);
    expect(augmentedValues).toEqual(againValues);
    const { mean, std } = DEFAULT_NORMALIZATION;
    const zero = [0, 1, 2].map((c) => -mean[c] / std[c]); // padding is black before normalisation
    let nonIdentity = 0;
    for (let i = 0; i < 16; i++) {
      // Some crop offset (dy, dx) in −4..4 and flip must reproduce the augmented image exactly.
      let match = false;
      for (let dy = -AUGMENT_PADDING; dy <= AUGMENT_PADDING && !match; dy++) {
        for (let dx = -AUGMENT_PADDING; dx <= AUGMENT_PADDING && !match; dx++) {
          for (const flip of [false, true]) {
            let worst = 0;
            for (let y = 0; y < 32 && worst < 1e-3; y++) {
              for (let x = 0; x < 32 && worst < 1e-3; x++) {
                const sx = flip ? 31 - x + dx : x + dx;
                const sy = y + dy;
                for (let c = 0; c < 3; c++) {
                  const expected = sx < 0 || sx > 31 || sy < 0 || sy > 31 ? zero[c] : plainValues[i * 3072 + (sy * 32 + sx) * 3 + c];
                  worst = Math.max(worst, Math.abs(augmentedValues[i * 3072 + (y * 32 + x) * 3 + c] - expected));
                }
              }
            }
            if (worst < 1e-3) {
              match = true;
              if (dy !== 0 || dx !== 0 || flip) nonIdentity++;
              break;
            }
          }
        }
      }
      expect(match).toBe(true);
    }
    expect(nonIdentity).toBeGreaterThan(10);
    tf.dispose([plain.images, plain.labels, augmented.images, augmented.labels, again.images, again.labels]);
  });
});
