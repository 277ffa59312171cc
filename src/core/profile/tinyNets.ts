// Tiny hand-written specs for the profiler's tests, small enough to count every byte and FLOP by
// hand: conv(3×3, 2→3) → BN → ReLU → global pool → flatten → linear(3→2), on 4×4×2 inputs.
import type { InitSpec, ModelSpec, NodeSpec, ParamRole, ParamSpec } from '../models/spec';

const INIT: InitSpec = { kind: 'zeros' };

function param(name: string, shape: number[], role: ParamRole, trainable: boolean): ParamSpec {
  return { name, shape, role, trainable, init: INIT, fanIn: 1, fanOut: 1 };
}

/** Which parameters train: every one ('all'), the classifier only, or BN affine only. */
export type TinyTrainable = 'all' | 'linear' | 'bn';

export function tinyConvBnReluLinear(trainable: TinyTrainable): ModelSpec {
  const convTrains = trainable === 'all';
  const bnTrains = trainable === 'all' || trainable === 'bn';
  const linearTrains = trainable === 'all' || trainable === 'linear';
  const nodes: NodeSpec[] = [
    { op: 'input', id: 'input', inputs: [], outShape: [4, 4, 2] },
    {
      op: 'conv2d',
      id: 'conv',
      inputs: ['input'],
      outShape: [4, 4, 3],
      inChannels: 2,
      outChannels: 3,
      kernel: 3,
      stride: 1,
      padding: 1,
      groups: 1,
      weight: 'conv.weight',
    },
    {
      op: 'batchnorm',
      id: 'bn',
      inputs: ['conv'],
      outShape: [4, 4, 3],
      channels: 3,
      gamma: 'bn.weight',
      beta: 'bn.bias',
      runningMean: 'bn.running_mean',
      runningVar: 'bn.running_var',
      eps: 1e-5,
      momentum: 0.1,
    },
    { op: 'activation', id: 'relu', inputs: ['bn'], outShape: [4, 4, 3], fn: 'relu' },
    { op: 'global_avg_pool', id: 'pool', inputs: ['relu'], outShape: [1, 1, 3] },
    { op: 'flatten', id: 'flatten', inputs: ['pool'], outShape: [3] },
    { op: 'linear', id: 'fc', inputs: ['flatten'], outShape: [2], inFeatures: 3, outFeatures: 2, weight: 'fc.weight', bias: 'fc.bias' },
  ];
  const params = [
    param('conv.weight', [3, 3, 2, 3], 'conv_weight', convTrains),
    param('bn.weight', [3], 'bn_gamma', bnTrains),
    param('bn.bias', [3], 'bn_beta', bnTrains),
    param('bn.running_mean', [3], 'bn_running_mean', false),
    param('bn.running_var', [3], 'bn_running_var', false),
    param('fc.weight', [3, 2], 'linear_weight', linearTrains),
    param('fc.bias', [2], 'linear_bias', linearTrains),
  ];
  return {
    options: { model: 'mobilenet_v2', width: 1, resolution: 4, numClasses: 2, stem: 'cifar' },
    nodes,
    params: Object.fromEntries(params.map((p) => [p.name, p])),
    output: 'fc',
    classifier: ['fc'],
  };
}

/**
 * The tiny net with LoRA on its conv, as src/core/adapters writes it: the base conv frozen, A a 3×3
 * conv 2→r reading the same input, B a 1×1 conv r→3, and y = conv(x) + (α/r)·B(A(x)); BN frozen,
 * the classifier trainable.
 */
export function tinyLoraConv(rank: number, alpha: number): ModelSpec {
  const spec = tinyConvBnReluLinear('linear');
  const [input, conv, ...rest] = spec.nodes;
  const adapted: NodeSpec[] = [
    input,
    conv,
    {
      op: 'conv2d',
      id: 'conv.lora_A',
      adapterOf: 'conv',
      inputs: ['input'],
      outShape: [4, 4, rank],
      inChannels: 2,
      outChannels: rank,
      kernel: 3,
      stride: 1,
      padding: 1,
      groups: 1,
      weight: 'conv.lora_A.weight',
    },
    {
      op: 'conv2d',
      id: 'conv.lora_B',
      adapterOf: 'conv',
      inputs: ['conv.lora_A'],
      outShape: [4, 4, 3],
      inChannels: rank,
      outChannels: 3,
      kernel: 1,
      stride: 1,
      padding: 0,
      groups: 1,
      weight: 'conv.lora_B.weight',
    },
    { op: 'lora_add', id: 'conv.lora', adapterOf: 'conv', inputs: ['conv', 'conv.lora_B'], outShape: [4, 4, 3], scaling: alpha / rank },
    ...rest.map((node) => (node.id === 'bn' ? { ...node, inputs: ['conv.lora'] } : node)),
  ];
  return {
    ...spec,
    nodes: adapted,
    params: {
      ...spec.params,
      'conv.lora_A.weight': param('conv.lora_A.weight', [3, 3, 2, rank], 'adapter_a', true),
      'conv.lora_B.weight': param('conv.lora_B.weight', [1, 1, rank, 3], 'adapter_b', true),
    },
  };
}

/** A depthwise 3×3 conv (C channels, H×H map) feeding a 1×1 conv to 2 channels, pool and linear:
 * for the depthwise FLOP rule and PyTorch's grouped weight-gradient convention. */
export function tinyDepthwise(channels: number, side: number): ModelSpec {
  const nodes: NodeSpec[] = [
    { op: 'input', id: 'input', inputs: [], outShape: [side, side, channels] },
    {
      op: 'conv2d',
      id: 'dw',
      inputs: ['input'],
      outShape: [side, side, channels],
      inChannels: channels,
      outChannels: channels,
      kernel: 3,
      stride: 1,
      padding: 1,
      groups: channels,
      weight: 'dw.weight',
    },
    {
      op: 'conv2d',
      id: 'pw',
      inputs: ['dw'],
      outShape: [side, side, 2],
      inChannels: channels,
      outChannels: 2,
      kernel: 1,
      stride: 1,
      padding: 0,
      groups: 1,
      weight: 'pw.weight',
    },
    { op: 'global_avg_pool', id: 'pool', inputs: ['pw'], outShape: [1, 1, 2] },
    { op: 'flatten', id: 'flatten', inputs: ['pool'], outShape: [2] },
    { op: 'linear', id: 'fc', inputs: ['flatten'], outShape: [2], inFeatures: 2, outFeatures: 2, weight: 'fc.weight' },
  ];
  const params = [
    param('dw.weight', [3, 3, channels, 1], 'conv_weight', true),
    param('pw.weight', [1, 1, channels, 2], 'conv_weight', true),
    param('fc.weight', [2, 2], 'linear_weight', true),
  ];
  return {
    options: { model: 'mobilenet_v2', width: 1, resolution: side, numClasses: 2, stem: 'cifar' },
    nodes,
    params: Object.fromEntries(params.map((p) => [p.name, p])),
    output: 'fc',
    classifier: ['fc'],
  };
}
