// Direct convs where they beat tfjs's kernels on SwiftShader (fused.ts decides when, with the
// numbers): a stem's dense conv, and depthwise convs forward and backward, four channels at a time.
import * as tf from '@tensorflow/tfjs';
import { channelsOf, dispatchChannelReduction, elementwise, elementwiseVec4, type KernelFuncs, run, takesVec4 } from './programs';
import { newDeviceTensor, type RawUniform } from '../webgpuRaw';
import { KERNELS } from './names';

/** An elementwiseVec4 setup that reads a depthwise filter's k·k taps ([k, k, C, 1], bound
 * `Filter`) for the invocation's four channels into `taps`. */
const filterTapsVec4 = (k: number) => `
          var taps : array<vec4<f32>, ${k * k}>;
          for (var t = 0; t < ${k * k}; t = t + 1) { taps[t] = Filter[t * CHANNELS4 + c]; }`;

/** A conv's geometry: input h×w, output ho×wo, a k×k window, stride and torch's symmetric padding;
 * the sizes are numbers (baked into the WGSL) or the names of WGSL values (uniformGeometry). */
interface ConvGeometry<Size extends number | string = number> {
  h: Size;
  w: Size;
  ho: Size;
  wo: Size;
  k: number;
  stride: number;
  pad: Size;
}

/** The geometry's sizes as uniforms (WGSL names IN_H, IN_W, OUT_H, OUT_W, PAD; `declare` binds
 * them in main), the kernel size and stride kept constants: one pipeline per (k, stride). */
function uniformGeometry(g: ConvGeometry): { symbolic: ConvGeometry<string>; uniforms: RawUniform[]; declare: string } {
  const names = { h: 'IN_H', w: 'IN_W', ho: 'OUT_H', wo: 'OUT_W', pad: 'PAD' } as const;
  const entries = Object.entries(names) as [keyof typeof names, string][];
  return {
    symbolic: { ...g, ...names },
    uniforms: entries.map(([field, name]) => ({ name: name.toLowerCase(), type: 'i32', value: g[field] })),
    declare: entries.map(([, name]) => `let ${name} = uniforms.${name.toLowerCase()};`).join(' '),
  };
}

/** WGSL: `pixel` (a flat pixel index over [N, rows, cols]) as `b`, `${y}` and `${x}`. */
const pixelCoordinates = (pixel: string, rows: number | string, cols: number | string, [y, x]: [string, string]) => `
          let ${x} = ${pixel} % ${cols};
          let ${y} = (${pixel} / ${cols}) % ${rows};
          let b = ${pixel} / (${cols} * ${rows});`;

/** WGSL: `body` for each tap (ky, kx) of output pixel (oy, ox)'s window whose input pixel (iy, ix)
 * lies inside the input (the forward's and the filter gradient's walk). */
const forEachTapInInput = ({ h, w, k, stride, pad }: ConvGeometry<number | string>, body: string) => `
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
const forEachTapReachingOutput = ({ ho, wo, k, stride, pad }: ConvGeometry<number | string>, body: string) => `
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
    const sum = (g: ConvGeometry<number | string>, channels: string, zero: string, tap: string) => `
          var acc = ${zero};
          ${forEachTapReachingOutput(g, `acc = acc + Dy[((b * ${g.ho} + sy / ${g.stride}) * ${g.wo} + sx / ${g.stride}) * ${channels} + c] * ${tap};`)}`;
    if (takesVec4(dy.shape)) {
      const { symbolic, uniforms, declare } = uniformGeometry(geometry);
      return elementwiseVec4(backend, {
        name: KERNELS.depthwiseInputGrad,
        key: `lab_depthwise_input_grad_${k}_${geometry.stride}`,
        shape: outputShape,
        inputs: [['Dy', dy], ['Filter', filter]],
        uniforms,
        setup: `${declare}${filterTapsVec4(k)}`,
        body: `
          ${pixelCoordinates('(i / CHANNELS4)', symbolic.h, symbolic.w, ['iy', 'ix'])}
          ${sum(symbolic, 'CHANNELS4', 'vec4<f32>(0.0)', `taps[ky * ${k} + kx]`)}
          Out[i] = acc;`,
      });
    }
    const program = elementwise(`lab_depthwise_input_grad_${keyOf(geometry)}`, ['Dy', 'W'], outputShape, `
      ${pixelCoordinates('(index / CHANNELS)', h, w, ['iy', 'ix'])}
      ${sum(geometry, 'CHANNELS', '0.0', `W[(ky * ${k} + kx) * CHANNELS + c]`)}
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
    const { symbolic, uniforms, declare } = uniformGeometry(geometry);
    return elementwiseVec4(backend, {
      name: KERNELS.depthwiseConv,
      key: `lab_depthwise_conv_${k}_${geometry.stride}`,
      shape: [n, geometry.ho, geometry.wo, channels],
      inputs: [['X', x], ['Filter', filter]],
      uniforms,
      setup: `${declare}${filterTapsVec4(k)}`,
      body: `
        ${pixelCoordinates('(i / CHANNELS4)', symbolic.ho, symbolic.wo, ['oy', 'ox'])}
        var acc = vec4<f32>(0.0);
        ${forEachTapInInput(symbolic, `acc = acc + X[((b * ${symbolic.h} + iy) * ${symbolic.w} + ix) * CHANNELS4 + c] * taps[ky * ${k} + kx];`)}
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
    const { symbolic, uniforms, declare } = uniformGeometry(geometry);
    dispatchChannelReduction(backend, {
      name: KERNELS.depthwiseFilterGrad,
      key: `lab_depthwise_filter_grad_${k}_${geometry.stride}`,
      shape: dy.shape,
      vec4: true,
      buffers: [{ name: 'X', info: x, vec4: true }, { name: 'Dy', info: dy, vec4: true }, { name: 'DFilter', info: dFilter, write: true, vec4: true }],
      uniforms,
      body: `
        ${declare}
        var sums : array<T, ${k * k}>;
        for (var r = first; r < ROWS; r = r + WORKGROUP) {
          ${pixelCoordinates('r', symbolic.ho, symbolic.wo, ['oy', 'ox'])}
          let g = Dy[r * CHANNELS + c];
          ${forEachTapInInput(symbolic, `sums[ky * ${k} + kx] = sums[ky * ${k} + kx] + g * X[((b * ${symbolic.h} + iy) * ${symbolic.w} + ix) * CHANNELS + c];`)}
        }
        for (var t = 0; t < ${k * k}; t = t + 1) {
          let total = labReduceSum(sums[t]);
          if (localId.x == 0u) { DFilter[t * CHANNELS + c] = total; }
        }`,
    });
    return dFilter;
  },
};
