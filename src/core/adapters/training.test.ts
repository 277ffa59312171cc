// A short run of every method on a seeded stand-in task: a tiny MobileNetV2-like net (stem conv, one
// inverted residual block with a depthwise conv, head conv, classifier) on random 8×8 images
// labelled by a fixed random linear teacher. Each method must lower the loss. (A real MobileNetV2
// at width 0.25 takes ~0.35 s per step on the pure-JS CPU backend, too slow for 5 × 13 steps here.)
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { METHOD_IDS } from '../ids';
import { SpecBuilder } from '../models/builder';
import type { ModelSpec } from '../models/spec';
import { createModel, disposeModel } from '../nn/model';
import { gaussianMatrix } from '../optim/linalg';
import { trainStep, type Batch } from '../train/step';
import { initializeDoraMagnitudes, methodOptions, METHODS } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const RESOLUTION = 8;
const CLASSES = 4;
const EXAMPLES = 16;
const STEPS = 12;

function teacherTask(): Batch {
  return tf.tidy(() => {
    const x = tf.tensor4d(gaussianMatrix(EXAMPLES, RESOLUTION * RESOLUTION * 3, 11), [EXAMPLES, RESOLUTION, RESOLUTION, 3]);
    // Labels: argmax of a fixed linear map of the channel means (learnable by a small CNN).
    const teacher = tf.tensor2d(gaussianMatrix(3, CLASSES, 12), [3, CLASSES]);
    const y = tf.argMax(tf.matMul(tf.mean(x, [1, 2]), teacher), 1).toFloat() as tf.Tensor1D;
    return { x, y };
  });
}

function tinyMobileNet(): ModelSpec {
  const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: RESOLUTION, numClasses: CLASSES, stem: 'cifar' });
  const bn = { eps: 1e-5, momentum: 0.1 };
  const convBn = (id: string, input: string, outChannels: number, kernel: number, depthwise = false, activation = true) => {
    let x = b.conv(`${id}.0`, input, { outChannels, kernel, groups: depthwise ? 'depthwise' : 1 });
    x = b.batchNorm(`${id}.1`, x, bn);
    return activation ? b.activation(`${id}.2`, x, 'relu6') : x;
  };
  const stem = convBn('features.0', b.input, 8, 3);
  let x = convBn('features.1.conv.0', stem, 16, 1);
  x = convBn('features.1.conv.1', x, 16, 3, true);
  x = convBn('features.1.conv.2', x, 8, 1, false, false);
  x = b.add('features.1.add', stem, x);
  x = convBn('features.2', x, 16, 1);
  x = b.flatten('flatten', b.globalAvgPool('avgpool', x));
  x = b.linear('classifier.1', x, { outFeatures: CLASSES, weightInit: { kind: 'normal', std: 0.01 }, biasInit: { kind: 'zeros' } });
  return b.build(x);
}

describe('every method lowers the training loss on a stand-in task', () => {
  const base = tinyMobileNet();
  for (const id of METHOD_IDS) {
    it(id, async () => {
      const method = METHODS[id];
      const options = methodOptions({ galore: { rank: 4, updateProjGap: 5, scale: 1 } });
      const spec = method.apply(base, options);
      const model = createModel(spec, { seed: 1 });
      if (id === 'dora') initializeDoraMagnitudes(model);
      const optimizer = method.createOptimizer(model, { lr: 0.05 }, options);
      const trainable = new Set(Object.values(spec.params).filter((p) => p.trainable).map((p) => p.name));
      const batch = teacherTask();
      const losses: number[] = [];
      for (let i = 0; i < STEPS; i++) losses.push(await trainStep(model, optimizer, batch, trainable));
      const tensorsAfterRun = tf.memory().numTensors;
      losses.push(await trainStep(model, optimizer, batch, trainable));
      expect(tf.memory().numTensors).toBe(tensorsAfterRun);
      const first = losses[0];
      const lastThree = losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
      expect(Number.isFinite(lastThree)).toBe(true);
      expect(lastThree, `${id}: ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.95 * first);
      optimizer.dispose();
      disposeModel(model);
      tf.dispose([batch.x, batch.y]);
    });
  }
});
