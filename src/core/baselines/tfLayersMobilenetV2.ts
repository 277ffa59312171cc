// The benchmark's "naive" peer baseline: torchvision's MobileNetV2 written with `tf.layers`, trained
// the way a tfjs user would (Keras layers, batch norm differentiated by autodiff, Adam through
// `optimizer.minimize`). Same architecture, options and parameter count as the lab's mobilenet_v2
// (src/core/models/mobilenetV2.ts), so the bench compares step time and peak memory on equal terms.
import * as tf from '@tensorflow/tfjs';

import { makeDivisible } from '../models/builder';
// The architecture table lives once, with the lab's own builder.
import { DROPOUT, FIRST_CHANNELS, INVERTED_RESIDUAL_SETTING, LAST_CHANNELS } from '../models/mobilenetV2';
import type { ModelOptions } from '../models/spec';

/** torch's BatchNorm2d momentum 0.1 is Keras's 0.9 (Keras weighs the old running value). */
const KERAS_BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;

export type TfLayersMobileNetV2Options = Omit<ModelOptions, 'model'>;

/** Builds the tf.layers MobileNetV2 (NHWC input [resolution, resolution, 3], logits out). */
export function buildTfLayersMobileNetV2(options: TfLayersMobileNetV2Options, seed = 0): tf.LayersModel {
  let layerSeed = seed;
  // kaiming_normal_(mode='fan_out') as torchvision; each layer its own seed so the build is reproducible.
  const convInit = () => tf.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: layerSeed++ });
  const cifar = options.stem === 'cifar';

  /** Conv (dense or depthwise) with torch's symmetric padding (k − 1) / 2, no bias. */
  const conv = (x: tf.SymbolicTensor, outChannels: number, kernel: number, stride: number, depthwise: boolean) => {
    const padding = (kernel - 1) / 2;
    // tf 'same' pads asymmetrically at stride 2; torch pads both sides: pad explicitly, then 'valid'.
    let input = x;
    if (stride > 1 && padding > 0) input = tf.layers.zeroPadding2d({ padding }).apply(x) as tf.SymbolicTensor;
    const convPadding = stride > 1 ? 'valid' : 'same';
    const layer = depthwise
      ? tf.layers.depthwiseConv2d({ kernelSize: kernel, strides: stride, padding: convPadding, useBias: false, depthwiseInitializer: convInit() })
      : tf.layers.conv2d({ filters: outChannels, kernelSize: kernel, strides: stride, padding: convPadding, useBias: false, kernelInitializer: convInit() });
    return layer.apply(input) as tf.SymbolicTensor;
  };
  const batchNorm = (x: tf.SymbolicTensor) =>
    tf.layers.batchNormalization({ momentum: KERAS_BN_MOMENTUM, epsilon: BN_EPSILON }).apply(x) as tf.SymbolicTensor;
  const relu6 = (x: tf.SymbolicTensor) => tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  const convBnRelu6 = (x: tf.SymbolicTensor, outChannels: number, kernel: number, stride: number, depthwise = false) =>
    relu6(batchNorm(conv(x, outChannels, kernel, stride, depthwise)));
  const channelsOf = (x: tf.SymbolicTensor) => x.shape[x.shape.length - 1] as number;

  const input = tf.input({ shape: [options.resolution, options.resolution, 3] });
  let x = convBnRelu6(input, makeDivisible(FIRST_CHANNELS * options.width), 3, cifar ? 1 : 2);
  INVERTED_RESIDUAL_SETTING.forEach(([expandRatio, channels, repeats, firstStride], stage) => {
    const outChannels = makeDivisible(channels * options.width);
    // CIFAR variants: stride-1 stem and a stride-1 second stage, as the lab's `cifar` stem.
    const stageStride = cifar && stage === 1 ? 1 : firstStride;
    for (let i = 0; i < repeats; i++) {
      const stride = i === 0 ? stageStride : 1;
      const inChannels = channelsOf(x);
      const hidden = Math.round(inChannels * expandRatio);
      let y = x;
      if (expandRatio !== 1) y = convBnRelu6(y, hidden, 1, 1);
      y = convBnRelu6(y, hidden, 3, stride, true);
      y = batchNorm(conv(y, outChannels, 1, 1, false));
      x = stride === 1 && inChannels === outChannels ? (tf.layers.add().apply([x, y]) as tf.SymbolicTensor) : y;
    }
  });
  x = convBnRelu6(x, makeDivisible(LAST_CHANNELS * Math.max(1, options.width)), 1, 1);
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: DROPOUT, seed: layerSeed++ }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({
      units: options.numClasses,
      kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: layerSeed++ }),
      biasInitializer: 'zeros',
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

export interface TfLayersParamCount {
  /** Elements of trainable weights (torch's `parameters()`). */
  trainable: number;
  /** Elements of non-trainable weights (BN moving mean and variance: torch's buffers). */
  nonTrainable: number;
}

export function countTfLayersParams(model: tf.LayersModel): TfLayersParamCount {
  const size = (weights: tf.LayerVariable[]) =>
    weights.reduce((sum, weight) => sum + weight.shape.reduce((product: number, dim) => product * (dim ?? 1), 1), 0);
  return { trainable: size(model.trainableWeights), nonTrainable: size(model.nonTrainableWeights) };
}

export interface TfLayersTrainer {
  readonly model: tf.LayersModel;
  /** One training step as a tfjs user writes it; returns the mean cross-entropy (caller disposes). */
  step(images: tf.Tensor4D, oneHotLabels: tf.Tensor2D): tf.Scalar;
  /** Disposes the model's weights and Adam's moments. */
  dispose(): void;
}

/** Adam (tfjs defaults β = 0.9, 0.999) set as the model's optimizer; steps via `minimize`. */
export function createTfLayersTrainer(model: tf.LayersModel, learningRate = 1e-3): TfLayersTrainer {
  const optimizer = tf.train.adam(learningRate);
  model.optimizer = optimizer;
  // Only this model's weights: other variables alive in the page must not be trained.
  const trainableVariables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  return {
    model,
    step(images, oneHotLabels) {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(oneHotLabels, model.apply(images, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
        trainableVariables,
      );
      if (!loss) throw new Error('tf.layers baseline: minimize returned no loss');
      return loss;
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}
