// Direct convs where they beat tfjs's kernels on SwiftShader (fused.ts decides when, with the
// numbers): a stem's dense conv, and depthwise convs forward and backward, four channels at a time.
import * as tf from '@tensorflow/tfjs';
import { channelsOf, dispatchChannelReduction, elementwise, elementwiseVec4, type KernelFuncs, run, takesVec4 } from './programs';
import { newDeviceTensor } from '../webgpuRaw';
import { KERNELS } from './names';

/** An elementwiseVec4 setup that reads a depthwise filter's k·k taps ([k, k, C, 1], bound
 * `Filter`) for the invocation's four channels into `taps`. */
const filterTapsVec4 = (k: number) => `
          var taps : array<vec4<f32>, ${k * k}>;
          for (var t = 0; t < ${k * k}; t = t + 1) { taps[t] = Filter[t * CHANNELS4 + c]; }`;

export const CONV_KERNELS: KernelFuncs = {
  // A dense conv (NHWC, filter [k, k, Cin, Cout], torch's symmetric padding) as one invocation per
  // output element looping over its k·k·Cin products: no im2col buffer and no tiles, which on
  // SwiftShader beats tfjs's Conv2D at a stem (fused.ts decides when, with the numbers).
  [KERNELS.conv2d]: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as Record<string, tf.TensorInfo>;
    const [n, h, w, cin] = x.shape;
    const [k, , , cout] = filter.shape;
    const stride = attrs?.stride as number;
    const pad = attrs?.pad as number;
    const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
    const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
    const program = elementwise(`lab_conv2d_${[h, w, cin, k, stride, pad, ho, wo].join('_')}`, ['X', 'W'], [n, ho, wo, cout], `
      let pixel = index / CHANNELS;
      let ox = pixel % ${wo};
      let oy = (pixel / ${wo}) % ${ho};
      let b = pixel / ${wo * ho};
      var acc = 0.0;
      for (var ky = 0; ky < ${k}; ky = ky + 1) {
        let iy = oy * ${stride} + ky - ${pad};
        if (iy < 0 || iy >= ${h}) { continue; }
        for (var kx = 0; kx < ${k}; kx = kx + 1) {
          let ix = ox * ${stride} + kx - ${pad};
          if (ix < 0 || ix >= ${w}) { continue; }
          let xBase = ((b * ${h} + iy) * ${w} + ix) * ${cin};
          let wBase = (ky * ${k} + kx) * ${cin} * CHANNELS + c;
          for (var ci = 0; ci < ${cin}; ci = ci + 1) { acc = acc + X[xBase + ci] * W[wBase + ci * CHANNELS]; }
        }
      }
      setOutputAtIndex(index, acc);`);
    return run(backend, program, [x, filter]);
  },
  // A depthwise conv's input gradient (filter [k, k, C, 1], any stride): each input element sums
  // dy·w over the outputs whose window covers it, one invocation per element, or with C a multiple
  // of 4 per four channels with the filter's taps read once per invocation (fused.ts decides when,
  // with the numbers).
  [KERNELS.depthwiseInputGrad]: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as Record<string, tf.TensorInfo>;
    const [n, ho, wo] = dy.shape;
    const [k] = filter.shape;
    const [, h, w] = attrs?.inputShape as number[];
    const stride = attrs?.stride as number;
    const pad = attrs?.pad as number;
    const outputShape = [n, h, w, channelsOf(dy.shape)];
    if (takesVec4(dy.shape)) {
      return elementwiseVec4(backend, {
        name: KERNELS.depthwiseInputGrad,
        key: `lab_depthwise_input_grad_${[h, w, k, stride, pad, ho, wo].join('_')}`,
        shape: outputShape,
        inputs: [['Dy', dy], ['Filter', filter]],
        setup: filterTapsVec4(k),
        body: `
          let pixel = i / CHANNELS4;
          let ix = pixel % ${w};
          let iy = (pixel / ${w}) % ${h};
          let b = pixel / ${w * h};
          var acc = vec4<f32>(0.0);
          for (var ky = 0; ky < ${k}; ky = ky + 1) {
            let sy = iy + ${pad} - ky;
            if (sy < 0 || sy % ${stride} != 0 || sy / ${stride} >= ${ho}) { continue; }
            for (var kx = 0; kx < ${k}; kx = kx + 1) {
              let sx = ix + ${pad} - kx;
              if (sx < 0 || sx % ${stride} != 0 || sx / ${stride} >= ${wo}) { continue; }
              acc = acc + Dy[((b * ${ho} + sy / ${stride}) * ${wo} + sx / ${stride}) * CHANNELS4 + c] * taps[ky * ${k} + kx];
            }
          }
          Out[i] = acc;`,
      });
    }
    const program = elementwise(`lab_depthwise_input_grad_${[h, w, k, stride, pad, ho, wo].join('_')}`, ['Dy', 'W'], outputShape, `
      let pixel = index / CHANNELS;
      let ix = pixel % ${w};
      let iy = (pixel / ${w}) % ${h};
      let b = pixel / ${w * h};
      var acc = 0.0;
      for (var ky = 0; ky < ${k}; ky = ky + 1) {
        let sy = iy + ${pad} - ky;
        if (sy < 0 || sy % ${stride} != 0 || sy / ${stride} >= ${ho}) { continue; }
        for (var kx = 0; kx < ${k}; kx = kx + 1) {
          let sx = ix + ${pad} - kx;
          if (sx < 0 || sx % ${stride} != 0 || sx / ${stride} >= ${wo}) { continue; }
          acc = acc + Dy[((b * ${ho} + sy / ${stride}) * ${wo} + sx / ${stride}) * CHANNELS + c] * W[(ky * ${k} + kx) * CHANNELS + c];
        }
      }
      setOutputAtIndex(index, acc);`);
    return run(backend, program, [dy, filter]);
  },
  // A depthwise conv (NHWC, filter [k, k, C, 1], torch's symmetric padding, C a multiple of 4):
  // one invocation per four channels, the filter's taps read once, then for each of its output
  // pixels the k·k products of the window (fused.ts decides when, with the numbers).
  [KERNELS.depthwiseConv]: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as Record<string, tf.TensorInfo>;
    const [n, h, w, channels] = x.shape;
    const [k] = filter.shape;
    const stride = attrs?.stride as number;
    const pad = attrs?.pad as number;
    const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
    const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
    return elementwiseVec4(backend, {
      name: KERNELS.depthwiseConv,
      key: `lab_depthwise_conv_${[h, w, k, stride, pad, ho, wo].join('_')}`,
      shape: [n, ho, wo, channels],
      inputs: [['X', x], ['Filter', filter]],
      setup: filterTapsVec4(k),
      body: `
        let pixel = i / CHANNELS4;
        let ox = pixel % ${wo};
        let oy = (pixel / ${wo}) % ${ho};
        let b = pixel / ${wo * ho};
        var acc = vec4<f32>(0.0);
        for (var ky = 0; ky < ${k}; ky = ky + 1) {
          let iy = oy * ${stride} + ky - ${pad};
          if (iy < 0 || iy >= ${h}) { continue; }
          for (var kx = 0; kx < ${k}; kx = kx + 1) {
            let ix = ox * ${stride} + kx - ${pad};
            if (ix < 0 || ix >= ${w}) { continue; }
            acc = acc + X[((b * ${h} + iy) * ${w} + ix) * CHANNELS4 + c] * taps[ky * ${k} + kx];
          }
        }
        Out[i] = acc;`,
    });
  },
  // A depthwise conv's filter gradient (filter [k, k, C, 1], C a multiple of 4): dW[ky, kx, c] =
  // Σ over outputs dy·x under tap (ky, kx). One workgroup per four channels (a channel reduction):
  // each invocation walks its output pixels reading dy once and the k·k inputs under the window,
  // keeping k·k sums; then one workgroup sum per tap.
  [KERNELS.depthwiseFilterGrad]: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as Record<string, tf.TensorInfo>;
    const [, h, w, channels] = x.shape;
    const [, ho, wo] = dy.shape;
    const k = attrs?.kernel as number;
    const stride = attrs?.stride as number;
    const pad = attrs?.pad as number;
    const dFilter = newDeviceTensor(backend, [k, k, channels, 1]);
    dispatchChannelReduction(backend, {
      name: KERNELS.depthwiseFilterGrad,
      key: `lab_depthwise_filter_grad_${[h, w, k, stride, pad, ho, wo].join('_')}`,
      shape: dy.shape,
      vec4: true,
      buffers: [{ name: 'X', info: x, vec4: true }, { name: 'Dy', info: dy, vec4: true }, { name: 'DFilter', info: dFilter, write: true, vec4: true }],
      uniforms: [],
      body: `
        var sums : array<T, ${k * k}>;
        for (var r = first; r < ROWS; r = r + WORKGROUP) {
          let ox = r % ${wo};
          let oy = (r / ${wo}) % ${ho};
          let b = r / ${wo * ho};
          let g = Dy[r * CHANNELS + c];
          for (var ky = 0; ky < ${k}; ky = ky + 1) {
            let iy = oy * ${stride} + ky - ${pad};
            if (iy < 0 || iy >= ${h}) { continue; }
            for (var kx = 0; kx < ${k}; kx = kx + 1) {
              let ix = ox * ${stride} + kx - ${pad};
              if (ix < 0 || ix >= ${w}) { continue; }
              sums[ky * ${k} + kx] = sums[ky * ${k} + kx] + g * X[((b * ${h} + iy) * ${w} + ix) * CHANNELS + c];
            }
          }
        }
        for (var t = 0; t < ${k * k}; t = t + 1) {
          let total = labReduceSum(sums[t]);
          if (localId.x == 0u) { DFilter[t * CHANNELS + c] = total; }
        }`,
    });
    return dFilter;
  },
};
