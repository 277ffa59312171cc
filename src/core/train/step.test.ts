import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import { SpecBuilder } from '../models/builder';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { createModel, disposeModel, readParams, type Model } from '../nn/model';
import { createOptimizer } from '../optim';
import { crossEntropy, evaluate, trainStep, type Batch } from './step';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomBatch(size: number, resolution: number, classes: number, seed: number): Batch {
  const rng = createRng(seed);
  const pixels = Float32Array.from({ length: size * resolution * resolution * 3 }, () => rng.uniform(-1, 1));
  return {
    x: tf.tensor4d(pixels, [size, resolution, resolution, 3]),
    y: tf.tensor1d(Array.from({ length: size }, () => rng.int(classes)), 'int32'),
  };
}

function trainableNames(model: Model): Set<string> {
  return new Set(Object.values(model.spec.params).filter((p) => p.trainable).map((p) => p.name));
}

describe('cross-entropy', () => {
  it('is the mean negative log-softmax of the labels, stable for large logits', async () => {
    const logits = tf.tensor2d([[1000, 0, -1000], [1, 2, 3]]);
    const labels = tf.tensor1d([1, 2], 'int32');
    const loss = crossEntropy(logits, labels);
    const expected = (1000 + (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3)) / 2;
    expect((await loss.data())[0]).toBeCloseTo(expected, 4);
    tf.dispose([logits, labels, loss]);
  });
});

describe('trainStep', () => {
  it('leaks no tensor: numTensors after 50 steps equals that after 1 (MobileNetV3-Small, SE, dropout, Adam)', async () => {
    const spec = buildModelSpec({ model: 'mobilenet_v3_small', width: 0.25, resolution: 8, numClasses: 3, stem: 'cifar' });
    const model = createModel(spec, { seed: 1 });
    const optimizer = createOptimizer({ id: 'adam', lr: 1e-3 }, model.variables);
    const batch = randomBatch(2, 8, 3, 2);
    const trainable = trainableNames(model);
    await trainStep(model, optimizer, batch, trainable);
    const afterOne = tf.memory().numTensors;
    for (let i = 1; i < 50; i++) await trainStep(model, optimizer, batch, trainable);
    expect(tf.memory().numTensors).toBe(afterOne);
    optimizer.dispose();
    disposeModel(model);
    tf.dispose([batch.x, batch.y]);
  });

  it('a tiny MobileNetV2 (width 0.25, 32×32, cifar stem, 10 classes, batch 2) learns with Adam', async () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar' });
    const model = createModel(spec, { seed: 4 });
    const optimizer = createOptimizer({ id: 'adam', lr: 1e-2 }, model.variables);
    const batch = randomBatch(2, 32, 10, 5);
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) losses.push(await trainStep(model, optimizer, batch, trainableNames(model)));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[0]).toBeGreaterThan(1.5); // about ln 10 at init
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
    optimizer.dispose();
    disposeModel(model);
    tf.dispose([batch.x, batch.y]);
  });

  it('a tiny ViT (width 0.25, depth 2, cifar stem, 16×16, batch 2) learns with Adam and leaks no tensor, full and LN+head', async () => {
    const spec = buildModelSpec({ model: 'vit_tiny', width: 0.25, depth: 2, resolution: 16, numClasses: 10, stem: 'cifar' });
    const batch = randomBatch(2, 16, 10, 6);
    const all = Object.values(spec.params);
    const sets = {
      fft: new Set(all.map((p) => p.name)),
      ln_head: new Set(all.filter((p) => p.role === 'ln_gamma' || p.role === 'ln_beta' || spec.classifier.some((id) => p.name.startsWith(`${id}.`))).map((p) => p.name)),
    };
    for (const [method, trainable] of Object.entries(sets)) {
      const model = createModel(spec, { seed: 4 });
      const optimizer = createOptimizer({ id: 'adam', lr: 1e-2 }, model.variables);
      const losses = [await trainStep(model, optimizer, batch, trainable)];
      const afterOne = tf.memory().numTensors;
      for (let i = 1; i < 8; i++) losses.push(await trainStep(model, optimizer, batch, trainable));
      expect(tf.memory().numTensors, method).toBe(afterOne);
      expect(losses.every(Number.isFinite), method).toBe(true);
      expect(losses[0], method).toBeGreaterThan(1.5); // about ln 10 at init
      expect(losses[losses.length - 1], `${method}: ${losses.join(', ')}`).toBeLessThan(0.5 * losses[0]);
      optimizer.dispose();
      disposeModel(model);
    }
    tf.dispose([batch.x, batch.y]);
  });

  describe('on a batch norm + linear model', () => {
    const spec: ModelSpec = (() => {
      const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: 2, numClasses: 2, stem: 'imagenet' });
      const bn = b.batchNorm('bn', b.input, { eps: 1e-5, momentum: 0.1 });
      const flat = b.flatten('flatten', bn);
      return b.build(b.linear('fc', flat, { outFeatures: 2, weightInit: { kind: 'normal', std: 0.1 }, biasInit: { kind: 'zeros' } }));
    })();

    it('updates running statistics as torch (momentum 0.1, unbiased variance), outside the gradient', async () => {
      const model = createModel(spec, { seed: 1 });
      const batch = randomBatch(3, 2, 2, 6);
      const optimizer = createOptimizer({ id: 'sgd', lr: 0.1 }, model.variables);
      await trainStep(model, optimizer, batch, new Set(['fc.weight']));
      const values = await batch.x.data();
      const params = await readParams(model);
      for (let c = 0; c < 3; c++) {
        const xs = Array.from(values).filter((_, i) => i % 3 === c);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const unbiased = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
        expect(params['bn.running_mean'][c]).toBeCloseTo(0.1 * mean, 6);
        expect(params['bn.running_var'][c]).toBeCloseTo(0.9 + 0.1 * unbiased, 6);
      }
      // Only the trainable set moved: BN's γ stays 1.
      expect(Array.from(params['bn.weight'])).toEqual([1, 1, 1]);
      optimizer.dispose();
      disposeModel(model);
      tf.dispose([batch.x, batch.y]);
    });

    it('rejects unknown and non-trainable names with a clear error', async () => {
      const model = createModel(spec, { seed: 1 });
      const batch = randomBatch(2, 2, 2, 7);
      const optimizer = createOptimizer({ id: 'sgd', lr: 0.1 }, model.variables);
      const before = tf.memory().numTensors;
      await expect(trainStep(model, optimizer, batch, new Set(['bn.running_mean']))).rejects.toThrow(/bn.running_mean is not trainable/);
      await expect(trainStep(model, optimizer, batch, new Set(['nope']))).rejects.toThrow(/nope is no parameter/);
      await expect(trainStep(model, optimizer, batch, new Set())).rejects.toThrow(/empty/);
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      disposeModel(model);
      tf.dispose([batch.x, batch.y]);
    });

    it('evaluate: accuracy and mean loss in eval mode, independent of the batch size', async () => {
      const model = createModel(spec, { seed: 2 });
      const { x, y } = randomBatch(5, 2, 2, 8);
      const whole = await evaluate(model, x, y);
      const inOnes = await evaluate(model, x, y, { batchSize: 1 });
      const [logits, loss] = tf.tidy(() => {
        const out = tf.add(tf.matMul(tf.reshape(tf.div(x, Math.sqrt(1 + 1e-5)), [5, -1]), model.variables.get('fc.weight')!), model.variables.get('fc.bias')!);
        return [tf.argMax(out, 1), crossEntropy(out as tf.Tensor2D, y)];
      });
      const predicted = await logits.data();
      const labels = await y.data();
      const accuracy = Array.from(predicted).filter((p, i) => p === labels[i]).length / 5;
      expect(whole.accuracy).toBeCloseTo(accuracy, 6);
      expect(whole.loss).toBeCloseTo((await loss.data())[0], 5);
      expect(inOnes.accuracy).toBeCloseTo(whole.accuracy, 6);
      expect(inOnes.loss).toBeCloseTo(whole.loss, 5);
      tf.dispose([logits, loss, x, y]);
      disposeModel(model);
    });
  });
});
