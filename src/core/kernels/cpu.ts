// The optimizer kernels of fused.ts (Adam's updates, GaLore's normalised step, x + a·y), batch norm's apply and backward, DoRA's
// weight norm and the dequantization of a quantized frozen base (these two also for the wasm backend)
// for tfjs's CPU backend (the unit tests' backend and the lab's last fallback): one output buffer per
// update instead of ~10 temporaries (or none: the multi-parameter Adam updates in place), so the step
// holds what the analytic profiler counts. Every operation is rounded to float32 as the plain tfjs ops
// round their outputs, so the optimizer's results equal the plain version's bit for bit (batch norm's
// sums and DoRA's norm accumulate in float64: equal to within float32 rounding).
import * as tf from '@tensorflow/tfjs';
import { codeAt, dequantizeCode, QUANT_BLOCK, type QuantizedValues } from '../quant/blockwise';
import { KERNELS } from './webgpu/names';

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array | null } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The part of tfjs-backend-wasm's BackendWasm the dequant kernel uses: tensors live on its heap. */
interface WasmBackendLike {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
const f32 = Math.fround;

function valuesOf(backend: unknown, info: tf.TensorInfo): Float32Array {
  return (backend as CpuBackendLike).data.get(info.dataId).values as Float32Array;
}

function int32ValuesOf(backend: unknown, info: tf.TensorInfo): Int32Array {
  return (backend as CpuBackendLike).data.get(info.dataId).values as unknown as Int32Array;
}

/** Gives `info` new values. The CPU backend hands out its own array when a tensor is read, so
 * an update "in place" replaces the array instead of writing into it: arrays read earlier keep
 * the values they had, as they would on WebGPU (where reading copies). */
function replaceValues(backend: unknown, info: tf.TensorInfo, values: Float32Array): void {
  (backend as CpuBackendLike).data.get(info.dataId).values = values;
}

/** Per channel c of a [.., C] tensor: 1/√(var + ε), rounded as tf.rsqrt(tf.add(var, ε)) rounds. */
function inverseStds(variance: Float32Array, eps: number): Float32Array {
  return variance.map((v) => f32(1 / Math.sqrt(f32(v + f32(eps)))));
}

/** x̂ and the batch norm's output before its activation, x̂·γ + β, with the plain ops' rounding: the
 * forward's values, so the backward's mask (recomputed from them) is the forward's own. */
const normalised = (x: number, mean: number, invStd: number) => f32(f32(x - mean) * invStd);
const affine = (xHat: number, gamma: number, beta: number) => f32(f32(xHat * gamma) + beta);

/** Where a relu or relu6 passes its gradient, from its input (torch: 0 at the kinks). */
const passes = (activation: string, v: number) => (activation === 'relu' ? v > 0 : v > 0 && v < 6);

/** The batch statistics' rows ([2, C]: mean, variance) or the running ones. */
function momentsOf(backend: unknown, inputs: Record<string, tf.TensorInfo | undefined>, channels: number): [Float32Array, Float32Array] {
  if (inputs.stats) {
    const stats = valuesOf(backend, inputs.stats);
    return [stats.subarray(0, channels), stats.subarray(channels, 2 * channels)];
  }
  return [valuesOf(backend, inputs.mean as tf.TensorInfo), valuesOf(backend, inputs.variance as tf.TensorInfo)];
}

const kernelFuncs: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  // Batch norm's apply (with its relu/relu6) and backward (with the activation's mask, fused.ts), one
  // output buffer each where the plain ops make 5–10 activation-sized temporaries: a conv that
  // recomputes its input in its backward then holds what the analytic profiler counts.
  [KERNELS.batchNormApply]: ({ inputs, backend, attrs }) => {
    const all = inputs as Record<string, tf.TensorInfo | undefined>;
    const x = all.x as tf.TensorInfo;
    const channels = x.shape[x.shape.length - 1];
    const [mean, variance] = momentsOf(backend, all, channels);
    const invStd = inverseStds(variance, attrs?.eps as number);
    const [xs, gamma, beta] = [x, all.gamma as tf.TensorInfo, all.beta as tf.TensorInfo].map((t) => valuesOf(backend, t));
    const activation = (attrs?.activation as string | undefined) ?? 'none';
    const out = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const c = i % channels;
      const v = affine(normalised(xs[i], mean[c], invStd[c]), gamma[c], beta[c]);
      out[i] = activation === 'relu' ? Math.max(v, 0) : activation === 'relu6' ? Math.min(Math.max(v, 0), 6) : v;
    }
    return (backend as CpuBackendLike).makeTensorInfo(x.shape, 'float32', out);
  },
  [KERNELS.batchNormGradSums]: ({ inputs, backend, attrs }) => {
    const { dy, x, stats, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    const channels = x.shape[x.shape.length - 1];
    const [mean, variance] = momentsOf(backend, { stats }, channels);
    const invStd = inverseStds(variance, attrs?.eps as number);
    const activation = (attrs?.activation as string | undefined) ?? 'none';
    const [dys, xs] = [dy, x].map((t) => valuesOf(backend, t));
    const [gammas, betas] = activation === 'none' ? [new Float32Array(0), new Float32Array(0)] : [valuesOf(backend, gamma), valuesOf(backend, beta)];
    const [sumDy, sumDyXHat] = [new Float64Array(channels), new Float64Array(channels)];
    for (let i = 0; i < xs.length; i++) {
      const c = i % channels;
      const xHat = normalised(xs[i], mean[c], invStd[c]);
      const g = activation === 'none' || passes(activation, affine(xHat, gammas[c], betas[c])) ? dys[i] : 0;
      sumDy[c] += g;
      sumDyXHat[c] += f32(g * xHat);
    }
    const cpu = backend as CpuBackendLike;
    return [cpu.makeTensorInfo([channels], 'float32', Float32Array.from(sumDy)), cpu.makeTensorInfo([channels], 'float32', Float32Array.from(sumDyXHat))] as unknown as tf.TensorInfo;
  },
  [KERNELS.batchNormInputGrad]: ({ inputs, backend, attrs }) => {
    const { dy, x, stats, gamma, beta, dBeta, dGamma } = inputs as Record<string, tf.TensorInfo>;
    const channels = x.shape[x.shape.length - 1];
    const [mean, variance] = momentsOf(backend, { stats }, channels);
    const invStd = inverseStds(variance, attrs?.eps as number);
    const count = f32(attrs?.count as number);
    const activation = (attrs?.activation as string | undefined) ?? 'none';
    const [dys, xs, gammas, dBetas, dGammas] = [dy, x, gamma, dBeta, dGamma].map((t) => valuesOf(backend, t));
    const betas = activation === 'none' ? new Float32Array(0) : valuesOf(backend, beta);
    // dx = g·a + x̂·b + c with a = γ/σ, b = −a·dγ/n, c = −a·dβ/n per channel (fused.ts).
    const a = gammas.map((g, c) => f32(g * invStd[c]));
    const b = a.map((ac, c) => f32(ac * f32(dGammas[c] / -count)));
    const shift = a.map((ac, c) => f32(ac * f32(dBetas[c] / -count)));
    const out = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const c = i % channels;
      const xHat = normalised(xs[i], mean[c], invStd[c]);
      const g = activation === 'none' || passes(activation, affine(xHat, gammas[c], betas[c])) ? dys[i] : 0;
      out[i] = f32(f32(f32(g * a[c]) + f32(xHat * b[c])) + shift[c]);
    }
    return (backend as CpuBackendLike).makeTensorInfo(x.shape, 'float32', out);
  },
  [KERNELS.adamMoment]: ({ inputs, backend, attrs }) => {
    const { moment, grad, param } = inputs as Record<string, tf.TensorInfo>;
    const [m, g, p] = [moment, grad, param].map((t) => valuesOf(backend, t));
    const beta = f32(attrs?.beta as number);
    const oneMinusBeta = f32(1 - (attrs?.beta as number));
    const decay = f32(attrs?.weightDecay as number);
    const square = Boolean(attrs?.square);
    const out = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) {
      const gi = decay !== 0 ? f32(g[i] + f32(p[i] * decay)) : g[i];
      const term = square ? f32(f32(gi * gi) * oneMinusBeta) : f32(gi * oneMinusBeta);
      out[i] = f32(f32(m[i] * beta) + term);
    }
    return (backend as CpuBackendLike).makeTensorInfo(moment.shape, 'float32', out);
  },
  [KERNELS.adamParam]: ({ inputs, backend, attrs }) => {
    const { param, expAvg, expAvgSq } = inputs as Record<string, tf.TensorInfo>;
    const [p, m, v] = [param, expAvg, expAvgSq].map((t) => valuesOf(backend, t));
    const stepSize = f32(attrs?.stepSize as number);
    const correction = f32(attrs?.biasCorrection2Sqrt as number);
    const eps = f32(attrs?.eps as number);
    const decay = f32(attrs?.decay as number);
    const out = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const denom = f32(f32(f32(Math.sqrt(v[i])) / correction) + eps);
      const decayed = decay === 1 ? p[i] : f32(p[i] * decay);
      out[i] = f32(decayed - f32(f32(m[i] / denom) * stepSize));
    }
    return (backend as CpuBackendLike).makeTensorInfo(param.shape, 'float32', out);
  },
  // fused.ts adamMulti, in place: each parameter's values and its slices of the moment arena
  // (new arrays, see replaceValues).
  [KERNELS.adamMulti]: ({ inputs, backend, attrs }) => {
    const all = inputs as Record<string, tf.TensorInfo>;
    const moments = Float32Array.from(valuesOf(backend, all.moments));
    const count = attrs?.count as number;
    const offsets = attrs?.offsets as number[];
    const half = attrs?.half as number;
    const [beta1, beta2] = [f32(attrs?.beta1 as number), f32(attrs?.beta2 as number)];
    const [oneMinusBeta1, oneMinusBeta2] = [f32(1 - (attrs?.beta1 as number)), f32(1 - (attrs?.beta2 as number))];
    const l2 = f32(attrs?.l2 as number);
    const stepSize = f32(attrs?.stepSize as number);
    const correction = f32(attrs?.biasCorrection2Sqrt as number);
    const eps = f32(attrs?.eps as number);
    const decay = f32(attrs?.decay as number);
    for (let k = 0; k < count; k++) {
      const p = Float32Array.from(valuesOf(backend, all[`param${k}`]));
      const g = valuesOf(backend, all[`grad${k}`]);
      const offset = offsets[k];
      for (let i = 0; i < p.length; i++) {
        const gi = l2 !== 0 ? f32(g[i] + f32(p[i] * l2)) : g[i];
        const m = f32(f32(moments[offset + i] * beta1) + f32(gi * oneMinusBeta1));
        const v = f32(f32(moments[half + offset + i] * beta2) + f32(f32(gi * gi) * oneMinusBeta2));
        moments[offset + i] = m;
        moments[half + offset + i] = v;
        const denom = f32(f32(f32(Math.sqrt(v)) / correction) + eps);
        const decayed = decay === 1 ? p[i] : f32(p[i] * decay);
        p[i] = f32(decayed - f32(f32(m / denom) * stepSize));
      }
      replaceValues(backend, all[`param${k}`], p);
    }
    replaceValues(backend, all.moments, moments);
    return [] as unknown as tf.TensorInfo;
  },
  // fused.ts adamDirection: the moments replaced (see replaceValues), the normalised step returned.
  [KERNELS.adamDirection]: ({ inputs, backend, attrs }) => {
    const { expAvg, expAvgSq, grad } = inputs as Record<string, tf.TensorInfo>;
    const g = valuesOf(backend, grad);
    const m = Float32Array.from(valuesOf(backend, expAvg));
    const v = Float32Array.from(valuesOf(backend, expAvgSq));
    const [beta1, beta2] = [f32(attrs?.beta1 as number), f32(attrs?.beta2 as number)];
    const [oneMinusBeta1, oneMinusBeta2] = [f32(1 - (attrs?.beta1 as number)), f32(1 - (attrs?.beta2 as number))];
    const correction = f32(attrs?.biasCorrection2Sqrt as number);
    const eps = f32(attrs?.eps as number);
    const out = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) {
      m[i] = f32(f32(m[i] * beta1) + f32(g[i] * oneMinusBeta1));
      v[i] = f32(f32(v[i] * beta2) + f32(f32(g[i] * g[i]) * oneMinusBeta2));
      out[i] = f32(m[i] / f32(f32(f32(Math.sqrt(v[i])) / correction) + eps));
    }
    replaceValues(backend, expAvg, m);
    replaceValues(backend, expAvgSq, v);
    return (backend as CpuBackendLike).makeTensorInfo(grad.shape, 'float32', out);
  },
  [KERNELS.dequantize]: ({ inputs, backend, attrs }) => {
    const { codes, scales } = inputs as Record<string, tf.TensorInfo>;
    const shape = attrs?.shape as number[];
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    dequantizeInto(out, attrs?.format as QuantizedValues['format'], int32ValuesOf(backend, codes), valuesOf(backend, scales));
    return (backend as CpuBackendLike).makeTensorInfo(shape, 'float32', out);
  },
  // fused.ts compositeNorm: ‖W + s·AB‖ per output channel.
  [KERNELS.doraNorm]: ({ inputs, backend, attrs }) => {
    const { weight, loraA, loraB } = inputs as Record<string, tf.TensorInfo>;
    const out = new Float32Array(weight.shape[1]);
    compositeNormInto(out, valuesOf(backend, weight), valuesOf(backend, loraA), valuesOf(backend, loraB), loraA.shape[1], attrs?.scaling as number);
    return (backend as CpuBackendLike).makeTensorInfo([out.length], 'float32', out);
  },
  [KERNELS.addScaled]: ({ inputs, backend, attrs }) => {
    const { x, y } = inputs as Record<string, tf.TensorInfo>;
    const [xs, ys] = [x, y].map((t) => valuesOf(backend, t));
    const a = f32(attrs?.a as number);
    const out = new Float32Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = f32(xs[i] + f32(ys[i] * a));
    return (backend as CpuBackendLike).makeTensorInfo(x.shape, 'float32', out);
  },
};

/** webgpu.ts's dequantize, value by value with quant/blockwise.ts's own rounding. */
function dequantizeInto(out: Float32Array, format: QuantizedValues['format'], codes: Int32Array, absmax: Float32Array): void {
  const quantized: Pick<QuantizedValues, 'format' | 'codes'> = { format, codes };
  for (let i = 0; i < out.length; i++) out[i] = dequantizeCode(format, codeAt(quantized, i), absmax[Math.floor(i / QUANT_BLOCK)]);
}

/** ‖W + s·AB‖ per output channel j (W [K, C], A [K, r], B [r, C]), each W + s·AB value formed and
 * squared in float64 and the norm rounded once: no weight-sized buffer. */
function compositeNormInto(out: Float32Array, w: Float32Array, a: Float32Array, b: Float32Array, rank: number, scaling: number): void {
  const channels = out.length;
  const squares = new Float64Array(channels);
  for (let i = 0; i < w.length / channels; i++) {
    for (let j = 0; j < channels; j++) {
      let delta = 0;
      for (let k = 0; k < rank; k++) delta += a[i * rank + k] * b[k * channels + j];
      const value = w[i * channels + j] + scaling * delta;
      squares[j] += value * value;
    }
  }
  for (let j = 0; j < channels; j++) out[j] = Math.sqrt(squares[j]);
}

/** fused.ts compositeNorm on the wasm backend (the CLI's default), on its heap. */
const compositeNormWasm = ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
  const wasm = backend as unknown as WasmBackendLike;
  const { weight, loraA, loraB } = inputs as Record<string, tf.TensorInfo>;
  const out = wasm.makeOutput([weight.shape[1]], 'float32');
  const [w, a, b] = [weight, loraA, loraB].map((info) => wasm.typedArrayFromHeap(info) as Float32Array);
  compositeNormInto(wasm.typedArrayFromHeap(out) as Float32Array, w, a, b, loraA.shape[1], attrs?.scaling as number);
  return out;
};

/** The same on tfjs's wasm backend (the CLI's default), reading and writing its heap: its own int32
 * ops run in float32 and cannot unpack a word exactly. */
const dequantizeWasm = ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
  const wasm = backend as unknown as WasmBackendLike;
  const { codes, scales } = inputs as Record<string, tf.TensorInfo>;
  const out = wasm.makeOutput(attrs?.shape as number[], 'float32');
  dequantizeInto(wasm.typedArrayFromHeap(out) as Float32Array, attrs?.format as QuantizedValues['format'], wasm.typedArrayFromHeap(codes) as Int32Array, wasm.typedArrayFromHeap(scales) as Float32Array);
  return out;
};

let registered = false;

/** Registers the kernels for the 'cpu' backend (once). */
export function registerCpuKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of Object.entries(kernelFuncs)) {
    tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: kernelFunc as tf.KernelFunc });
  }
  tf.registerKernel({ kernelName: KERNELS.dequantize, backendName: 'wasm', kernelFunc: dequantizeWasm as tf.KernelFunc });
  tf.registerKernel({ kernelName: KERNELS.doraNorm, backendName: 'wasm', kernelFunc: compositeNormWasm as tf.KernelFunc });
}
