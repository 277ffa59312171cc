// Layer norm over the last axis (the ViT's tokens): forward with each row's statistics, and backward.
import * as tf from '@tensorflow/tfjs';
import { channelsOf, dispatchChannelReduction, dispatchPerRow, type KernelFuncs, takesVec4 } from './programs';
import { newDeviceTensor } from '../webgpuRaw';
import { KERNELS } from './names';

export const LAYER_NORM_KERNELS: KernelFuncs = {
  // Layer norm over the last axis (D features), one invocation per row (token): y, and the row's
  // mean and 1/σ (each [..., 1]) for the backward, in one dispatch where tfjs runs ~9 kernels.
  [KERNELS.layerNorm]: ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    const rowShape = [...x.shape.slice(0, -1), 1];
    const [y, mean, invStd] = [newDeviceTensor(backend, [...x.shape]), newDeviceTensor(backend, rowShape), newDeviceTensor(backend, rowShape)];
    dispatchPerRow(backend, {
      name: KERNELS.layerNorm,
      key: 'lab_layer_norm',
      shape: x.shape,
      buffers: [{ name: 'X', info: x }, { name: 'Gamma', info: gamma }, { name: 'Beta', info: beta }, { name: 'Y', info: y, write: true }, { name: 'Mean', info: mean, write: true }, { name: 'InvStd', info: invStd, write: true }],
      uniforms: [{ name: 'eps', type: 'f32', value: attrs?.eps as number }],
      body: `
        var s = 0.0;
        for (var j = 0; j < FEATURES; j = j + 1) { s = s + X[base + j]; }
        let m = s / f32(FEATURES);
        var q = 0.0;
        for (var j = 0; j < FEATURES; j = j + 1) { let d = X[base + j] - m; q = q + d * d; }
        let inv = inverseSqrt(q / f32(FEATURES) + uniforms.eps);
        for (var j = 0; j < FEATURES; j = j + 1) { Y[base + j] = (X[base + j] - m) * inv * Gamma[j] + Beta[j]; }
        Mean[row] = m;
        InvStd[row] = inv;`,
    });
    return [y, mean, invStd] as unknown as tf.TensorInfo;
  },
  // Σ dy and Σ dy·x̂ per feature over every row (dβ and dγ), x̂ from each row's mean and 1/σ.
  [KERNELS.layerNormGradSums]: ({ inputs, backend }) => {
    const { dy, x, mean, invStd } = inputs as Record<string, tf.TensorInfo>;
    const features = channelsOf(x.shape);
    const [sumDy, sumDyXHat] = [newDeviceTensor(backend, [features]), newDeviceTensor(backend, [features])];
    const vec4 = takesVec4(x.shape);
    dispatchChannelReduction(backend, {
      name: KERNELS.layerNormGradSums,
      key: 'lab_layer_norm_grad_sums',
      shape: x.shape,
      vec4,
      // Each row's mean and 1/σ are one value for all its features: scalar bindings.
      buffers: [{ name: 'Dy', info: dy, vec4 }, { name: 'X', info: x, vec4 }, { name: 'Mean', info: mean }, { name: 'InvStd', info: invStd }, { name: 'SumDy', info: sumDy, write: true, vec4 }, { name: 'SumDyXHat', info: sumDyXHat, write: true, vec4 }],
      uniforms: [],
      body: `
        var a = T();
        var b = T();
        for (var r = first; r < ROWS; r = r + WORKGROUP) {
          let i = r * CHANNELS + c;
          a = a + Dy[i];
          b = b + Dy[i] * (X[i] - Mean[r]) * InvStd[r];
        }
        let totalA = labReduceSum(a);
        let totalB = labReduceSum(b);
        if (localId.x == 0u) { SumDy[c] = totalA; SumDyXHat[c] = totalB; }`,
    });
    return [sumDy, sumDyXHat] as unknown as tf.TensorInfo;
  },
  // dx = (g − mean(g) − x̂·mean(g·x̂))/σ per row, g = dy·γ: one invocation per row, two passes.
  [KERNELS.layerNormInputGrad]: ({ inputs, backend }) => {
    const { dy, x, mean, invStd, gamma } = inputs as Record<string, tf.TensorInfo>;
    const dx = newDeviceTensor(backend, [...x.shape]);
    dispatchPerRow(backend, {
      name: KERNELS.layerNormInputGrad,
      key: 'lab_layer_norm_input_grad',
      shape: x.shape,
      buffers: [{ name: 'Dy', info: dy }, { name: 'X', info: x }, { name: 'Mean', info: mean }, { name: 'InvStd', info: invStd }, { name: 'Gamma', info: gamma }, { name: 'Dx', info: dx, write: true }],
      body: `
        let m = Mean[row];
        let inv = InvStd[row];
        var sumG = 0.0;
        var sumGXHat = 0.0;
        for (var j = 0; j < FEATURES; j = j + 1) {
          let g = Dy[base + j] * Gamma[j];
          sumG = sumG + g;
          sumGXHat = sumGXHat + g * (X[base + j] - m) * inv;
        }
        let meanG = sumG / f32(FEATURES);
        let meanGXHat = sumGXHat / f32(FEATURES);
        for (var j = 0; j < FEATURES; j = j + 1) {
          let xHat = (X[base + j] - m) * inv;
          Dx[base + j] = (Dy[base + j] * Gamma[j] - meanG - xHat * meanGXHat) * inv;
        }`,
    });
    return dx;
  },
};
