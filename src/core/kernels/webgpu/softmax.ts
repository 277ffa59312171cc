// Attention's softmax over the last axis with its score scale folded in, and its input gradient:
// one invocation per row of scores, where tfjs ran a scale Multiply, a Softmax (~85 ms a call on
// SwiftShader at ViT-Tiny w0.25's [8·3, 65, 65]) and, in the backward, four kernels with a Sum.
import * as tf from '@tensorflow/tfjs';
import { dispatchPerRow, type KernelFuncs } from './programs';
import { newDeviceTensor } from '../webgpuRaw';
import { KERNELS } from './names';

export const SOFTMAX_KERNELS: KernelFuncs = {
  // y = softmax(scale·x) per row, the row's maximum subtracted before exp as tfjs does.
  [KERNELS.scaledSoftmax]: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const y = newDeviceTensor(backend, [...x.shape]);
    dispatchPerRow(backend, {
      name: KERNELS.scaledSoftmax,
      key: 'lab_scaled_softmax',
      shape: x.shape,
      buffers: [{ name: 'X', info: x }, { name: 'Y', info: y, write: true }],
      uniforms: [{ name: 'scale', type: 'f32', value: attrs?.scale as number }],
      body: `
        var m = X[base] * uniforms.scale;
        for (var j = 1; j < FEATURES; j = j + 1) { m = max(m, X[base + j] * uniforms.scale); }
        var s = 0.0;
        for (var j = 0; j < FEATURES; j = j + 1) { let e = exp(X[base + j] * uniforms.scale - m); Y[base + j] = e; s = s + e; }
        for (var j = 0; j < FEATURES; j = j + 1) { Y[base + j] = Y[base + j] / s; }`,
    });
    return y;
  },
  // dx = scale·y ⊙ (dy − Σ_row dy ⊙ y), for y = softmax(scale·x).
  [KERNELS.scaledSoftmaxGrad]: ({ inputs, backend, attrs }) => {
    const { y, dy } = inputs as Record<string, tf.TensorInfo>;
    const dx = newDeviceTensor(backend, [...y.shape]);
    dispatchPerRow(backend, {
      name: KERNELS.scaledSoftmaxGrad,
      key: 'lab_scaled_softmax_grad',
      shape: y.shape,
      buffers: [{ name: 'Y', info: y }, { name: 'Dy', info: dy }, { name: 'Dx', info: dx, write: true }],
      uniforms: [{ name: 'scale', type: 'f32', value: attrs?.scale as number }],
      body: `
        var s = 0.0;
        for (var j = 0; j < FEATURES; j = j + 1) { s = s + Dy[base + j] * Y[base + j]; }
        for (var j = 0; j < FEATURES; j = j + 1) { Dx[base + j] = Y[base + j] * (Dy[base + j] - s) * uniforms.scale; }`,
    });
    return dx;
  },
};
