// Batch norm on WebGPU: the batch statistics (with the running statistics' update in place), the
// normalisation (with the relu/relu6 it applies, models/fusion.ts) and the backward (masked by that
// activation when it is folded), each one pass.
import * as tf from '@tensorflow/tfjs';
import { channelsOf, dispatchChannelReduction, elementwise, elementwiseVec4, type KernelArgs, type KernelFuncs, rowsOf, run, takesVec4 } from './programs';
import { newDeviceTensor } from '../webgpuRaw';
import { KERNELS } from './names';

/** Σ dy and Σ dy·x per channel (the last axis) in one reduction, as two [C] tensors; with the
 * batch statistics ([2, C]), x is normalised first: Σ dy·x̂, x̂ = (x − mean)/√(var + ε); with an
 * activation the batch norm applied (`masked`), dy is first multiplied by its mask at x̂·γ + β. */
export function dyAndDyXSums(
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

export const BATCH_NORM_KERNELS: KernelFuncs = {
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
};
