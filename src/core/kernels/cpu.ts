// The optimizer kernels of fused.ts (Adam's updates, x + a·y) and the dequantization of a quantized
// frozen base (also for the wasm backend) for tfjs's CPU backend (the unit tests' backend and the lab's
// last fallback): one output buffer per update instead of ~10 temporaries (or none: the
// multi-parameter Adam updates in place), so the optimizer phase holds what the analytic profiler
// counts. Every operation is rounded to float32 as the plain
// tfjs ops round their outputs, so the results equal the plain version's bit for bit.
import * as tf from '@tensorflow/tfjs';
import { codeAt, dequantizeCode, QUANT_BLOCK, type QuantizedValues } from '../quant/blockwise';
import { KERNELS } from './webgpu';

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

const kernelFuncs: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
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
  [KERNELS.dequantize]: ({ inputs, backend, attrs }) => {
    const { codes, scales } = inputs as Record<string, tf.TensorInfo>;
    const shape = attrs?.shape as number[];
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    dequantizeInto(out, attrs?.format as QuantizedValues['format'], int32ValuesOf(backend, codes), valuesOf(backend, scales));
    return (backend as CpuBackendLike).makeTensorInfo(shape, 'float32', out);
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
}
