// Conv, depthwise conv, linear and the shape-only ops (residual add, global average pool, flatten)
// with hand-written backward passes that keep only what the wanted gradients read:
//   conv/linear  x when the weight's gradient is wanted, the weight when the input's is
//                (a frozen conv inside the gradient region keeps no activation at all);
//   add, pool, flatten  nothing (their backward needs shapes only; tfjs's own keep their inputs).
// Which gradients are wanted comes from the gradient plan (gradientPlan.ts): a gradient that is not
// wanted is neither computed nor paid for in saved tensors.
// A quantized frozen weight (quantized.ts) is dequantized for the forward and freed with the layer;
// for the input gradient the layer saves the packed codes and scales (parameters, alive anyway),
// never a float32 copy, and dequantizes them again in its backward.
import * as tf from '@tensorflow/tfjs';
import type { Conv2dNode } from '../models/spec';
import { addBias, channelSum, conv2dDirect, depthwiseConvDirect, depthwiseFilterGrad, depthwiseInputGrad, dequantize, matMul2d, spatialMean } from '../kernels/fused';
import type { RecomputableInput } from './batchnorm';
import { customOp } from './customOp';
import type { QuantizedParam } from './quantized';

/** A conv's or linear layer's weight: a float32 tensor, or a frozen weight stored quantized. */
export type LayerWeight = tf.Tensor | QuantizedParam;

/** The layer's weight as float32 for its forward (a dequantized one lives until the layer's tidy
 * ends), what to save for dX, and how to get dX's weight back from what was saved. */
function weightForLayer(weight: LayerWeight, wanted: LayerGradients) {
  if (weight instanceof tf.Tensor) {
    return { value: weight, toSave: [weight], fromSaved: (saved: tf.Tensor[]) => saved[0] };
  }
  if (wanted.weight) throw new Error('forward: a quantized weight is frozen; its gradient cannot be wanted');
  const { codes, scales, format, shape } = weight;
  return {
    value: dequantize(codes as tf.Tensor1D, scales as tf.Tensor1D, format, shape),
    toSave: [codes, scales],
    fromSaved: (saved: tf.Tensor[]) => dequantize(saved[0] as tf.Tensor1D, saved[1] as tf.Tensor1D, format, shape),
  };
}

/** Which of a layer's gradients are wanted; `bias` is ignored for a layer without one. */
export interface LayerGradients {
  input: boolean;
  weight: boolean;
  bias: boolean;
}

type ConvKind = 'pointwise' | 'dense' | 'depthwise';

function convKind(node: Conv2dNode): ConvKind {
  if (node.groups === 1) return node.kernel === 1 && node.stride === 1 && node.padding === 0 ? 'pointwise' : 'dense';
  if (node.groups === node.inChannels && node.outChannels === node.inChannels) return 'depthwise';
  throw new Error(`forward: conv ${node.id} has groups = ${node.groups}; only dense and depthwise convs are supported`);
}

/** What a conv or linear layer saves for its weight gradient: its input x, or (`recomputable`, an
 * activation its batch norm applied) what recomputes x in the backward (nn/batchnorm.ts); nothing
 * when the weight's gradient is not wanted. `fromSaved` reads x back from the saved tensors' head. */
function savedInput(x: tf.Tensor, wanted: LayerGradients, recomputable?: RecomputableInput): { toSave: tf.Tensor[]; fromSaved(saved: tf.Tensor[]): tf.Tensor } {
  if (!wanted.weight) {
    return {
      toSave: [],
      fromSaved: () => {
        throw new Error('a layer whose weight gradient is not wanted saves no input');
      },
    };
  }
  if (!recomputable) return { toSave: [x], fromSaved: (saved) => saved[0] };
  const count = recomputable.tensors.length;
  return { toSave: recomputable.tensors, fromSaved: (saved) => recomputable.recompute(saved.slice(0, count)) };
}

/** The tensors a layer op declares to the tape, in the order its gradFunc returns gradients. */
function differentiableOf(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, wanted: LayerGradients): tf.Tensor[] {
  return [...(wanted.input ? [x] : []), ...(wanted.weight ? [weight] : []), ...(bias && wanted.bias ? [bias] : [])];
}

export function conv2dLayer(
  node: Conv2dNode,
  x: tf.Tensor4D,
  weightSource: LayerWeight,
  bias: tf.Tensor1D | undefined,
  wanted: LayerGradients,
  recomputable?: RecomputableInput,
): tf.Tensor {
  const kind = convKind(node);
  const layerWeight = weightForLayer(weightSource, wanted);
  const weight = layerWeight.value as tf.Tensor4D;
  const input = savedInput(x, wanted, recomputable);
  return customOp(differentiableOf(x, weight, bias, wanted), (save) => {
    const y = convForward(kind, node, x, weight);
    save([...input.toSave, ...(wanted.input ? layerWeight.toSave : [])]);
    return {
      value: bias ? addBias(y, bias) : y,
      gradFunc: (dy, saved) => {
        const dy4 = dy as tf.Tensor4D;
        const savedX = wanted.weight ? (input.fromSaved(saved) as tf.Tensor4D) : undefined;
        const savedWeight = wanted.input ? (layerWeight.fromSaved(saved.slice(input.toSave.length)) as tf.Tensor4D) : undefined;
        const grads: tf.Tensor[] = [];
        if (savedWeight) grads.push(convInputGrad(kind, node, dy4, savedWeight, x.shape));
        if (savedX) grads.push(convWeightGrad(kind, node, savedX, dy4));
        if (bias && wanted.bias) grads.push(channelSum(dy));
        return grads;
      },
    };
  });
}

function convForward(kind: ConvKind, node: Conv2dNode, x: tf.Tensor4D, weight: tf.Tensor4D): tf.Tensor4D {
  switch (kind) {
    case 'pointwise': {
      // A matmul over N·H·W rows: its backward is two matmuls, where tfjs's Conv2DBackpropFilter
      // on the CPU backend is a naive loop (and on SwiftShader the lab's direct matmul is faster).
      const [n, h, w, c] = x.shape;
      const rows = matMul2d(tf.reshape(x, [n * h * w, c]), tf.reshape(weight, [c, node.outChannels]));
      return tf.reshape(rows, [n, h, w, node.outChannels]);
    }
    // A number is torch's symmetric padding (tfjs's 'same' pads asymmetrically at stride 2).
    case 'dense':
      return conv2dDirect(x, weight, node.stride, node.padding) ?? tf.conv2d(x, weight, node.stride, node.padding);
    case 'depthwise':
      return depthwiseConvDirect(x, weight, node.stride, node.padding) ?? tf.depthwiseConv2d(x, weight, node.stride, node.padding);
  }
}

function convInputGrad(
  kind: ConvKind,
  node: Conv2dNode,
  dy: tf.Tensor4D,
  weight: tf.Tensor4D,
  xShape: [number, number, number, number],
): tf.Tensor4D {
  switch (kind) {
    case 'pointwise': {
      const rows = matMul2d(tf.reshape(dy, [-1, node.outChannels]), tf.reshape(weight, [node.inChannels, node.outChannels]), false, true);
      return tf.reshape(rows, xShape);
    }
    case 'dense':
      return tf.conv2dTranspose(dy, weight, xShape, node.stride, node.padding);
    case 'depthwise': {
      const direct = depthwiseInputGrad(dy, weight, xShape, node.stride, node.padding);
      if (direct) return direct;
      if (node.stride === 1 && inputGradAsConv('depthwise')) {
        // At stride 1, dX is the depthwise correlation of dy with the spatially flipped filter,
        // padded by k − 1 − p (the output keeps the input's size).
        return tf.depthwiseConv2d(dy, tf.reverse(weight, [0, 1]), 1, node.kernel - 1 - node.padding);
      }
      // No public op: the kernel tfjs's own depthwise gradient runs.
      return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: weight }, {
        strides: node.stride,
        pad: node.padding,
        dilations: 1,
        inputShape: xShape,
      });
    }
  }
}

function convWeightGrad(kind: ConvKind, node: Conv2dNode, x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const { kernel, stride, padding, inChannels, outChannels } = node;
  switch (kind) {
    case 'pointwise': {
      const rows = matMul2d(tf.reshape(x, [-1, inChannels]), tf.reshape(dy, [-1, outChannels]), true, false);
      return tf.reshape(rows, [1, 1, inChannels, outChannels]);
    }
    case 'dense':
      if (weightGradAsConv('dense')) return denseWeightGradAsConv(x, dy, kernel, stride, padding);
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: stride,
        pad: padding,
        dataFormat: 'NHWC',
        filterShape: [kernel, kernel, inChannels, outChannels],
      });
    case 'depthwise': {
      if (weightGradAsConv('depthwise')) return depthwiseWeightGradAsConv(x, dy, kernel, stride, padding);
      const direct = depthwiseFilterGrad(x, dy, kernel, stride, padding);
      if (direct) return direct;
      return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
        strides: stride,
        pad: padding,
        dilations: 1,
        filterShape: [kernel, kernel, inChannels, 1],
      });
    }
  }
}

/**
 * Backends on which a conv's weight gradient runs faster as an ordinary (dilated) forward conv than
 * through the backend's backprop-filter kernel, measured at MobileNetV2/ResNet-18 shapes (batch 8):
 * on tfjs's CPU backend the backprop-filter kernels are naive element-by-element loops, ~30× slower
 * for dense convs (3→32 at 32×32: 5.4 s vs 0.19 s) and 3–13× for depthwise ones; on WebGPU
 * (SwiftShader) the native kernels win, 2–30× for depthwise, mostly for dense.
 */
const WEIGHT_GRAD_AS_CONV: Readonly<Record<string, Readonly<Record<'dense' | 'depthwise', boolean>>>> = {
  cpu: { dense: true, depthwise: true },
  webgpu: { dense: false, depthwise: false },
};

/** Likewise for the input gradient of a stride-1 depthwise conv, as a forward depthwise conv of dy
 * with the flipped filter: on WebGPU (SwiftShader, MobileNetV2 at 32×32, batch 8) ~4× faster than
 * DepthwiseConv2dNativeBackpropInput (22 ms vs 94 ms at [8, 32, 32, 48]). */
const INPUT_GRAD_AS_CONV: Readonly<Record<string, Readonly<Record<'depthwise', boolean>>>> = {
  webgpu: { depthwise: true },
};

function inputGradAsConv(kind: 'depthwise'): boolean {
  return INPUT_GRAD_AS_CONV[tf.getBackend()]?.[kind] ?? false;
}

function weightGradAsConv(kind: 'dense' | 'depthwise'): boolean {
  return WEIGHT_GRAD_AS_CONV[tf.getBackend()]?.[kind] ?? false;
}

/**
 * dW[i, j, ci, co] = Σ_{n,h,w} xPadded[n, s·h + i, s·w + j, ci] · dy[n, h, w, co]: a conv of the
 * padded input with batch and channels swapped ([ci, H + 2p, W + 2p, n]) by dy as the filter
 * ([Ho, Wo, n, co]), dilated by the stride, cropped to the k×k positions the forward conv used.
 */
export function denseWeightGradAsConv(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: number, stride: number, padding: number): tf.Tensor4D {
  return tf.tidy(() => {
    const xt = tf.pad(tf.transpose(x, [3, 1, 2, 0]), [[0, 0], [padding, padding], [padding, padding], [0, 0]]) as tf.Tensor4D;
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const full = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', stride);
    return tf.transpose(tf.slice(full, [0, 0, 0, 0], [-1, kernel, kernel, -1]), [1, 2, 0, 3]);
  });
}

/**
 * The depthwise analogue: each (example, channel) pair becomes a channel of one image
 * ([1, H + 2p, W + 2p, N·C]) convolved depthwise by its own dy plane ([Ho, Wo, N·C, 1]), dilated
 * by the stride; the k×k result is summed over the batch.
 */
export function depthwiseWeightGradAsConv(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: number, stride: number, padding: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, ho, wo] = dy.shape;
    const padded = tf.pad(tf.transpose(x, [1, 2, 0, 3]), [[padding, padding], [padding, padding], [0, 0], [0, 0]]);
    const image = tf.reshape(padded, [1, h + 2 * padding, w + 2 * padding, n * c]) as tf.Tensor4D;
    const planes = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c, 1]) as tf.Tensor4D;
    const full = tf.depthwiseConv2d(image, planes, 1, 'valid', 'NHWC', stride);
    const perExample = tf.reshape(tf.slice(full, [0, 0, 0, 0], [-1, kernel, kernel, -1]), [kernel, kernel, n, c]);
    return tf.reshape(tf.sum(perExample, 2), [kernel, kernel, c, 1]);
  });
}

/** A linear layer over the last axis of x ([N, in], or tokens [N, T, in] as N·T rows). The rows are
 * formed inside the op, so what it keeps (x, when the weight trains) is x's own buffer. */
export function linearLayer(
  x: tf.Tensor,
  weightSource: LayerWeight,
  bias: tf.Tensor1D | undefined,
  wanted: LayerGradients,
  recomputable?: RecomputableInput,
): tf.Tensor {
  const layerWeight = weightForLayer(weightSource, wanted);
  const weight = layerWeight.value as tf.Tensor2D;
  const [inFeatures, outFeatures] = weight.shape;
  const rowsOf = (t: tf.Tensor, features: number) => (t.rank === 2 ? t : tf.reshape(t, [-1, features])) as tf.Tensor2D;
  const input = savedInput(x, wanted, recomputable);
  return customOp(differentiableOf(x, weight, bias, wanted), (save) => {
    const y = tf.reshape(matMul2d(rowsOf(x, inFeatures), weight), [...x.shape.slice(0, -1), outFeatures]);
    save([...input.toSave, ...(wanted.input ? layerWeight.toSave : [])]);
    return {
      value: bias ? addBias(y, bias) : y,
      gradFunc: (dy, saved) => {
        const dy2 = rowsOf(dy, outFeatures);
        const savedX = wanted.weight ? rowsOf(input.fromSaved(saved), inFeatures) : undefined;
        const savedWeight = wanted.input ? (layerWeight.fromSaved(saved.slice(input.toSave.length)) as tf.Tensor2D) : undefined;
        const grads: tf.Tensor[] = [];
        if (savedWeight) grads.push(tf.reshape(matMul2d(dy2, savedWeight, false, true), x.shape));
        if (savedX) grads.push(matMul2d(savedX, dy2, true, false));
        if (bias && wanted.bias) grads.push(channelSum(dy2));
        return grads;
      },
    };
  });
}

/** a + b (equal shapes); `wanted` says which summands need the gradient. Keeps nothing. */
export function addLayer(a: tf.Tensor, b: tf.Tensor, wanted: readonly [boolean, boolean]): tf.Tensor {
  if (a.shape.join() !== b.shape.join()) throw new Error(`forward: add of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  const differentiable = [a, b].filter((_, i) => wanted[i]);
  return customOp(differentiable, () => ({
    value: tf.add(a, b),
    // A new tensor per summand: the tape disposes each input's gradient on its own.
    gradFunc: (dy) => differentiable.map(() => tf.clone(dy)),
  }));
}

/** Mean over H and W keeping [N, 1, 1, C]. Keeps nothing. */
export function globalAvgPoolLayer(x: tf.Tensor): tf.Tensor {
  const [, h, w] = x.shape;
  return customOp([x], () => ({
    value: spatialMean(x as tf.Tensor4D),
    gradFunc: (dy) => [tf.broadcastTo(tf.div(dy, h * w), x.shape)],
  }));
}

/** [N, ...] → [N, features]. Keeps nothing. */
export function flattenLayer(x: tf.Tensor): tf.Tensor {
  return customOp([x], () => ({
    value: tf.reshape(x, [x.shape[0], -1]),
    gradFunc: (dy) => [tf.reshape(dy, x.shape)],
  }));
}
