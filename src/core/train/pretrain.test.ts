// The pretraining loop `npm run pretrain` and the browser's "Pretrain base model" share, on the
// tfjs CPU backend with a tiny model: two steps, the warm-up/cosine schedule, cancel, no leaks;
// and the key a pretrained base is cached under.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelSpec } from '../models/registry';
import type { ModelOptions } from '../models/spec';
import { createModel, disposeModel, readParams } from '../nn/model';
import { learningRateAt, pretrainModel, pretrainSchedule, type PretrainProgress } from './pretrain';
import { PRETRAIN_CLASSES, pretrainedWeightsKey, pretrainTestSet, pretrainTrainSet } from './pretrainTasks';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: ModelOptions = { model: 'mobilenet_v2', width: 0.25, resolution: 32, stem: 'cifar', numClasses: 10 };
const SETTINGS = { epochs: 1, batchSize: 4, lr: 2e-3, warmup: 0.5, seed: 0 };

describe('pretrainModel', () => {
  it('trains a tiny model for 2 steps with the warm-up then cosine schedule, disposing every tensor', async () => {
    const train = pretrainTrainSet('source', 8);
    expect(train.labels.length).toBe(8);
    const model = createModel(buildModelSpec(TINY), { seed: 0 });
    try {
      const before = await readParams(model);
      // A first run compiles kernels and fills caches; the second must leave nothing behind.
      await pretrainModel(model, train, SETTINGS);
      const tensors = tf.memory().numTensors;
      const steps: PretrainProgress[] = [];
      const result = await pretrainModel(model, train, SETTINGS, { onStep: (progress) => void steps.push(progress) });
      expect(tf.memory().numTensors).toBe(tensors);
      expect(result).toMatchObject({ stepsPerEpoch: 2, totalSteps: 2, warmupSteps: 1, steps: 2, stopped: false });
      expect(steps.map((p) => [p.step, p.epoch, p.epochs, p.totalSteps])).toEqual([
        [1, 1, 1, 2],
        [2, 1, 1, 2],
      ]);
      expect(steps.every((p) => Number.isFinite(p.loss) && p.loss > 0)).toBe(true);
      expect(steps[1].epochMeanLoss).toBeCloseTo((steps[0].loss + steps[1].loss) / 2, 6);
      // Step 0 warms up to the peak; step 1 is the cosine's start (the peak).
      expect(steps.map((p) => p.lr)).toEqual([learningRateAt(0, 2, 2e-3, 1), learningRateAt(1, 2, 2e-3, 1)]);
      const after = await readParams(model);
      expect(Array.from(after['features.0.0.weight'])).not.toEqual(Array.from(before['features.0.0.weight']));
    } finally {
      disposeModel(model);
    }
  });

  it('stops between steps when asked, and says so', async () => {
    const model = createModel(buildModelSpec(TINY), { seed: 1 });
    try {
      let done = 0;
      const result = await pretrainModel(model, pretrainTrainSet('source', 8), SETTINGS, { onStep: () => void done++, shouldStop: () => done >= 1 });
      expect(result).toMatchObject({ steps: 1, totalSteps: 2, stopped: true });
    } finally {
      disposeModel(model);
    }
  });

  it('schedules full batches only, and the learning rate warms up linearly then decays to 0', () => {
    expect(pretrainSchedule(7500, { epochs: 2, batchSize: 32, warmup: 0.05 })).toEqual({ stepsPerEpoch: 234, totalSteps: 468, warmupSteps: 23 });
    expect(learningRateAt(0, 100, 1, 10)).toBeCloseTo(0.1);
    expect(learningRateAt(9, 100, 1, 10)).toBeCloseTo(1);
    expect(learningRateAt(10, 100, 1, 10)).toBeCloseTo(1);
    expect(learningRateAt(100, 100, 1, 10)).toBeCloseTo(0);
  });
});

describe('pretrainedWeightsKey', () => {
  it('is one key per model size and task', () => {
    expect(pretrainedWeightsKey(TINY, 'source')).toBe('pretrained/mobilenet_v2/w0.25/r32/cifar/c10/source');
    const keys = new Set([
      pretrainedWeightsKey(TINY, 'source'),
      pretrainedWeightsKey({ ...TINY, width: 0.35 }, 'source'),
      pretrainedWeightsKey({ ...TINY, resolution: 64 }, 'source'),
      pretrainedWeightsKey({ ...TINY, stem: 'imagenet' }, 'source'),
      pretrainedWeightsKey({ ...TINY, numClasses: 12 }, 'source'),
      pretrainedWeightsKey({ ...TINY, model: 'resnet18' }, 'source'),
      pretrainedWeightsKey({ ...TINY, numClasses: 5 }, 'source_0_4'),
    ]);
    expect(keys.size).toBe(7);
  });

  it('pretraining sets: the task’s classes, relabelled 0..k−1', () => {
    const train = pretrainTrainSet('source_0_4', 10);
    expect([...new Set(train.labels)].sort()).toEqual([...PRETRAIN_CLASSES.source_0_4]);
    const test = pretrainTestSet('source_0_4', 40);
    expect(test.numClasses).toBe(5);
    expect(test.labels.length).toBe(20);
  });
});
