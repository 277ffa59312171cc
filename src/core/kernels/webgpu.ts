// WebGPU kernels for the engine's per-channel and elementwise hot spots (fused.ts calls them).
//
// On WebGPU, tfjs runs batch norm and the activations' gradients as chains of generic kernels, and
// its broadcasting binary ops (x·γ with γ per channel) decode a 4-D coordinate per element: on
// SwiftShader a broadcast Multiply of an [8, 32, 32, 48] tensor took ~110 ms where an elementwise
// one took ~2 ms. These kernels do each job in one pass, reading the channel as `index % CHANNELS` with CHANNELS
// a shader constant (a division by a constant compiles to a multiply).
//
// Each is registered for the 'webgpu' backend only; fused.ts falls back to plain tfjs ops (the
// reference the e2e test compares these kernels with) on every other backend.
import * as tf from '@tensorflow/tfjs';
import { NF4_CODE_BOOK, QUANT_BLOCK } from '../quant/blockwise';
import { dispatchRaw, MAX_WORKGROUPS, newDeviceTensor, type RawBuffer, type RawUniform } from './webgpuRaw';

/** The part of tfjs-backend-webgpu's program interface these kernels use (webgpu_program.ts). */
interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode: () => string;
}

interface ProgramUniform {
  type: 'float32' | 'int32';
  data: number[];
}

interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: ProgramUniform[]): tf.TensorInfo;
}

export const KERNELS = {
  batchMoments: 'LabBatchMoments',
  batchNormApply: 'LabBatchNormApply',
  batchNormGradSums: 'LabBatchNormGradSums',
  batchNormInputGrad: 'LabBatchNormInputGrad',
  activation: 'LabActivation',
  activationGrad: 'LabActivationGrad',
  matMul: 'LabMatMul',
  spatialMean: 'LabSpatialMean',
  adamMoment: 'LabAdamMoment',
  adamParam: 'LabAdamParam',
  adamMulti: 'LabAdamMulti',
  addScaled: 'LabAddScaled',
  channelAffine: 'LabChannelAffine',
  channelSums: 'LabChannelSums',
  conv2d: 'LabConv2D',
  depthwiseInputGrad: 'LabDepthwiseInputGrad',
  depthwiseConv: 'LabDepthwiseConv',
  depthwiseFilterGrad: 'LabDepthwiseFilterGrad',
  layerNorm: 'LabLayerNorm',
  layerNormGradSums: 'LabLayerNormGradSums',
  layerNormInputGrad: 'LabLayerNormInputGrad',
  dequantize: 'LabDequantize',
} as const;

const ELEMENTWISE_WORKGROUP = 128;
/** Most invocations per workgroup of a per-channel reduction (one workgroup per channel). */
const MAX_REDUCE_WORKGROUP = 64;

const channelsOf = (shape: readonly number[]) => shape[shape.length - 1];

/** An elementwise program over `shape`: `body` sees `index` and, when `perChannel`, `c` (the channel)
 * and the constant `CHANNELS` (one shader per channel count). */
function elementwise(name: string, variableNames: string[], shape: number[], body: string, uniforms = '', perChannel = true, helpers = ''): WebGpuProgram {
  const size = sizeOf(shape);
  const channels = channelsOf(shape);
  return {
    variableNames,
    outputShape: shape,
    shaderKey: perChannel ? `${name}_${channels}` : name,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / ELEMENTWISE_WORKGROUP), 1, 1],
    workgroupSize: [ELEMENTWISE_WORKGROUP, 1, 1],
    size: true,
    uniforms: uniforms || undefined,
    getUserCode: () => `
      ${perChannel ? `const CHANNELS = ${channels};` : ''}
      ${helpers}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${perChannel ? 'let c = index % CHANNELS;' : ''}
          ${body}
        }
      }`,
  };
}

/** Whether a per-channel kernel can take four channels at once (one vec4 per invocation): the
 * channel count is a multiple of 4, as at every width of the lab's CNNs (not at odd test shapes).
 * On SwiftShader a vec4 load costs about what a scalar one does, and the per-channel reductions'
 * strided reads touch a quarter of the cache lines, so these kernels run several times faster. */
const takesVec4 = (shape: readonly number[]) => channelsOf(shape) % 4 === 0;

/** A per-channel reduction over all other axes of `shape` as a raw dispatch (webgpuRaw.ts), one
 * workgroup per channel (or, with `vec4`, per four channels), writing its results into the buffers
 * bound read_write. `body` sees `c`, `first` (this invocation's first row), `ROWS`, the constants
 * `CHANNELS` (in elements of the per-channel bindings: C, or C/4 with `vec4`) and `WORKGROUP`, the
 * type `T` (f32, or vec4<f32>; `T()` is zero, `T(v)` a splat), and `labReduceSum(v : T)` (the
 * workgroup's sum of v, in uniform control flow). With `vec4`, the caller binds its per-channel
 * buffers `vec4`. The workgroup shrinks with the rows (~32 rows per invocation, 1–64
 * invocations): on SwiftShader a barrier costs far more than a few sequential adds, and small
 * late-network tensors have few rows per channel. */
function dispatchChannelReduction(
  backend: unknown,
  { name, key, shape, vec4, buffers, uniforms, body }: { name: string; key: string; shape: readonly number[]; vec4: boolean; buffers: RawBuffer[]; uniforms: RawUniform[]; body: string },
): void {
  const channels = channelsOf(shape) / (vec4 ? 4 : 1);
  const rows = rowsOf(shape);
  const workgroup = reductionWorkgroup(rows);
  dispatchRaw(backend, {
    name,
    key: `${key}_${channels}_${workgroup}_${vec4 ? 'vec4' : 'f32'}`,
    buffers,
    // Rows are a uniform, not a constant: one pipeline serves every batch size.
    uniforms: [{ name: 'rows', type: 'i32', value: rows }, ...uniforms],
    workgroupSize: workgroup,
    workgroups: channels,
    header: `
      alias T = ${vec4 ? 'vec4<f32>' : 'f32'};
      const CHANNELS = ${channels};
      const WORKGROUP = ${workgroup};
      ${reduceSumHeader(workgroup)}`,
    body: `
      lane = localId.x;
      let ROWS = uniforms.rows;
      let c = i32(workgroupId.x);
      let first = i32(localId.x);
      ${body}`,
  });
}

/** `labReduceSum(v : T)`: the sum of v over a workgroup of `workgroup` invocations, in uniform
 * control flow; main must first set `lane = localId.x`, and the header alias the type T. */
function reduceSumHeader(workgroup: number): string {
  return `
      var<workgroup> labPartial : array<T, ${workgroup}>;
      var<private> lane : u32;
      fn labReduceSum(v : T) -> T {
        labPartial[lane] = v;
        workgroupBarrier();
        for (var s = ${Math.floor(workgroup / 2)}u; s > 0u; s = s >> 1u) {
          if (lane < s) { labPartial[lane] = labPartial[lane] + labPartial[lane + s]; }
          workgroupBarrier();
        }
        let total = labPartial[0];
        workgroupBarrier();
        return total;
      }`;
}

/** Σ dy and Σ dy·x per channel (the last axis) in one reduction, as two [C] tensors; with the
 * batch statistics ([2, C]), x is normalised first: Σ dy·x̂, x̂ = (x − mean)/√(var + ε); with an
 * activation the batch norm applied (`masked`), dy is first multiplied by its mask at x̂·γ + β. */
function dyAndDyXSums(
  backend: unknown,
  name: string,
  dy: tf.TensorInfo,
  x: tf.TensorInfo,
  normalise?: { stats: tf.TensorInfo; eps: number; masked?: MaskedBy },
): tf.TensorInfo {
  const channels = channelsOf(x.shape);
  const vec4 = takesVec4(x.shape);
  const sumDy = newDeviceTensor(backend, [channels]);
  const sumDyX = newDeviceTensor(backend, [channels]);
  const masked = normalise?.masked;
  dispatchChannelReduction(backend, {
    name,
    key: `lab_dy_dyx_sums_${normalise !== undefined}_${masked?.activation ?? 'none'}`,
    shape: x.shape,
    vec4,
    buffers: [
      { name: 'Dy', info: dy, vec4 },
      { name: 'X', info: x, vec4 },
      ...(normalise ? [{ name: 'Stats', info: normalise.stats, vec4 }] : []),
      ...(masked ? [{ name: 'Gamma', info: masked.gamma, vec4 }, { name: 'Beta', info: masked.beta, vec4 }] : []),
      { name: 'SumDy', info: sumDy, write: true, vec4 },
      { name: 'SumDyX', info: sumDyX, write: true, vec4 },
    ],
    uniforms: normalise ? [{ name: 'eps', type: 'f32', value: normalise.eps }] : [],
    body: `
      ${normalise ? 'let m = Stats[c];\n      let invStd = inverseSqrt(Stats[CHANNELS + c] + T(uniforms.eps));' : ''}
      ${masked ? 'let gamma = Gamma[c];\n      let beta = Beta[c];' : ''}
      var sumDy = T();
      var sumDyX = T();
      for (var r = first; r < ROWS; r = r + WORKGROUP) {
        let i = r * CHANNELS + c;
        let xv = ${normalise ? '(X[i] - m) * invStd' : 'X[i]'};
        let g = ${masked ? `select(T(), Dy[i], ${MASK_OF[masked.activation]('xv * gamma + beta')})` : 'Dy[i]'};
        sumDy = sumDy + g;
        sumDyX = sumDyX + g * xv;
      }
      let totalDy = labReduceSum(sumDy);
      let totalDyX = labReduceSum(sumDyX);
      if (localId.x == 0u) { SumDy[c] = totalDy; SumDyX[c] = totalDyX; }`,
  });
  return [sumDy, sumDyX] as unknown as tf.TensorInfo;
}

/** The activation a batch norm applied, whose mask its backward applies to dy (models/fusion.ts). */
interface MaskedBy {
  activation: 'relu' | 'relu6';
  gamma: tf.TensorInfo;
  beta: tf.TensorInfo;
}

/** The activation a batch norm's backward masks dy by (attrs.activation, with γ and β bound), if any. */
function maskedBy(attrs: KernelArgs['attrs'], gamma: tf.TensorInfo | undefined, beta: tf.TensorInfo | undefined): MaskedBy | undefined {
  const activation = attrs?.activation as string | undefined;
  if (activation === undefined || activation === 'none') return undefined;
  if (activation !== 'relu' && activation !== 'relu6') throw new Error(`batch norm backward: no fused activation ${activation}`);
  if (!gamma || !beta) throw new Error('batch norm backward: a masked gradient needs γ and β');
  return { activation, gamma, beta };
}

/** Where a relu or relu6 passes the gradient, as a WGSL condition on its input v (f32 or vec4, the
 * batch norm's output recomputed as x̂·γ + β, the forward's own arithmetic): torch's 0 at the kinks. */
const MASK_OF: Record<MaskedBy['activation'], (v: string) => string> = {
  relu: (v) => `(${v}) > T()`,
  relu6: (v) => `((${v}) > T()) & ((${v}) < T(6.0))`,
};

/** A power of two, ~32 rows per invocation, at most MAX_REDUCE_WORKGROUP. */
function reductionWorkgroup(rows: number): number {
  let size = 1;
  while (size < MAX_REDUCE_WORKGROUP && size * 2 * 32 <= rows) size *= 2;
  return size;
}

const rowsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1) / channelsOf(shape);

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Invocations per workgroup of a vec4 elementwise dispatch, and most workgroups it asks for: each
 * invocation loops over the vec4s a whole grid apart. On SwiftShader fewer, longer invocations cost
 * less, and a GPU is still busy with 128 × 64 invocations on these memory-bound passes. */
const VEC4_WORKGROUP = 64;
const MAX_VEC4_WORKGROUPS = 128;

/**
 * An elementwise raw dispatch over `shape` (its size a multiple of 4), one vec4 at a time: every
 * input and the output `Out` are bound as array<vec4<f32>>, and `body` sees the vec4 index `i`.
 * With `perChannel` (the default; the channel count then a multiple of 4), the grid is a whole
 * number of rows of C/4 vec4s, so an invocation always meets the same four channels: `setup` runs
 * once per invocation and reads that channel vec4's per-channel values (index `c`, constant
 * `CHANNELS4` = C/4), and `body` only reads and writes the elements. Returns `Out`.
 */
function elementwiseVec4(
  backend: unknown,
  { name, key, shape, inputs, uniforms = [], header = '', setup = '', body, perChannel = true }: { name: string; key: string; shape: readonly number[]; inputs: [string, tf.TensorInfo][]; uniforms?: RawUniform[]; header?: string; setup?: string; body: string; perChannel?: boolean },
): tf.TensorInfo {
  const count4 = sizeOf(shape) / 4;
  const out = newDeviceTensor(backend, [...shape]);
  const channels4 = perChannel ? channelsOf(shape) / 4 : 1;
  // At least one invocation per channel vec4, so the grid holds a whole row.
  const workgroups = Math.max(Math.min(Math.ceil(count4 / VEC4_WORKGROUP), MAX_VEC4_WORKGROUPS), Math.ceil(channels4 / VEC4_WORKGROUP), 1);
  dispatchRaw(backend, {
    name,
    key: perChannel ? `${key}_${channels4}` : key,
    buffers: [...inputs.map(([bufferName, info]) => ({ name: bufferName, info, vec4: true })), { name: 'Out', info: out, write: true, vec4: true }],
    uniforms: [{ name: 'count4', type: 'i32', value: count4 }, ...uniforms],
    workgroupSize: VEC4_WORKGROUP,
    workgroups,
    header: `const CHANNELS4 = ${channels4};
      ${header}`,
    body: `
      // The grid, rounded down to whole rows of CHANNELS4: invocation g meets only channel vec4 g % CHANNELS4.
      let stride = (i32(numWorkgroups.x) * ${VEC4_WORKGROUP} / CHANNELS4) * CHANNELS4;
      let first = i32(globalId.x);
      if (first >= stride) { return; }
      let c = first % CHANNELS4;
      ${setup}
      for (var i = first; i < uniforms.count4; i = i + stride) {
        ${body}
      }`,
  });
  return out;
}

/** An elementwiseVec4 setup that reads a depthwise filter's k·k taps ([k, k, C, 1], bound
 * `Filter`) for the invocation's four channels into `taps`. */
const filterTapsVec4 = (k: number) => `
          var taps : array<vec4<f32>, ${k * k}>;
          for (var t = 0; t < ${k * k}; t = t + 1) { taps[t] = Filter[t * CHANNELS4 + c]; }`;

/** `statement(k)` for each component k of a vec4 (x, y, z, w): a scalar expression applied per lane. */
const perComponent = (statement: (k: string) => string) => ['x', 'y', 'z', 'w'].map(statement).join('\n          ');

function run(backend: unknown, program: WebGpuProgram, inputs: tf.TensorInfo[], uniforms?: ProgramUniform[]): tf.TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, inputs, 'float32', uniforms);
}

/** Below this many 4×4 tiles of C, an Aᵀ·B (matMulTransposeAVec4) splits each tile's rows across a
 * workgroup: one invocation per tile would leave most of the device idle (24 tiles for the
 * [8192, 8]ᵀ·[8192, 48] weight gradient of MobileNetV2's first expansion). */
const MIN_TILES_PER_INVOCATION = 256;

/**
 * C = A·B, A·Bᵀ or Aᵀ·B (`layout` nn, nt, tn; M, K, N multiples of 4): each invocation computes a
 * 4×4 tile of C in registers, reading A and B four values at a time: 8 vec4 loads per 64
 * multiply-adds (nn, nt) or 2 per 16 (tn), where the scalar kernel makes 5 loads per 4. No shared
 * memory and no barriers: on SwiftShader the CPU's caches do the reuse a GPU's tiles would.
 */
function matMulTiledVec4(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, m: number, k: number, n: number, layout: 'nn' | 'nt' | 'tn'): tf.TensorInfo {
  const out = newDeviceTensor(backend, [m, n]);
  const tiles = (m / 4) * (n / 4);
  const rows = [0, 1, 2, 3];
  const declare = (name: string) => rows.map((r) => `var ${name}${r} = vec4<f32>(0.0);`).join(' ');
  // nn: row r of the tile += Σ over four k of a_r[k]·(B's row k, four columns); nt: the four
  // columns' dot products with a_r; tn: one k at a time, the outer product of A's and B's rows.
  const loop = {
    nn: `for (var k4 = 0; k4 < K4; k4 = k4 + 1) {
          ${rows.map((r) => `let a${r} = A[(i4 * 4 + ${r}) * K4 + k4];`).join(' ')}
          ${rows.map((q) => `let b${q} = B[(k4 * 4 + ${q}) * N4 + j4];`).join(' ')}
          ${rows.map((r) => `acc${r} = acc${r} + a${r}.x * b0 + a${r}.y * b1 + a${r}.z * b2 + a${r}.w * b3;`).join('\n          ')}
        }`,
    nt: `for (var k4 = 0; k4 < K4; k4 = k4 + 1) {
          ${rows.map((r) => `let a${r} = A[(i4 * 4 + ${r}) * K4 + k4];`).join(' ')}
          ${rows.map((c) => `let b${c} = B[(j4 * 4 + ${c}) * K4 + k4];`).join(' ')}
          ${rows.map((r) => `acc${r} = acc${r} + vec4<f32>(dot(a${r}, b0), dot(a${r}, b1), dot(a${r}, b2), dot(a${r}, b3));`).join('\n          ')}
        }`,
    tn: `for (var r = 0; r < K; r = r + 1) {
          let av = A[r * M4 + i4];
          let bv = B[r * N4 + j4];
          acc0 = acc0 + av.x * bv; acc1 = acc1 + av.y * bv; acc2 = acc2 + av.z * bv; acc3 = acc3 + av.w * bv;
        }`,
  }[layout];
  dispatchRaw(backend, {
    name: KERNELS.matMul,
    key: `lab_matmul_tiled_${m}_${k}_${n}_${layout}`,
    buffers: [{ name: 'A', info: a, vec4: true }, { name: 'B', info: b, vec4: true }, { name: 'Out', info: out, write: true, vec4: true }],
    uniforms: [{ name: 'tiles', type: 'i32', value: tiles }],
    workgroupSize: VEC4_WORKGROUP,
    workgroups: Math.max(1, Math.min(Math.ceil(tiles / VEC4_WORKGROUP), MAX_VEC4_WORKGROUPS)),
    header: `const K = ${k}; const K4 = ${k / 4}; const M4 = ${m / 4}; const N4 = ${n / 4};`,
    body: `
      let stride = i32(numWorkgroups.x) * ${VEC4_WORKGROUP};
      for (var t = i32(globalId.x); t < uniforms.tiles; t = t + stride) {
        let i4 = t / N4;
        let j4 = t % N4;
        ${declare('acc')}
        ${loop}
        ${rows.map((r) => `Out[(i4 * 4 + ${r}) * N4 + j4] = acc${r};`).join(' ')}
      }`,
  });
  return out;
}

/**
 * C = Aᵀ·B (A [K, M], B [K, N]; M, K, N multiples of 4): the weight gradients of 1×1 convs and
 * linear layers, a small C summed over many rows K. A channel-reduction layout: one workgroup per
 * 4×4 tile of C, its invocations splitting the rows and each adding the outer products of its
 * rows' four A values and four B values (2 vec4 loads per 16 multiply-adds), then one workgroup
 * sum per tile row.
 */
function matMulTransposeAVec4(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, m: number, k: number, n: number): tf.TensorInfo {
  const out = newDeviceTensor(backend, [m, n]);
  const workgroup = reductionWorkgroup(k);
  const [m4, n4] = [m / 4, n / 4];
  const rows = [0, 1, 2, 3];
  dispatchRaw(backend, {
    name: KERNELS.matMul,
    key: `lab_matmul_ta_${m}_${n}_${workgroup}`,
    buffers: [{ name: 'A', info: a, vec4: true }, { name: 'B', info: b, vec4: true }, { name: 'Out', info: out, write: true, vec4: true }],
    uniforms: [{ name: 'rows', type: 'i32', value: k }],
    workgroupSize: workgroup,
    workgroups: m4 * n4,
    header: `
      alias T = vec4<f32>;
      const M4 = ${m4}; const N4 = ${n4};
      ${reduceSumHeader(workgroup)}`,
    body: `
      lane = localId.x;
      let i4 = i32(workgroupId.x) / N4;
      let j4 = i32(workgroupId.x) % N4;
      ${rows.map((r) => `var acc${r} = vec4<f32>(0.0);`).join(' ')}
      for (var r = i32(localId.x); r < uniforms.rows; r = r + ${workgroup}) {
        let av = A[r * M4 + i4];
        let bv = B[r * N4 + j4];
        acc0 = acc0 + av.x * bv; acc1 = acc1 + av.y * bv; acc2 = acc2 + av.z * bv; acc3 = acc3 + av.w * bv;
      }
      ${rows.map((r) => `let total${r} = labReduceSum(acc${r});`).join(' ')}
      if (localId.x == 0u) {
        ${rows.map((r) => `Out[(i4 * 4 + ${r}) * N4 + j4] = total${r};`).join(' ')}
      }`,
  });
  return out;
}

/** Activation bodies: forward from the input `v`, gradient factor from what the forward saved
 * (relu, relu6, hardsigmoid: the output; hardswish: the input), with torch's values at the kinks. */
const ACTIVATION_FORWARD: Record<string, string> = {
  hardswish: 'v * (clamp(v + 3.0, 0.0, 6.0) / 6.0)',
  hardsigmoid: 'clamp(v + 3.0, 0.0, 6.0) / 6.0',
  gelu: 'v * labNormalCdf(v)',
};
const ACTIVATION_GRAD_FACTOR: Record<string, string> = {
  relu: 'select(0.0, 1.0, s > 0.0)',
  relu6: 'select(0.0, 1.0, s > 0.0 && s < 6.0)',
  hardsigmoid: 'select(0.0, 1.0, s > 0.0 && s < 1.0) / 6.0',
  hardswish: 'select(0.0, 1.0, s > 3.0) + select(0.0, s / 3.0 + 0.5, s >= -3.0 && s <= 3.0)',
  gelu: 'labNormalCdf(s) + s * exp(-0.5 * s * s) * 0.3989422804014327',
};

/** Φ(v) = (1 + erf(v/√2))/2 with tfjs's erf (Abramowitz–Stegun 7.1.26, its constants), for gelu. */
const NORMAL_CDF = `
      fn labNormalCdf(v : f32) -> f32 {
        let z = abs(v) * 0.7071067811865476;
        let t = 1.0 / (1.0 + 0.3275911 * z);
        let e = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
        return 0.5 * (1.0 + sign(v) * e);
      }`;

type KernelArgs = Parameters<tf.KernelFunc>[0];

const kernelFuncs: Record<(typeof KERNELS)[keyof typeof KERNELS], (args: KernelArgs) => tf.TensorInfo> = {
  // [2, C]: mean and biased variance, two passes as tf.moments (raw: one workgroup per channel).
  // With the running statistics bound, the same dispatch updates them in place as torch does,
  // running ← (1 − m)·running + m·batch with the unbiased variance (n/(n − 1)).
  [KERNELS.batchMoments]: ({ inputs, backend, attrs }) => {
    const { x, runningMean, runningVar } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    const rows = rowsOf(input.shape);
    const update = runningMean !== undefined && runningVar !== undefined;
    const stats = newDeviceTensor(backend, [2, channelsOf(input.shape)]);
    const momentum = (attrs?.momentum as number | undefined) ?? 0;
    const vec4 = takesVec4(input.shape);
    dispatchChannelReduction(backend, {
      name: KERNELS.batchMoments,
      key: `lab_batch_moments_${update}`,
      shape: input.shape,
      vec4,
      buffers: [
        { name: 'X', info: input, vec4 },
        { name: 'Stats', info: stats, write: true, vec4 },
        ...(update ? [{ name: 'RunningMean', info: runningMean, write: true, vec4 }, { name: 'RunningVar', info: runningVar, write: true, vec4 }] : []),
      ],
      uniforms: update
        ? [
            { name: 'keep', type: 'f32', value: 1 - momentum },
            { name: 'momentum', type: 'f32', value: momentum },
            { name: 'varianceFactor', type: 'f32', value: (momentum * rows) / (rows - 1) },
          ]
        : [],
      body: `
        var s = T();
        for (var r = first; r < ROWS; r = r + WORKGROUP) { s = s + X[r * CHANNELS + c]; }
        let mean = labReduceSum(s) / f32(ROWS);
        var q = T();
        for (var r = first; r < ROWS; r = r + WORKGROUP) { let d = X[r * CHANNELS + c] - mean; q = q + d * d; }
        let variance = labReduceSum(q) / f32(ROWS);
        if (localId.x == 0u) {
          Stats[c] = mean;
          Stats[CHANNELS + c] = variance;
          ${update ? `RunningMean[c] = RunningMean[c] * uniforms.keep + mean * uniforms.momentum;
          RunningVar[c] = RunningVar[c] * uniforms.keep + variance * uniforms.varianceFactor;` : ''}
        }`,
    });
    return stats;
  },
  // (x − mean)·1/√(var + ε)·γ + β, the mean and variance from a [2, C] Stats (training) or two
  // [C] tensors (running statistics), then the relu or relu6 that follows it, if any.
  [KERNELS.batchNormApply]: ({ inputs, backend, attrs }) => {
    const { x, stats, mean, variance, gamma, beta } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    const moments = stats ? { names: ['Stats'], infos: [stats], mean: 'Stats[c]', variance: 'Stats[CHANNELS + c]' } : { names: ['Mean', 'Variance'], infos: [mean, variance], mean: 'Mean[c]', variance: 'Variance[c]' };
    const activation = (attrs?.activation as string | undefined) ?? 'none';
    const eps = attrs?.eps as number;
    if (takesVec4(input.shape)) {
      const activate = { none: 'v', relu: 'max(v, vec4<f32>(0.0))', relu6: 'clamp(v, vec4<f32>(0.0), vec4<f32>(6.0))' }[activation];
      if (!activate) throw new Error(`${KERNELS.batchNormApply}: no fused activation ${activation}`);
      const mean4 = stats ? 'Stats[c]' : 'Mean[c]';
      const variance4 = stats ? 'Stats[CHANNELS4 + c]' : 'Variance[c]';
      return elementwiseVec4(backend, {
        name: KERNELS.batchNormApply,
        key: `lab_bn_apply_${moments.names.length}_${activation}`,
        shape: input.shape,
        inputs: [['X', input], ...moments.names.map((name, i): [string, tf.TensorInfo] => [name, moments.infos[i] as tf.TensorInfo]), ['Gamma', gamma as tf.TensorInfo], ['Beta', beta as tf.TensorInfo]],
        uniforms: [{ name: 'eps', type: 'f32', value: eps }],
        setup: `
          let mean = ${mean4};
          let invStd = inverseSqrt(${variance4} + vec4<f32>(uniforms.eps));
          let gamma = Gamma[c];
          let beta = Beta[c];`,
        body: `
          let v = (X[i] - mean) * invStd * gamma + beta;
          Out[i] = ${activate};`,
      });
    }
    const activate = { none: 'v', relu: 'max(v, 0.0)', relu6: 'clamp(v, 0.0, 6.0)' }[activation];
    if (!activate) throw new Error(`${KERNELS.batchNormApply}: no fused activation ${activation}`);
    const program = elementwise(`lab_bn_apply_${moments.names.length}_${activation}`, ['X', ...moments.names, 'Gamma', 'Beta'], input.shape, `
      let invStd = inverseSqrt(${moments.variance} + uniforms.eps);
      let v = (X[index] - ${moments.mean}) * invStd * Gamma[c] + Beta[c];
      setOutputAtIndex(index, ${activate});`, 'eps : f32,');
    return run(backend, program, [input, ...(moments.infos as tf.TensorInfo[]), gamma as tf.TensorInfo, beta as tf.TensorInfo], [{ type: 'float32', data: [eps] }]);
  },
  // Σ dy and Σ dy·x̂ per channel (x̂ = (x − mean)/√(var + ε)), as two [C] tensors: dβ and dγ. With
  // an `activation` the batch norm applied, dy is its output's gradient, masked here (maskedBy).
  [KERNELS.batchNormGradSums]: ({ inputs, backend, attrs }) => {
    const { dy, x, stats, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    return dyAndDyXSums(backend, KERNELS.batchNormGradSums, dy, x, { stats, eps: attrs?.eps as number, masked: maskedBy(attrs, gamma, beta) });
  },
  // dx = dy·a + x̂·b + c with a = γ/σ, b = −a·dγ/n, c = −a·dβ/n (batchnorm.ts); with an
  // `activation`, dy masked first as in the sums.
  [KERNELS.batchNormInputGrad]: ({ inputs, backend, attrs }) => {
    const { dy, x, stats, gamma, beta, dBeta, dGamma } = inputs as Record<string, tf.TensorInfo>;
    const [eps, count] = [attrs?.eps as number, attrs?.count as number];
    const masked = maskedBy(attrs, gamma, beta);
    const maskedDy = (dyAt: string, xHat: string, gammaAt: string, betaAt: string) =>
      masked ? `select(T(), ${dyAt}, ${MASK_OF[masked.activation](`${xHat} * ${gammaAt} + ${betaAt}`)})` : dyAt;
    if (takesVec4(x.shape)) {
      return elementwiseVec4(backend, {
        name: KERNELS.batchNormInputGrad,
        key: `lab_bn_input_grad_${masked?.activation ?? 'none'}`,
        shape: x.shape,
        inputs: [['Dy', dy], ['X', x], ['Stats', stats], ['Gamma', gamma], ...(masked ? [['Beta', beta] as [string, tf.TensorInfo]] : []), ['DBeta', dBeta], ['DGamma', dGamma]],
        uniforms: [{ name: 'eps', type: 'f32', value: eps }, { name: 'count', type: 'f32', value: count }],
        header: 'alias T = vec4<f32>;',
        setup: `
          let mean = Stats[c];
          let invStd = inverseSqrt(Stats[CHANNELS4 + c] + vec4<f32>(uniforms.eps));
          let gamma = Gamma[c];
          ${masked ? 'let beta = Beta[c];' : ''}
          let a = gamma * invStd;
          let b = a * (DGamma[c] / -uniforms.count);
          let shift = a * (DBeta[c] / -uniforms.count);`,
        body: `
          let xHat = (X[i] - mean) * invStd;
          Out[i] = ${maskedDy('Dy[i]', 'xHat', 'gamma', 'beta')} * a + xHat * b + shift;`,
      });
    }
    const program = elementwise(`lab_bn_input_grad_${masked?.activation ?? 'none'}`, ['Dy', 'X', 'Stats', 'Gamma', ...(masked ? ['Beta'] : []), 'DBeta', 'DGamma'], x.shape, `
      let invStd = inverseSqrt(Stats[CHANNELS + c] + uniforms.eps);
      let a = Gamma[c] * invStd;
      let b = a * (DGamma[c] / -uniforms.count);
      let shift = a * (DBeta[c] / -uniforms.count);
      let xHat = (X[index] - Stats[c]) * invStd;
      setOutputAtIndex(index, ${maskedDy('Dy[index]', 'xHat', 'Gamma[c]', 'Beta[c]')} * a + xHat * b + shift);`, 'eps : f32, count : f32,', true, 'alias T = f32;');
    return run(backend, program, [dy, x, stats, gamma, ...(masked ? [beta] : []), dBeta, dGamma], [
      { type: 'float32', data: [eps] },
      { type: 'float32', data: [count] },
    ]);
  },
  [KERNELS.activation]: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const fn = attrs?.fn as string;
    const expression = ACTIVATION_FORWARD[fn];
    if (!expression) throw new Error(`${KERNELS.activation}: no fused forward for ${fn}`);
    const helpers = fn === 'gelu' ? NORMAL_CDF : '';
    if (sizeOf(x.shape) % 4 === 0) {
      return elementwiseVec4(backend, {
        name: KERNELS.activation,
        key: `lab_activation_${fn}`,
        shape: x.shape,
        perChannel: false,
        inputs: [['X', x]],
        header: helpers,
        body: `
          let xs = X[i];
          var o : vec4<f32>;
          ${perComponent((k) => `{ let v = xs.${k}; o.${k} = ${expression}; }`)}
          Out[i] = o;`,
      });
    }
    const program = elementwise(`lab_activation_${fn}`, ['X'], x.shape, `
      let v = X[index];
      setOutputAtIndex(index, ${expression});`, '', false, helpers);
    return run(backend, program, [x]);
  },
  [KERNELS.activationGrad]: ({ inputs, backend, attrs }) => {
    const { dy, saved } = inputs as { dy: tf.TensorInfo; saved: tf.TensorInfo };
    const fn = attrs?.fn as string;
    const factor = ACTIVATION_GRAD_FACTOR[fn];
    if (!factor) throw new Error(`${KERNELS.activationGrad}: unknown activation ${fn}`);
    const helpers = fn === 'gelu' ? NORMAL_CDF : '';
    if (sizeOf(dy.shape) % 4 === 0) {
      return elementwiseVec4(backend, {
        name: KERNELS.activationGrad,
        key: `lab_activation_grad_${fn}`,
        shape: dy.shape,
        perChannel: false,
        inputs: [['Dy', dy], ['Saved', saved]],
        header: helpers,
        body: `
          let ss = Saved[i];
          var f : vec4<f32>;
          ${perComponent((k) => `{ let s = ss.${k}; f.${k} = ${factor}; }`)}
          Out[i] = Dy[i] * f;`,
      });
    }
    const program = elementwise(`lab_activation_grad_${fn}`, ['Dy', 'Saved'], dy.shape, `
      let s = Saved[index];
      setOutputAtIndex(index, Dy[index] * (${factor}));`, '', false, helpers);
    return run(backend, program, [dy, saved]);
  },
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
  // C = op(A)·op(B) for 2-D A and B, one invocation per 4 (or, when N is not a multiple of 4, 1)
  // outputs of a row, with a plain loop over K: no shared-memory tiles and no barriers, which is
  // what makes it fast on SwiftShader at the engine's skinny shapes (fused.ts decides when).
  // With M, K and N multiples of 4, the tiled kernels below instead.
  [KERNELS.matMul]: ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
    if (m % 4 === 0 && k % 4 === 0 && n % 4 === 0) {
      const tiles = (m / 4) * (n / 4);
      if (!transposeA) return matMulTiledVec4(backend, a, b, m, k, n, transposeB ? 'nt' : 'nn');
      // Aᵀ·B with few tiles of C (a weight gradient over many rows) splits the rows across a
      // workgroup; with many, each invocation sums its tile's rows alone (no barriers).
      if (tiles >= MIN_TILES_PER_INVOCATION) return matMulTiledVec4(backend, a, b, m, k, n, 'tn');
      return matMulTransposeAVec4(backend, a, b, m, k, n);
    }
    const width = n % 4 === 0 ? 4 : 1;
    const aAt = transposeA ? 'A[kk * M + i]' : 'A[i * K + kk]';
    const bAt = (offset: number) => (transposeB ? `B[(j + ${offset}) * K + kk]` : `B[kk * N + j + ${offset}]`);
    const accumulate =
      width === 4
        ? `acc = acc + ${aAt} * vec4<f32>(${[0, 1, 2, 3].map(bAt).join(', ')});`
        : `acc = acc + ${aAt} * ${bAt(0)};`;
    const store =
      width === 4 ? 'result[first] = acc.x; result[first + 1] = acc.y; result[first + 2] = acc.z; result[first + 3] = acc.w;' : 'result[first] = acc;';
    const program: WebGpuProgram = {
      variableNames: ['A', 'B'],
      outputShape: [m, n],
      shaderKey: `lab_matmul_${m}_${k}_${n}_${transposeA}_${transposeB}`,
      dispatchLayout: { x: [0, 1] },
      dispatch: [Math.ceil((m * n) / width / ELEMENTWISE_WORKGROUP), 1, 1],
      workgroupSize: [ELEMENTWISE_WORKGROUP, 1, 1],
      size: true,
      getUserCode: () => `
        const M = ${m};
        const K = ${k};
        const N = ${n};
        fn main(index : i32) {
          let first = index * ${width};
          if (first < uniforms.size) {
            let i = first / N;
            let j = first % N;
            var acc = ${width === 4 ? 'vec4<f32>(0.0)' : '0.0'};
            for (var kk = 0; kk < K; kk = kk + 1) { ${accumulate} }
            ${store}
          }
        }`,
    };
    return run(backend, program, [a, b]);
  },
  // Adam's moment update, m ← β·m + (1 − β)·g (or g² for the second moment), g = grad + λ·param
  // (Adam's L2 term; λ = 0 for AdamW), in the operation order of the plain version (fused.ts).
  [KERNELS.adamMoment]: ({ inputs, backend, attrs }) => {
    const { moment, grad, param } = inputs as Record<string, tf.TensorInfo>;
    const square = Boolean(attrs?.square);
    // Without decay the parameter is not bound: a binding the shader never reads is not in its layout.
    const withDecay = (attrs?.weightDecay as number) !== 0;
    const program = elementwise(`lab_adam_moment_${square}_${withDecay}`, ['Moment', 'Grad', ...(withDecay ? ['Param'] : [])], moment.shape, `
      let g = ${withDecay ? 'Grad[index] + Param[index] * uniforms.weightDecay' : 'Grad[index]'};
      setOutputAtIndex(index, Moment[index] * uniforms.beta + ${square ? 'g * g' : 'g'} * uniforms.oneMinusBeta);`,
      'beta : f32, oneMinusBeta : f32, weightDecay : f32,', false);
    return run(backend, program, [moment, grad, ...(withDecay ? [param] : [])], [
      { type: 'float32', data: [attrs?.beta as number] },
      { type: 'float32', data: [1 - (attrs?.beta as number)] },
      { type: 'float32', data: [attrs?.weightDecay as number] },
    ]);
  },
  // p ← p·decay − stepSize · m / (√v / √(1 − β2ᵗ) + ε)   (decay = 1 − lr·λ for AdamW, else 1).
  [KERNELS.adamParam]: ({ inputs, backend, attrs }) => {
    const { param, expAvg, expAvgSq } = inputs as Record<string, tf.TensorInfo>;
    const program = elementwise('lab_adam_param', ['Param', 'ExpAvg', 'ExpAvgSq'], param.shape, `
      let denom = sqrt(ExpAvgSq[index]) / uniforms.biasCorrection2Sqrt + uniforms.eps;
      setOutputAtIndex(index, Param[index] * uniforms.decay - (ExpAvg[index] / denom) * uniforms.stepSize);`,
      'stepSize : f32, biasCorrection2Sqrt : f32, eps : f32, decay : f32,', false);
    return run(backend, program, [param, expAvg, expAvgSq], [
      { type: 'float32', data: [attrs?.stepSize as number] },
      { type: 'float32', data: [attrs?.biasCorrection2Sqrt as number] },
      { type: 'float32', data: [attrs?.eps as number] },
      { type: 'float32', data: [attrs?.decay as number] },
    ]);
  },
  // Adam over several parameters in one dispatch, in place (fused.ts adamMulti): parameter k's
  // elements are the dispatch's indices [ends[k − 1], ends[k]), its first and second moments at
  // offsets[k] and half + offsets[k] of the optimizer's moment arena. The parameters and the arena
  // are written in place; the kernel returns nothing.
  [KERNELS.adamMulti]: ({ inputs, backend, attrs }) => {
    const { moments } = inputs as Record<string, tf.TensorInfo>;
    const count = attrs?.count as number;
    const ends = attrs?.ends as number[];
    const offsets = attrs?.offsets as number[];
    const withDecay = (attrs?.l2 as number) !== 0;
    const ids = Array.from({ length: count }, (_, k) => k);
    const scalar = (name: string, value: number): RawUniform => ({ name, type: 'f32', value });
    const index = (name: string, value: number): RawUniform => ({ name, type: 'i32', value });
    const workgroups = Math.min(Math.ceil(ends[count - 1] / ELEMENTWISE_WORKGROUP), MAX_WORKGROUPS);
    const update = (k: number) => `${k === 0 ? '' : 'else '}if (e < uniforms.end${k}) {
          let j = e${k === 0 ? '' : ` - uniforms.end${k - 1}`};
          P${k}[j] = labAdam(P${k}[j], G${k}[j], uniforms.offset${k} + j);
        }`;
    dispatchRaw(backend, {
      name: KERNELS.adamMulti,
      key: `lab_adam_multi_${count}_${withDecay}`,
      buffers: [
        { name: 'Moments', info: moments, write: true },
        ...ids.flatMap((k) => [
          { name: `P${k}`, info: (inputs as Record<string, tf.TensorInfo>)[`param${k}`], write: true },
          { name: `G${k}`, info: (inputs as Record<string, tf.TensorInfo>)[`grad${k}`] },
        ]),
      ],
      uniforms: [
        scalar('beta1', attrs?.beta1 as number),
        scalar('oneMinusBeta1', 1 - (attrs?.beta1 as number)),
        scalar('beta2', attrs?.beta2 as number),
        scalar('oneMinusBeta2', 1 - (attrs?.beta2 as number)),
        scalar('l2', attrs?.l2 as number),
        scalar('stepSize', attrs?.stepSize as number),
        scalar('biasCorrection2Sqrt', attrs?.biasCorrection2Sqrt as number),
        scalar('eps', attrs?.eps as number),
        scalar('decay', attrs?.decay as number),
        index('half', attrs?.half as number),
        ...ids.map((k) => index(`end${k}`, ends[k])),
        ...ids.map((k) => index(`offset${k}`, offsets[k])),
      ],
      workgroupSize: ELEMENTWISE_WORKGROUP,
      workgroups,
      // The operation order of the plain version (fused.ts), as adamMoment and adamParam.
      header: `
        fn labAdam(p : f32, grad : f32, at : i32) -> f32 {
          let g = ${withDecay ? 'grad + p * uniforms.l2' : 'grad'};
          let m = Moments[at] * uniforms.beta1 + g * uniforms.oneMinusBeta1;
          let v = Moments[at + uniforms.half] * uniforms.beta2 + g * g * uniforms.oneMinusBeta2;
          Moments[at] = m;
          Moments[at + uniforms.half] = v;
          let denom = sqrt(v) / uniforms.biasCorrection2Sqrt + uniforms.eps;
          return p * uniforms.decay - (m / denom) * uniforms.stepSize;
        }`,
      body: `
        let stride = i32(numWorkgroups.x) * ${ELEMENTWISE_WORKGROUP};
        for (var e = i32(globalId.x); e < uniforms.end${count - 1}; e = e + stride) {
          ${ids.map(update).join('\n          ')}
        }`,
    });
    return [] as unknown as tf.TensorInfo;
  },
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
  // x·scale[c] (+ shift[c]): a per-channel affine map (DoRA's magnitude / norm, a bias).
  [KERNELS.channelAffine]: ({ inputs, backend }) => {
    const { x, scale, shift } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    const program = elementwise(`lab_channel_affine_${shift ? 'shift' : 'scale'}`, ['X', 'Scale', ...(shift ? ['Shift'] : [])], input.shape,
      `setOutputAtIndex(index, X[index] * Scale[c]${shift ? ' + Shift[c]' : ''});`);
    return run(backend, program, [input, scale as tf.TensorInfo, ...(shift ? [shift] : [])]);
  },
  // Σ dy and Σ dy·x per channel, as two [C] tensors.
  [KERNELS.channelSums]: ({ inputs, backend }) => {
    const { dy, x } = inputs as Record<string, tf.TensorInfo>;
    return dyAndDyXSums(backend, KERNELS.channelSums, dy, x);
  },
  // Layer norm over the last axis (D features), one invocation per row (token): y, and the row's
  // mean and 1/σ (each [..., 1]) for the backward, in one dispatch where tfjs runs ~9 kernels.
  [KERNELS.layerNorm]: ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    const features = channelsOf(x.shape);
    const rows = rowsOf(x.shape);
    const rowShape = [...x.shape.slice(0, -1), 1];
    const [y, mean, invStd] = [newDeviceTensor(backend, [...x.shape]), newDeviceTensor(backend, rowShape), newDeviceTensor(backend, rowShape)];
    dispatchRaw(backend, {
      name: KERNELS.layerNorm,
      key: `lab_layer_norm_${features}`,
      buffers: [{ name: 'X', info: x }, { name: 'Gamma', info: gamma }, { name: 'Beta', info: beta }, { name: 'Y', info: y, write: true }, { name: 'Mean', info: mean, write: true }, { name: 'InvStd', info: invStd, write: true }],
      uniforms: [{ name: 'rows', type: 'i32', value: rows }, { name: 'eps', type: 'f32', value: attrs?.eps as number }],
      workgroupSize: ELEMENTWISE_WORKGROUP,
      workgroups: Math.ceil(rows / ELEMENTWISE_WORKGROUP),
      header: `const FEATURES = ${features};`,
      body: `
        let row = i32(globalId.x);
        if (row >= uniforms.rows) { return; }
        let base = row * FEATURES;
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
    const features = channelsOf(x.shape);
    const rows = rowsOf(x.shape);
    const dx = newDeviceTensor(backend, [...x.shape]);
    dispatchRaw(backend, {
      name: KERNELS.layerNormInputGrad,
      key: `lab_layer_norm_input_grad_${features}`,
      buffers: [{ name: 'Dy', info: dy }, { name: 'X', info: x }, { name: 'Mean', info: mean }, { name: 'InvStd', info: invStd }, { name: 'Gamma', info: gamma }, { name: 'Dx', info: dx, write: true }],
      uniforms: [{ name: 'rows', type: 'i32', value: rows }],
      workgroupSize: ELEMENTWISE_WORKGROUP,
      workgroups: Math.ceil(rows / ELEMENTWISE_WORKGROUP),
      header: `const FEATURES = ${features};`,
      body: `
        let row = i32(globalId.x);
        if (row >= uniforms.rows) { return; }
        let base = row * FEATURES;
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
  // A quantized weight (quant/blockwise.ts) as float32: one invocation per value unpacks its code
  // from the int32 words (int8: sign-extended byte; NF4: nibble into the code book) and scales it by
  // its block's absmax, rounded as quant/blockwise.ts's dequantizeCode.
  [KERNELS.dequantize]: ({ inputs, backend, attrs }) => {
    const { codes, scales } = inputs as Record<string, tf.TensorInfo>;
    const format = attrs?.format as 'int8' | 'nf4';
    const shape = attrs?.shape as number[];
    const body =
      format === 'int8'
        ? `let word = Codes[index / 4];
      let q = (word << u32(24 - 8 * (index % 4))) >> 24u;
      setOutputAtIndex(index, (f32(q) * Scales[index / ${QUANT_BLOCK}]) / 127.0);`
        : `var book = array<f32, 16>(${NF4_CODE_BOOK.map((v) => v.toPrecision(17)).join(', ')});
      let nibble = (Codes[index / 8] >> u32(4 * (index % 8))) & 15;
      setOutputAtIndex(index, book[nibble] * Scales[index / ${QUANT_BLOCK}]);`;
    const program = elementwise(`lab_dequantize_${format}`, ['Codes', 'Scales'], shape, body, '', false);
    return run(backend, program, [codes, scales]);
  },
  [KERNELS.addScaled]: ({ inputs, backend, attrs }) => {
    const { x, y } = inputs as Record<string, tf.TensorInfo>;
    const program = elementwise('lab_add_scaled', ['X', 'Y'], x.shape, 'setOutputAtIndex(index, X[index] + Y[index] * uniforms.a);', 'a : f32,', false);
    return run(backend, program, [x, y], [{ type: 'float32', data: [attrs?.a as number] }]);
  },
};

let registered = false;

/** Registers the kernels for the 'webgpu' backend (once; harmless where WebGPU never starts). */
export function registerWebGpuKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of Object.entries(kernelFuncs)) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as tf.KernelFunc });
  }
}
