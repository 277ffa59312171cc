import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { countParams } from '../models/count';
import { buildModelSpec } from '../models/registry';
import type { ModelOptions } from '../models/spec';
import { buildTfLayersMobileNetV2, countTfLayersParams, createTfLayersTrainer } from './tfLayersMobilenetV2';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(() => {
  tf.disposeVariables();
});

/** Elements of the BN running statistics of a lab spec (torch buffers, Keras non-trainable weights). */
function runningStatElements(options: ModelOptions): number {
  return Object.values(buildModelSpec(options).params)
    .filter((p) => p.role === 'bn_running_mean' || p.role === 'bn_running_var')
    .reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

describe('tf.layers MobileNetV2 baseline', () => {
  const configurations: ModelOptions[] = [
    { model: 'mobilenet_v2', width: 1, resolution: 224, numClasses: 1000, stem: 'imagenet' },
    { model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' },
    { model: 'mobilenet_v2', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar' },
  ];
  for (const options of configurations) {
    it(`has the lab's parameter count at width ${options.width}, ${options.resolution}², ${options.stem} stem`, () => {
      const model = buildTfLayersMobileNetV2(options);
      try {
        expect(countTfLayersParams(model)).toEqual({
          trainable: countParams(buildModelSpec(options)).total,
          nonTrainable: runningStatElements(options),
        });
      } finally {
        model.dispose();
      }
    });
  }

  it('torchvision width 1.0 at 224² has 3,504,872 parameters', () => {
    const model = buildTfLayersMobileNetV2({ width: 1, resolution: 224, numClasses: 1000, stem: 'imagenet' });
    try {
      expect(countTfLayersParams(model).trainable).toBe(3_504_872);
    } finally {
      model.dispose();
    }
  });

  it('outputs the spatial sizes of torch (symmetric padding at stride 2)', () => {
    // 33² imagenet stem: torch gives 17 → 9 → 5 → 3 → 2 after each stride-2 layer; tf 'same' agrees
    // on sizes but pads on the other side, so the explicit padding path is what is exercised here.
    const model = buildTfLayersMobileNetV2({ width: 0.25, resolution: 33, numClasses: 10, stem: 'imagenet' });
    try {
      const lastMap = model.layers.filter((layer) => layer.getClassName() === 'ReLU').at(-1)!;
      const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 33, numClasses: 10, stem: 'imagenet' });
      const specLastMap = spec.nodes.filter((node) => node.op === 'activation').at(-1)!;
      expect((lastMap.outputShape as number[]).slice(1)).toEqual(specLastMap.outShape);
    } finally {
      model.dispose();
    }
  });

  it('trains with minimize: the loss is finite, weights move, no tensor leaks across steps', async () => {
    const options = { width: 0.25, resolution: 16, numClasses: 4, stem: 'cifar' as const };
    const trainer = createTfLayersTrainer(buildTfLayersMobileNetV2(options, 7));
    const images = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 4) as tf.Tensor2D;
    const headBefore = await trainer.model.layers.at(-1)!.getWeights()[0].data();
    const runStep = async () => {
      const loss = trainer.step(images, labels);
      const [value] = await loss.data();
      loss.dispose();
      return value;
    };
    const first = await runStep();
    const tensorsAfterFirst = tf.memory().numTensors;
    await runStep();
    await runStep();
    expect(Number.isFinite(first)).toBe(true);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    const headAfter = await trainer.model.layers.at(-1)!.getWeights()[0].data();
    expect(headAfter).not.toEqual(headBefore);
    trainer.dispose();
    images.dispose();
    labels.dispose();
  });
});
