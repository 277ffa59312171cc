// Per-channel maps and sums over NHWC tensors (DoRA's magnitude and norm, biases, global average
// pooling).
import * as tf from '@tensorflow/tfjs';
import { elementwise, elementwiseVec4, type KernelFuncs, run, takesVec4 } from './programs';
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
  // x·scale[c] (+ shift[c]): a per-channel affine map (DoRA's magnitude / norm, a bias).
  [KERNELS.channelAffine]: ({ inputs, backend }) => {
    const { x, scale, shift } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    if (takesVec4(input.shape)) {
      return elementwiseVec4(backend, {
        name: KERNELS.channelAffine,
        key: `lab_channel_affine_${shift ? 'shift' : 'scale'}`,
        shape: input.shape,
        inputs: [['X', input], ['Scale', scale as tf.TensorInfo], ...(shift ? [['Shift', shift] as [string, tf.TensorInfo]] : [])],
        setup: `let scale = Scale[c];${shift ? ' let shift = Shift[c];' : ''}`,
        body: `Out[i] = X[i] * scale${shift ? ' + shift' : ''};`,
      });
    }
    const program = elementwise(`lab_channel_affine_${shift ? 'shift' : 'scale'}`, ['X', 'Scale', ...(shift ? ['Shift'] : [])], input.shape,
      `setOutputAtIndex(index, X[index] * Scale[c]${shift ? ' + Shift[c]' : ''});`);
    return run(backend, program, [input, scale as tf.TensorInfo, ...(shift ? [shift] : [])]);
  },
  // Σ dy and Σ dy·x per channel, as two [C] tensors.
  [KERNELS.channelSums]: ({ inputs, backend }) => {
    const { dy, x } = inputs as Record<string, tf.TensorInfo>;
    return dyAndDyXSums(backend, KERNELS.channelSums, dy, x);
  },
};
