// torchvision.models.mobilenet_v3_small / mobilenet_v3_large (Searching for MobileNetV3), with the
// lab's options. Module paths, and so parameter names, are torchvision's.
import { makeDivisible, SpecBuilder, type BatchNormOptions } from './builder';
import { MOBILENET_LINEAR_WEIGHT_INIT } from './mobilenetV2';
import type { ActivationFn, ModelOptions, ModelSpec } from './spec';

/** torchvision's InvertedResidualConfig before width scaling. */
interface BlockConfig {
  inChannels: number;
  kernel: number;
  expandedChannels: number;
  outChannels: number;
  squeezeExcite: boolean;
  activation: ActivationFn;
  stride: number;
}

function block(
  inChannels: number,
  kernel: number,
  expandedChannels: number,
  outChannels: number,
  squeezeExcite: boolean,
  activation: 'RE' | 'HS',
  stride: number,
): BlockConfig {
  return {
    inChannels,
    kernel,
    expandedChannels,
    outChannels,
    squeezeExcite,
    activation: activation === 'HS' ? 'hardswish' : 'relu',
    stride,
  };
}

// torchvision's `_mobilenet_v3_conf` (reduced_tail=False, dilated=False).
const LARGE: readonly BlockConfig[] = [
  block(16, 3, 16, 16, false, 'RE', 1),
  block(16, 3, 64, 24, false, 'RE', 2),
  block(24, 3, 72, 24, false, 'RE', 1),
  block(24, 5, 72, 40, true, 'RE', 2),
  block(40, 5, 120, 40, true, 'RE', 1),
  block(40, 5, 120, 40, true, 'RE', 1),
  block(40, 3, 240, 80, false, 'HS', 2),
  block(80, 3, 200, 80, false, 'HS', 1),
  block(80, 3, 184, 80, false, 'HS', 1),
  block(80, 3, 184, 80, false, 'HS', 1),
  block(80, 3, 480, 112, true, 'HS', 1),
  block(112, 3, 672, 112, true, 'HS', 1),
  block(112, 5, 672, 160, true, 'HS', 2),
  block(160, 5, 960, 160, true, 'HS', 1),
  block(160, 5, 960, 160, true, 'HS', 1),
];
const LARGE_LAST_CHANNELS = 1280;

const SMALL: readonly BlockConfig[] = [
  block(16, 3, 16, 16, true, 'RE', 2),
  block(16, 3, 72, 24, false, 'RE', 2),
  block(24, 3, 88, 24, false, 'RE', 1),
  block(24, 5, 96, 40, true, 'HS', 2),
  block(40, 5, 240, 40, true, 'HS', 1),
  block(40, 5, 240, 40, true, 'HS', 1),
  block(40, 5, 120, 48, true, 'HS', 1),
  block(48, 5, 144, 48, true, 'HS', 1),
  block(48, 5, 288, 96, true, 'HS', 2),
  block(96, 5, 576, 96, true, 'HS', 1),
  block(96, 5, 576, 96, true, 'HS', 1),
];
const SMALL_LAST_CHANNELS = 1024;

const DROPOUT = 0.2;
/** MobileNetV3 uses partial(nn.BatchNorm2d, eps=0.001, momentum=0.01). */
const BATCH_NORM: BatchNormOptions = { eps: 0.001, momentum: 0.01 };

export function buildMobileNetV3Small(options: ModelOptions): ModelSpec {
  return buildMobileNetV3(options, SMALL, SMALL_LAST_CHANNELS);
}

export function buildMobileNetV3Large(options: ModelOptions): ModelSpec {
  return buildMobileNetV3(options, LARGE, LARGE_LAST_CHANNELS);
}

function buildMobileNetV3(options: ModelOptions, setting: readonly BlockConfig[], lastChannels: number): ModelSpec {
  const b = new SpecBuilder(options);
  const adjust = (channels: number) => makeDivisible(channels * options.width);

  const firstChannels = adjust(setting[0].inChannels);
  let x = convBnAct(b, 'features.0', b.input, firstChannels, 3, options.stem === 'cifar' ? 1 : 2, 'hardswish');
  setting.forEach((config, i) => {
    x = invertedResidual(b, `features.${i + 1}`, x, {
      ...config,
      inChannels: adjust(config.inChannels),
      expandedChannels: adjust(config.expandedChannels),
      outChannels: adjust(config.outChannels),
    });
  });
  const lastConvChannels = 6 * b.channelsOf(x);
  x = convBnAct(b, `features.${setting.length + 1}`, x, lastConvChannels, 1, 1, 'hardswish');

  x = b.globalAvgPool('avgpool', x);
  x = b.flatten('flatten', x);
  const linearInit = { weightInit: MOBILENET_LINEAR_WEIGHT_INIT, biasInit: { kind: 'zeros' } } as const;
  x = b.linear('classifier.0', x, { outFeatures: adjust(lastChannels), ...linearInit });
  x = b.activation('classifier.1', x, 'hardswish');
  x = b.dropout('classifier.2', x, DROPOUT);
  x = b.linear('classifier.3', x, { outFeatures: options.numClasses, ...linearInit });
  return b.build(x);
}

/** torchvision's Conv2dNormActivation: ids `<id>.0` (conv), `.1` (BN), `.2` (activation if any). */
function convBnAct(
  b: SpecBuilder,
  id: string,
  input: string,
  outChannels: number,
  kernel: number,
  stride: number,
  activation: ActivationFn | null,
  depthwise = false,
): string {
  const conv = b.conv(`${id}.0`, input, { outChannels, kernel, stride, groups: depthwise ? 'depthwise' : 1 });
  const bn = b.batchNorm(`${id}.1`, conv, BATCH_NORM);
  return activation ? b.activation(`${id}.2`, bn, activation) : bn;
}

function invertedResidual(b: SpecBuilder, id: string, input: string, config: BlockConfig): string {
  const { inChannels, expandedChannels, outChannels, kernel, stride, activation } = config;
  let layer = 0;
  let x = input;
  if (expandedChannels !== inChannels) {
    x = convBnAct(b, `${id}.block.${layer++}`, x, expandedChannels, 1, 1, activation);
  }
  x = convBnAct(b, `${id}.block.${layer++}`, x, expandedChannels, kernel, stride, activation, true);
  if (config.squeezeExcite) {
    x = squeezeExcitation(b, `${id}.block.${layer++}`, x, makeDivisible(Math.floor(expandedChannels / 4), 8));
  }
  x = convBnAct(b, `${id}.block.${layer}`, x, outChannels, 1, 1, null);
  return stride === 1 && inChannels === outChannels ? b.add(`${id}.add`, input, x) : x;
}

/** torchvision.ops.SqueezeExcitation(activation=ReLU, scale_activation=Hardsigmoid). */
function squeezeExcitation(b: SpecBuilder, id: string, input: string, squeezeChannels: number): string {
  const channels = b.channelsOf(input);
  let scale = b.globalAvgPool(`${id}.avgpool`, input);
  scale = b.conv(`${id}.fc1`, scale, { outChannels: squeezeChannels, kernel: 1, bias: true });
  scale = b.activation(`${id}.activation`, scale, 'relu');
  scale = b.conv(`${id}.fc2`, scale, { outChannels: channels, kernel: 1, bias: true });
  scale = b.activation(`${id}.scale_activation`, scale, 'hardsigmoid');
  return b.scaleChannels(id, input, scale);
}
