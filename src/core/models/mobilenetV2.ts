// torchvision.models.mobilenet_v2 (MobileNetV2: inverted residuals and linear bottlenecks), with the
// lab's options. Module paths, and so parameter names, are torchvision's.
import { makeDivisible, SpecBuilder, type BatchNormOptions } from './builder';
import type { InitSpec, ModelOptions, ModelSpec } from './spec';

/** [expand ratio t, output channels c, repeats n, first stride s], torchvision's table. */
export const INVERTED_RESIDUAL_SETTING: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export const FIRST_CHANNELS = 32;
export const LAST_CHANNELS = 1280;
export const DROPOUT = 0.2;
/** nn.BatchNorm2d defaults. */
const BATCH_NORM: BatchNormOptions = { eps: 1e-5, momentum: 0.1 };
/** torchvision's MobileNet init of nn.Linear: normal(0, 0.01), bias 0. */
export const MOBILENET_LINEAR_WEIGHT_INIT: InitSpec = { kind: 'normal', std: 0.01 };

export function buildMobileNetV2(options: ModelOptions): ModelSpec {
  const b = new SpecBuilder(options);
  const cifar = options.stem === 'cifar';
  const firstChannels = makeDivisible(FIRST_CHANNELS * options.width);
  const lastChannels = makeDivisible(LAST_CHANNELS * Math.max(1, options.width));

  let x = convBnRelu6(b, 'features.0', b.input, firstChannels, 3, cifar ? 1 : 2);
  let index = 1;
  INVERTED_RESIDUAL_SETTING.forEach(([expandRatio, channels, repeats, firstStride], stage) => {
    const outputChannels = makeDivisible(channels * options.width);
    // CIFAR variants keep 32×32 maps longer: stride-1 stem and a stride-1 second stage.
    const stageStride = cifar && stage === 1 ? 1 : firstStride;
    for (let i = 0; i < repeats; i++) {
      x = invertedResidual(b, `features.${index}`, x, outputChannels, i === 0 ? stageStride : 1, expandRatio);
      index++;
    }
  });
  x = convBnRelu6(b, `features.${index}`, x, lastChannels, 1, 1);

  x = b.globalAvgPool('avgpool', x);
  x = b.flatten('flatten', x);
  x = b.dropout('classifier.0', x, DROPOUT);
  x = b.linear('classifier.1', x, {
    outFeatures: options.numClasses,
    weightInit: MOBILENET_LINEAR_WEIGHT_INIT,
    biasInit: { kind: 'zeros' },
  });
  return b.build(x);
}

/** torchvision's Conv2dNormActivation(…, activation_layer=nn.ReLU6): ids `<id>.0`, `.1`, `.2`. */
function convBnRelu6(
  b: SpecBuilder,
  id: string,
  input: string,
  outChannels: number,
  kernel: number,
  stride: number,
  depthwise = false,
): string {
  const conv = b.conv(`${id}.0`, input, { outChannels, kernel, stride, groups: depthwise ? 'depthwise' : 1 });
  const bn = b.batchNorm(`${id}.1`, conv, BATCH_NORM);
  return b.activation(`${id}.2`, bn, 'relu6');
}

function invertedResidual(
  b: SpecBuilder,
  id: string,
  input: string,
  outChannels: number,
  stride: number,
  expandRatio: number,
): string {
  const inChannels = b.channelsOf(input);
  const hidden = Math.round(inChannels * expandRatio);
  let layer = 0;
  let x = input;
  if (expandRatio !== 1) x = convBnRelu6(b, `${id}.conv.${layer++}`, x, hidden, 1, 1);
  x = convBnRelu6(b, `${id}.conv.${layer++}`, x, hidden, 3, stride, true);
  x = b.conv(`${id}.conv.${layer++}`, x, { outChannels, kernel: 1 });
  x = b.batchNorm(`${id}.conv.${layer}`, x, BATCH_NORM);
  return stride === 1 && inChannels === outChannels ? b.add(`${id}.add`, input, x) : x;
}
