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
  channelMoments: 'LabChannelMoments',
  batchNormApply: 'LabBatchNormApply',
  batchNormGradSums: 'LabBatchNormGradSums',
  batchNormInputGrad: 'LabBatchNormInputGrad',
  activation: 'LabActivation',
  activationGrad: 'LabActivationGrad',
  matMul: 'LabMatMul',
  spatialMean: 'LabSpatialMean',
  adamMoment: 'LabAdamMoment',
  adamParam: 'LabAdamParam',
  subtractScaled: 'LabSubtractScaled',
  channelAffine: 'LabChannelAffine',
  channelSums: 'LabChannelSums',
} as const;

const ELEMENTWISE_WORKGROUP = 128;
/** Most invocations per workgroup of a per-channel reduction (one workgroup per channel). */
const MAX_REDUCE_WORKGROUP = 64;

const channelsOf = (shape: readonly number[]) => shape[shape.length - 1];

/** An elementwise program over `shape`: `body` sees `index` and, when `perChannel`, `c` (the channel)
 * and the constant `CHANNELS` (one shader per channel count). */
function elementwise(name: string, variableNames: string[], shape: number[], body: string, uniforms = '', perChannel = true): WebGpuProgram {
  const size = shape.reduce((a, b) => a * b, 1);
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
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${perChannel ? 'let c = index % CHANNELS;' : ''}
          ${body}
        }
      }`,
  };
}

/** A per-channel reduction over all other axes: one workgroup per channel, output [2, C]. `body`
 * sees `c`, `rows`, `first` (this invocation's first row), constants `CHANNELS` and `WORKGROUP`, and
 * `labReduceSum(v)` (the workgroup's sum of v, in uniform control flow). The workgroup shrinks
 * with the rows (~32 rows per invocation, 1–64 invocations): on SwiftShader a barrier costs far
 * more than a few sequential adds, and small late-network tensors have few rows per channel. */
function perChannelReduction(name: string, variableNames: string[], inputShape: readonly number[], body: string, uniforms = ''): WebGpuProgram {
  const channels = channelsOf(inputShape);
  const workgroup = reductionWorkgroup(rowsOf(inputShape));
  return {
    variableNames,
    outputShape: [2, channels],
    shaderKey: `${name}_${channels}_${workgroup}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [channels, 1, 1],
    workgroupSize: [workgroup, 1, 1],
    uniforms: `rows : i32, ${uniforms}`,
    getUserCode: () => `
      const CHANNELS = ${channels};
      const WORKGROUP = ${workgroup};
      var<workgroup> labPartial : array<f32, ${workgroup}>;
      fn labReduceSum(v : f32) -> f32 {
        labPartial[localId.x] = v;
        workgroupBarrier();
        for (var s = ${Math.floor(workgroup / 2)}u; s > 0u; s = s >> 1u) {
          if (localId.x < s) { labPartial[localId.x] = labPartial[localId.x] + labPartial[localId.x + s]; }
          workgroupBarrier();
        }
        let total = labPartial[0];
        workgroupBarrier();
        return total;
      }
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let rows = uniforms.rows;
        let first = i32(localId.x);
        ${body}
      }`,
  };
}

/** A power of two, ~32 rows per invocation, at most MAX_REDUCE_WORKGROUP. */
function reductionWorkgroup(rows: number): number {
  let size = 1;
  while (size < MAX_REDUCE_WORKGROUP && size * 2 * 32 <= rows) size *= 2;
  return size;
}

const rowsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1) / channelsOf(shape);

function run(backend: unknown, program: WebGpuProgram, inputs: tf.TensorInfo[], uniforms?: ProgramUniform[]): tf.TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, inputs, 'float32', uniforms);
}

/** Activation bodies: forward from the input `v`, gradient factor from what the forward saved
 * (relu, relu6, hardsigmoid: the output; hardswish: the input), with torch's values at the kinks. */
const ACTIVATION_FORWARD: Record<string, string> = {
  hardswish: 'v * (clamp(v + 3.0, 0.0, 6.0) / 6.0)',
  hardsigmoid: 'clamp(v + 3.0, 0.0, 6.0) / 6.0',
};
const ACTIVATION_GRAD_FACTOR: Record<string, string> = {
  relu: 'select(0.0, 1.0, s > 0.0)',
  relu6: 'select(0.0, 1.0, s > 0.0 && s < 6.0)',
  hardsigmoid: 'select(0.0, 1.0, s > 0.0 && s < 1.0) / 6.0',
  hardswish: 'select(0.0, 1.0, s > 3.0) + select(0.0, s / 3.0 + 0.5, s >= -3.0 && s <= 3.0)',
};

type KernelArgs = Parameters<tf.KernelFunc>[0];

const kernelFuncs: Record<(typeof KERNELS)[keyof typeof KERNELS], (args: KernelArgs) => tf.TensorInfo> = {
  // [2, C]: mean and biased variance, two passes as tf.moments.
  [KERNELS.channelMoments]: ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const program = perChannelReduction('lab_channel_moments', ['X'], x.shape, `
      var s = 0.0;
      for (var r = first; r < rows; r = r + WORKGROUP) { s = s + X[r * CHANNELS + c]; }
      let mean = labReduceSum(s) / f32(rows);
      var q = 0.0;
      for (var r = first; r < rows; r = r + WORKGROUP) { let d = X[r * CHANNELS + c] - mean; q = q + d * d; }
      let variance = labReduceSum(q) / f32(rows);
      if (localId.x == 0u) { result[c] = mean; result[CHANNELS + c] = variance; }`);
    return run(backend, program, [x], [{ type: 'int32', data: [rowsOf(x.shape)] }]);
  },
  // (x − mean)·1/√(var + ε)·γ + β.
  [KERNELS.batchNormApply]: ({ inputs, backend, attrs }) => {
    const { x, mean, variance, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
    const program = elementwise('lab_bn_apply', ['X', 'Mean', 'Variance', 'Gamma', 'Beta'], x.shape, `
      let invStd = inverseSqrt(Variance[c] + uniforms.eps);
      setOutputAtIndex(index, (X[index] - Mean[c]) * invStd * Gamma[c] + Beta[c]);`, 'eps : f32,');
    return run(backend, program, [x, mean, variance, gamma, beta], [{ type: 'float32', data: [attrs?.eps as number] }]);
  },
  // [2, C]: Σ dy and Σ dy·x̂, x̂ = (x − mean)/√(var + ε).
  [KERNELS.batchNormGradSums]: ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance } = inputs as Record<string, tf.TensorInfo>;
    const program = perChannelReduction('lab_bn_grad_sums', ['Dy', 'X', 'Mean', 'Variance'], x.shape, `
      let m = Mean[c];
      let invStd = inverseSqrt(Variance[c] + uniforms.eps);
      var sumDy = 0.0;
      var sumDyXHat = 0.0;
      for (var r = first; r < rows; r = r + WORKGROUP) {
        let i = r * CHANNELS + c;
        sumDy = sumDy + Dy[i];
        sumDyXHat = sumDyXHat + Dy[i] * ((X[i] - m) * invStd);
      }
      let totalDy = labReduceSum(sumDy);
      let totalDyXHat = labReduceSum(sumDyXHat);
      if (localId.x == 0u) { result[c] = totalDy; result[CHANNELS + c] = totalDyXHat; }`, 'eps : f32,');
    return run(backend, program, [dy, x, mean, variance], [
      { type: 'int32', data: [rowsOf(x.shape)] },
      { type: 'float32', data: [attrs?.eps as number] },
    ]);
  },
  // dx = dy·a + x̂·b + c with a = γ/σ, b = −a·Σ(dy·x̂)/n, c = −a·Σdy/n (batchnorm.ts).
  [KERNELS.batchNormInputGrad]: ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance, gamma, sums } = inputs as Record<string, tf.TensorInfo>;
    const program = elementwise('lab_bn_input_grad', ['Dy', 'X', 'Mean', 'Variance', 'Gamma', 'Sums'], x.shape, `
      let invStd = inverseSqrt(Variance[c] + uniforms.eps);
      let a = Gamma[c] * invStd;
      let b = a * (Sums[CHANNELS + c] / -uniforms.count);
      let shift = a * (Sums[c] / -uniforms.count);
      let xHat = (X[index] - Mean[c]) * invStd;
      setOutputAtIndex(index, Dy[index] * a + xHat * b + shift);`, 'eps : f32, count : f32,');
    return run(backend, program, [dy, x, mean, variance, gamma, sums], [
      { type: 'float32', data: [attrs?.eps as number] },
      { type: 'float32', data: [attrs?.count as number] },
    ]);
  },
  [KERNELS.activation]: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const fn = attrs?.fn as string;
    const expression = ACTIVATION_FORWARD[fn];
    if (!expression) throw new Error(`${KERNELS.activation}: no fused forward for ${fn}`);
    const program = elementwise(`lab_activation_${fn}`, ['X'], x.shape, `
      let v = X[index];
      setOutputAtIndex(index, ${expression});`, '', false);
    return run(backend, program, [x]);
  },
  [KERNELS.activationGrad]: ({ inputs, backend, attrs }) => {
    const { dy, saved } = inputs as { dy: tf.TensorInfo; saved: tf.TensorInfo };
    const fn = attrs?.fn as string;
    const factor = ACTIVATION_GRAD_FACTOR[fn];
    if (!factor) throw new Error(`${KERNELS.activationGrad}: unknown activation ${fn}`);
    const program = elementwise(`lab_activation_grad_${fn}`, ['Dy', 'Saved'], dy.shape, `
      let s = Saved[index];
      setOutputAtIndex(index, Dy[index] * (${factor}));`, '', false);
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
  [KERNELS.matMul]: ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const n = transposeB ? b.shape[0] : b.shape[1];
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
  // x·scale[c] (+ shift[c]): a per-channel affine map (DoRA's magnitude / norm, a bias).
  [KERNELS.channelAffine]: ({ inputs, backend }) => {
    const { x, scale, shift } = inputs as Record<string, tf.TensorInfo | undefined>;
    const input = x as tf.TensorInfo;
    const program = elementwise(`lab_channel_affine_${shift ? 'shift' : 'scale'}`, ['X', 'Scale', ...(shift ? ['Shift'] : [])], input.shape,
      `setOutputAtIndex(index, X[index] * Scale[c]${shift ? ' + Shift[c]' : ''});`);
    return run(backend, program, [input, scale as tf.TensorInfo, ...(shift ? [shift] : [])]);
  },
  // [2, C]: Σ dy and Σ dy·x per channel.
  [KERNELS.channelSums]: ({ inputs, backend }) => {
    const { dy, x } = inputs as Record<string, tf.TensorInfo>;
    const program = perChannelReduction('lab_channel_sums', ['Dy', 'X'], x.shape, `
      var sumDy = 0.0;
      var sumDyX = 0.0;
      for (var r = first; r < rows; r = r + WORKGROUP) {
        let i = r * CHANNELS + c;
        sumDy = sumDy + Dy[i];
        sumDyX = sumDyX + Dy[i] * X[i];
      }
      let totalDy = labReduceSum(sumDy);
      let totalDyX = labReduceSum(sumDyX);
      if (localId.x == 0u) { result[c] = totalDy; result[CHANNELS + c] = totalDyX; }`);
    return run(backend, program, [dy, x], [{ type: 'int32', data: [rowsOf(x.shape)] }]);
  },
  [KERNELS.subtractScaled]: ({ inputs, backend, attrs }) => {
    const { x, y } = inputs as Record<string, tf.TensorInfo>;
    const program = elementwise('lab_subtract_scaled', ['X', 'Y'], x.shape, 'setOutputAtIndex(index, X[index] - Y[index] * uniforms.a);', 'a : f32,', false);
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
