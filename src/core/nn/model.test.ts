import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_IDS } from '../ids';
import { buildModelSpec } from '../models/registry';
import { forward } from './forward';
import { assignParams, createModel, disposeModel, readParams } from './model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let sumSq = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    sumSq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sumSq / values.length - mean * mean), maxAbs };
}

describe('createModel', () => {
  it('one variable per parameter, torchvision inits, seeded and per-parameter streams', async () => {
    const spec = buildModelSpec({ model: 'resnet18', width: 0.5, resolution: 32, numClasses: 10, stem: 'cifar' });
    const before = tf.memory().numTensors;
    const model = createModel(spec, { seed: 11 });
    expect([...model.variables.keys()]).toEqual(Object.keys(spec.params));
    expect(model.variables.get('bn1.running_mean')!.trainable).toBe(false);
    expect(model.variables.get('conv1.weight')!.trainable).toBe(true);
    const values = await readParams(model);

    // kaiming_normal fan_out: std √(2 / (k²·Cout)); layer3 conv: 3·3·128.
    const conv = stats(values['layer3.0.conv2.weight']);
    expect(conv.std).toBeCloseTo(Math.sqrt(2 / (9 * 128)), 3);
    expect(Math.abs(conv.mean)).toBeLessThan(0.002);
    // nn.Linear default: uniform ±1/√fan_in for weight and bias.
    const bound = 1 / Math.sqrt(256);
    expect(stats(values['fc.weight']).maxAbs).toBeLessThanOrEqual(bound);
    expect(stats(values['fc.weight']).std).toBeCloseTo(bound / Math.sqrt(3), 2);
    expect(stats(values['fc.bias']).maxAbs).toBeLessThanOrEqual(bound);
    expect(Array.from(values['bn1.weight']).every((v) => v === 1)).toBe(true);
    expect(Array.from(values['bn1.bias']).every((v) => v === 0)).toBe(true);
    expect(Array.from(values['bn1.running_var']).every((v) => v === 1)).toBe(true);

    const same = createModel(spec, { seed: 11 });
    const other = createModel(spec, { seed: 12 });
    expect((await readParams(same))['conv1.weight']).toEqual(values['conv1.weight']);
    expect((await readParams(other))['conv1.weight']).not.toEqual(values['conv1.weight']);
    // A parameter's values do not depend on the others (adapters may be added later).
    const v2 = createModel(buildModelSpec({ model: 'resnet18', width: 0.5, resolution: 32, numClasses: 7, stem: 'cifar' }), { seed: 11 });
    expect((await readParams(v2))['layer3.0.conv2.weight']).toEqual(values['layer3.0.conv2.weight']);
    for (const m of [model, same, other, v2]) disposeModel(m);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('MobileNet linears: normal(0, 0.01), bias 0', async () => {
    const spec = buildModelSpec({ model: 'mobilenet_v3_small', width: 1, resolution: 32, numClasses: 10, stem: 'cifar' });
    const model = createModel(spec, { seed: 1 });
    const values = await readParams(model);
    expect(stats(values['classifier.0.weight']).std).toBeCloseTo(0.01, 3);
    expect(Array.from(values['classifier.3.bias']).every((v) => v === 0)).toBe(true);
    disposeModel(model);
  });

  it('assignParams validates names and sizes before assigning anything', async () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 8, numClasses: 2, stem: 'cifar' });
    const model = createModel(spec, { seed: 1 });
    const before = (await readParams(model))['classifier.1.bias'];
    expect(() => assignParams(model, { 'classifier.1.bias': [1, 2], nope: [1] })).toThrow(/unknown parameter nope/);
    expect(() => assignParams(model, { 'classifier.1.bias': [1, 2, 3] })).toThrow(/classifier.1.bias: 3 values for shape \[2\]/);
    expect((await readParams(model))['classifier.1.bias']).toEqual(before);
    disposeModel(model);
  });
});

describe('forward', () => {
  it('every model gives finite logits [N, classes] in both modes and frees its intermediates', async () => {
    for (const model of MODEL_IDS) {
      const spec = buildModelSpec({ model, width: 0.25, resolution: 16, numClasses: 7, stem: 'imagenet' });
      const m = createModel(spec, { seed: 2 });
      const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      for (const training of [true, false]) {
        const logits = forward(m, x, { training, dropoutSeed: 5 });
        expect(logits.shape).toEqual([2, 7]);
        expect(Array.from(await logits.data()).every(Number.isFinite)).toBe(true);
        logits.dispose();
        expect(tf.memory().numTensors).toBe(before);
      }
      expect(() => forward(m, tf.zeros([2, 8, 8, 3]) as tf.Tensor4D, { training: false })).toThrow(/the spec expects \[N, 16, 16, 3\]/);
      x.dispose();
      disposeModel(m);
    }
  });

  it('batch norm in training mode needs more than one value per channel (as torch)', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v3_small', width: 0.25, resolution: 8, numClasses: 2, stem: 'imagenet' });
    const m = createModel(spec, { seed: 2 });
    const x = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => forward(m, x, { training: true })).toThrow(/needs more than 1 value per channel/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeModel(m);
  });
});
