// Per-channel maps and sums over NHWC tensors (DoRA's magnitude and norm, biases and their gradients,
// global average pooling).
import * as tf from '@tensorflow/tfjs';
import { newDeviceTensor } from '../webgpuRaw';
import { channelsOf, dispatchChannelReduction, elementwise, elementwiseVec4, type KernelFuncs, run, takesVec4 } from './programs';
import { KERNELS } from './names';
import { dyAndDyXSums } from './batchNorm';

export const CHANNEL_KERNELS: KernelFuncs = {
  // [N, H, W, C] → [N, 1, 1, C], the mean over H and W (global average pooling); tfjs transposes
  // the tensor first when the reduced axes are not the last.
  [KERNELS.spatialMean]: ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const [n, h, w, channels] = x.shape;
    const program = elementwise(`lab_spatial_mean_${h * w}`, ['X'], [n, 1, 1, channels], `
      let base = (index / CHANNELS) * ${h * w} * CHANNELS + c;
      var s = 0.0;
      for (var p = 0; p < ${h * w}; p = p + 1) { s = s + X[base + p * CHANNELS]; }
      setOutputAtIndex(index, s / ${h * w}.0);`);
    return run(backend, program, [x]);
  },
  // x·scale[c] + shift[c], either optional: a per-channel affine map (DoRA's magnitude / norm, a
  // bias); tfjs's broadcasting Add and Multiply decode a coordinate per element.
  [KERNELS.channelAffine]: ({ inputs, backend }) => {
    const { x, scale, shift } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    const key = `lab_channel_affine_${scale ? 'scale' : ''}${shift ? 'shift' : ''}`;
    const bound = [...(scale ? [['Scale', scale]] : []), ...(shift ? [['Shift', shift]] : [])] as [string, tf.TensorInfo][];
    if (takesVec4(input.shape)) {
      return elementwiseVec4(backend, {
        name: KERNELS.channelAffine,
        key,
        shape: input.shape,
        inputs: [['X', input], ...bound],
        setup: `${scale ? 'let scale = Scale[c];' : ''}${shift ? ' let shift = Shift[c];' : ''}`,
        body: `Out[i] = X[i]${scale ? ' * scale' : ''}${shift ? ' + shift' : ''};`,
      });
    }
    const program = elementwise(key, ['X', ...bound.map(([name]) => name)], input.shape,
      `setOutputAtIndex(index, X[index]${scale ? ' * Scale[c]' : ''}${shift ? ' + Shift[c]' : ''});`);
    return run(backend, program, [input, ...bound.map(([, info]) => info)]);
  },
  // ‖W + s·AB‖ per output channel (W [K, C], A [K, r], B [r, C]; DoRA's weight norm) in one
  // reduction over W's rows: each row of W + s·AB is formed in registers, so no weight-sized buffer
  // and one dispatch where the expanded form took a dozen.
  [KERNELS.doraNorm]: ({ inputs, backend, attrs }) => {
    const { weight, loraA, loraB } = inputs as Record<string, tf.TensorInfo>;
    const vec4 = takesVec4(weight.shape);
    const norm = newDeviceTensor(backend, [weight.shape[1]]);
    dispatchChannelReduction(backend, {
      name: KERNELS.doraNorm,
      key: 'lab_dora_norm',
      shape: weight.shape,
      vec4,
      buffers: [
        { name: 'W', info: weight, vec4 },
        { name: 'A', info: loraA },
        { name: 'B', info: loraB, vec4 },
        { name: 'Norm', info: norm, write: true, vec4 },
      ],
      uniforms: [{ name: 'rank', type: 'i32', value: loraA.shape[1] }, { name: 'scaling', type: 'f32', value: attrs?.scaling as number }],
      body: `
      let RANK = uniforms.rank;
      var squares = T();
      for (var r = first; r < ROWS; r = r + WORKGROUP) {
        var delta = T();
        for (var k = 0; k < RANK; k = k + 1) { delta = delta + A[r * RANK + k] * B[k * CHANNELS + c]; }
        let w = W[r * CHANNELS + c] + uniforms.scaling * delta;
        squares = squares + w * w;
      }
      let total = labReduceSum(squares);
      if (localId.x == 0u) { Norm[c] = sqrt(total); }`,
    });
    return norm;
  },
  // Σ x per channel over every other axis (a bias's gradient), one reduction: tfjs's Sum over leading
  // axes transposes the tensor first (on SwiftShader ~37 ms a call at a ViT-Tiny w0.25 linear layer).
  [KERNELS.channelSum]: ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const vec4 = takesVec4(x.shape);
    const sum = newDeviceTensor(backend, [channelsOf(x.shape)]);
    dispatchChannelReduction(backend, {
      name: KERNELS.channelSum,
      key: 'lab_channel_sum',
      shape: x.shape,
      vec4,
      buffers: [{ name: 'X', info: x, vec4 }, { name: 'Sum', info: sum, write: true, vec4 }],
      uniforms: [],
      body: `
      var s = T();
      for (var r = first; r < ROWS; r = r + WORKGROUP) { s = s + X[r * CHANNELS + c]; }
      let total = labReduceSum(s);
      if (localId.x == 0u) { Sum[c] = total; }`,
    });
    return sum;
  },
  // Σ dy and Σ dy·x per channel, as two [C] tensors.
  [KERNELS.channelSums]: ({ inputs, backend }) => {
    const { dy, x } = inputs as Record<string, tf.TensorInfo>;
    return dyAndDyXSums(backend, KERNELS.channelSums, dy, x);
  },
};
