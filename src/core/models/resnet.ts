// torchvision.models.resnet18 (BasicBlock ×[2, 2, 2, 2]), with the lab's options. Module paths, and
// so parameter names, are torchvision's.
import { makeDivisible, SpecBuilder, type BatchNormOptions } from './builder';
import type { ModelOptions, ModelSpec } from './spec';

const STAGE_WIDTHS = [64, 128, 256, 512] as const;
const BLOCKS_PER_STAGE = [2, 2, 2, 2] as const;
/** nn.BatchNorm2d defaults. */
const BATCH_NORM: BatchNormOptions = { eps: 1e-5, momentum: 0.1 };

export function buildResNet18(options: ModelOptions): ModelSpec {
  const b = new SpecBuilder(options);
  // torchvision's ResNet has no width multiplier; the lab scales the base widths as MobileNets do.
  const widths = STAGE_WIDTHS.map((w) => makeDivisible(w * options.width));

  let x: string;
  if (options.stem === 'cifar') {
    // The common CIFAR ResNet stem: 3×3 stride-1 conv, no max pool (32×32 maps into layer1).
    x = b.conv('conv1', b.input, { outChannels: widths[0], kernel: 3, stride: 1, padding: 1 });
    x = b.batchNorm('bn1', x, BATCH_NORM);
    x = b.activation('relu', x, 'relu');
  } else {
    x = b.conv('conv1', b.input, { outChannels: widths[0], kernel: 7, stride: 2, padding: 3 });
    x = b.batchNorm('bn1', x, BATCH_NORM);
    x = b.activation('relu', x, 'relu');
    x = b.maxPool('maxpool', x, 3, 2, 1);
  }
  widths.forEach((planes, stage) => {
    for (let i = 0; i < BLOCKS_PER_STAGE[stage]; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      x = basicBlock(b, `layer${stage + 1}.${i}`, x, planes, stride);
    }
  });
  x = b.globalAvgPool('avgpool', x);
  x = b.flatten('flatten', x);
  // nn.Linear's default init (ResNet leaves fc as constructed): kaiming_uniform(a=√5), i.e.
  // bound 1/√fan_in, and bias uniform(±1/√fan_in).
  const inFeatures = widths[widths.length - 1];
  x = b.linear('fc', x, {
    outFeatures: options.numClasses,
    weightInit: { kind: 'kaiming_uniform', a: Math.sqrt(5) },
    biasInit: { kind: 'uniform', bound: 1 / Math.sqrt(inFeatures) },
  });
  return b.build(x);
}

function basicBlock(b: SpecBuilder, id: string, input: string, planes: number, stride: number): string {
  const inPlanes = b.channelsOf(input);
  let x = b.conv(`${id}.conv1`, input, { outChannels: planes, kernel: 3, stride, padding: 1 });
  x = b.batchNorm(`${id}.bn1`, x, BATCH_NORM);
  x = b.activation(`${id}.relu`, x, 'relu');
  x = b.conv(`${id}.conv2`, x, { outChannels: planes, kernel: 3, stride: 1, padding: 1 });
  x = b.batchNorm(`${id}.bn2`, x, BATCH_NORM);
  let identity = input;
  if (stride !== 1 || inPlanes !== planes) {
    identity = b.conv(`${id}.downsample.0`, input, { outChannels: planes, kernel: 1, stride, padding: 0 });
    identity = b.batchNorm(`${id}.downsample.1`, identity, BATCH_NORM);
  }
  x = b.add(`${id}.add`, x, identity);
  // torchvision applies the same `relu` module again after the sum; node ids must be unique.
  return b.activation(`${id}.relu_after_add`, x, 'relu');
}
