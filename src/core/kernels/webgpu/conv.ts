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

/** A conv's geometry: input h×w, output ho×wo, a k×k geometry, stride and torch's symmetric padding. */
interface ConvGeometry {
  h: number;
  w: number;
  ho: number;
  wo: number;
  k: number;
  stride: number;
  pad: number;
}

/** WGSL: `pixel` (a flat pixel index over [N, rows, cols]) as `b`, `${y}` and `${x}`. */
const pixelCoordinates = (pixel: string, rows: number, cols: number, [y, x]: [string, string]) => `
          let ${x} = ${pixel} % ${cols};
          let ${y} = (${pixel} / ${cols}) % ${rows};
          let b = ${pixel} / ${cols * rows};`;

/** WGSL: `body` for each tap (ky, kx) of output pixel (oy, ox)'s window whose input pixel (iy, ix)
 * lies inside the input (the forward's and the filter gradient's walk). */
const forEachTapInInput = ({ h, w, k, stride, pad }: ConvGeometry, body: string) => `
          for (var ky = 0; ky < ${k}; ky = ky + 1) {
            let iy = oy * ${stride} + ky - ${pad};
            if (iy < 0 || iy >= ${h}) { continue; }
            for (var kx = 0; kx < ${k}; kx = kx + 1) {
              let ix = ox * ${stride} + kx - ${pad};
              if (ix < 0 || ix >= ${w}) { continue; }
              ${body}
            }
          }`;

/** WGSL: `body` for each tap (ky, kx) through which input pixel (iy, ix) reaches an output pixel,
 * (sy, sx)/stride (the input gradient's walk: the transposed conv). */
const forEachTapReachingOutput = ({ ho, wo, k, stride, pad }: ConvGeometry, body: string) => `
          for (var ky = 0; ky < ${k}; ky = ky + 1) {
            let sy = iy + ${pad} - ky;
            if (sy < 0 || sy % ${stride} != 0 || sy / ${stride} >= ${ho}) { continue; }
            for (var kx = 0; kx < ${k}; kx = kx + 1) {
              let sx = ix + ${pad} - kx;
              if (sx < 0 || sx % ${stride} != 0 || sx / ${stride} >= ${wo}) { continue; }
              ${body}
            }
          }`;

/** A conv's geometry from its input shape and attributes. */
function geometryOf(h: number, w: number, k: number, stride: number, pad: number): ConvGeometry {
  return { h, w, k, stride, pad, ho: Math.floor((h + 2 * pad - k) / stride) + 1, wo: Math.floor((w + 2 * pad - k) / stride) + 1 };
}

const keyOf = ({ h, w, k, stride, pad, ho, wo }: ConvGeometry) => [h, w, k, stride, pad, ho, wo].join('_');

export const CONV_KERNELS: KernelFuncs = {
  // A dense conv (NHWC, filter [k, k, Cin, Cout], torch's symmetric padding) as one invocation per
  // output element looping over its k·k·Cin products: no im2col buffer and no tiles, which on
  // SwiftShader beats tfjs's Conv2D at a stem (fused.ts decides when, with the numbers).
  [KERNELS.conv2d]: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as Record<string, tf.TensorInfo>;
    const [n, h, w, cin] = x.shape;
    const [k, , , cout] = filter.shape;
    const geometry = geometryOf(h, w, k, attrs?.stride as number, attrs?.pad as number);
    const program = elementwise(`lab_conv2d_${cin}_${keyOf(geometry)}`, ['X', 'W'], [n, geometry.ho, geometry.wo, cout], `
      ${pixelCoordinates('(index / CHANNELS)', geometry.ho, geometry.wo, ['oy', 'ox'])}
      var acc = 0.0;
      ${forEachTapInInput(geometry, `let xBase = ((b * ${h} + iy) * ${w} + ix) * ${cin};
              let wBase = (ky * ${k} + kx) * ${cin} * CHANNELS + c;
              for (var ci = 0; ci < ${cin}; ci = ci + 1) { acc = acc + X[xBase + ci] * W[wBase + ci * CHANNELS]; }`)}
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
    const geometry: ConvGeometry = { h, w, ho, wo, k, stride: attrs?.stride as number, pad: attrs?.pad as number };
    const outputShape = [n, h, w, channelsOf(dy.shape)];
    /** The sum over the taps, for a channel count `channels` (the per-channel bindings' units). */
    const sum = (channels: string, zero: string, tap: string) => `
          var acc = ${zero};
          ${forEachTapReachingOutput(geometry, `acc = acc + Dy[((b * ${ho} + sy / ${geometry.stride}) * ${wo} + sx / ${geometry.stride}) * ${channels} + c] * ${tap};`)}`;
    if (takesVec4(dy.shape)) {
      return elementwiseVec4(backend, {
        name: KERNELS.depthwiseInputGrad,
        key: `lab_depthwise_input_grad_${keyOf(geometry)}`,
        shape: outputShape,
        inputs: [['Dy', dy], ['Filter', filter]],
        setup: filterTapsVec4(k),
        body: `
          ${pixelCoordinates('(i / CHANNELS4)', h, w, ['iy', 'ix'])}
          ${sum('CHANNELS4', 'vec4<f32>(0.0)', `taps[ky * ${k} + kx]`)}
          Out[i] = acc;`,
      });
    }
    const program = elementwise(`lab_depthwise_input_grad_${keyOf(geometry)}`, ['Dy', 'W'], outputShape, `
      ${pixelCoordinates('(index / CHANNELS)', h, w, ['iy', 'ix'])}
      ${sum('CHANNELS', '0.0', `W[(ky * ${k} + kx) * CHANNELS + c]`)}
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
    const geometry = geometryOf(h, w, k, attrs?.stride as number, attrs?.pad as number);
    return elementwiseVec4(backend, {
      name: KERNELS.depthwiseConv,
      key: `lab_depthwise_conv_${keyOf(geometry)}`,
      shape: [n, geometry.ho, geometry.wo, channels],
      inputs: [['X', x], ['Filter', filter]],
      setup: filterTapsVec4(k),
      body: `
        ${pixelCoordinates('(i / CHANNELS4)', geometry.ho, geometry.wo, ['oy', 'ox'])}
        var acc = vec4<f32>(0.0);
        ${forEachTapInInput(geometry, `acc = acc + X[((b * ${h} + iy) * ${w} + ix) * CHANNELS4 + c] * taps[ky * ${k} + kx];`)}
        Out[i] = acc;`,
    });
  },
  // A depthwise conv's filter gradient (filter [k, k, C, 1], C a multiple of 4): dW[ky, kx, c] =
  // Σ over outputs dy·x under tap (ky, kx). One workgroup per four channels (a channel reduction):
  // each invocation walks its output pixels reading dy once and the k·k inputs under the geometry,
  // keeping k·k sums; then one workgroup sum per tap.
  [KERNELS.depthwiseFilterGrad]: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as Record<string, tf.TensorInfo>;
    const [, h, w, channels] = x.shape;
    const [, ho, wo] = dy.shape;
    const k = attrs?.kernel as number;
    const geometry: ConvGeometry = { h, w, ho, wo, k, stride: attrs?.stride as number, pad: attrs?.pad as number };
    const dFilter = newDeviceTensor(backend, [k, k, channels, 1]);
    dispatchChannelReduction(backend, {
      name: KERNELS.depthwiseFilterGrad,
      key: `lab_depthwise_filter_grad_${keyOf(geometry)}`,
      shape: dy.shape,
      vec4: true,
      buffers: [{ name: 'X', info: x, vec4: true }, { name: 'Dy', info: dy, vec4: true }, { name: 'DFilter', info: dFilter, write: true, vec4: true }],
      uniforms: [],
      body: `
        var sums : array<T, ${k * k}>;
        for (var r = first; r < ROWS; r = r + WORKGROUP) {
          ${pixelCoordinates('r', ho, wo, ['oy', 'ox'])}
          let g = Dy[r * CHANNELS + c];
          ${forEachTapInInput(geometry, `sums[ky * ${k} + kx] = sums[ky * ${k} + kx] + g * X[((b * ${h} + iy) * ${w} + ix) * CHANNELS + c];`)}
        }
        for (var t = 0; t < ${k * k}; t = t + 1) {
          let total = labReduceSum(sums[t]);
          if (localId.x == 0u) { DFilter[t * CHANNELS + c] = total; }
        }`,
    });
    return dFilter;
  },
};
