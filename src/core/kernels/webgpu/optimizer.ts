// Adam's updates (per tensor, in place over several parameters at once, and GaLore's normalised step
// on a projected gradient) and x + a·y.
import * as tf from '@tensorflow/tfjs';
import { elementwise, ELEMENTWISE_WORKGROUP, type KernelArgs, type KernelFuncs, run } from './programs';
import { dispatchRaw, MAX_WORKGROUPS, newDeviceTensor, type RawUniform } from '../webgpuRaw';
import { KERNELS } from './names';

/** Adam's β1, 1 − β1, β2 and 1 − β2, then the step's other attributes named, as f32 uniforms. */
function adamUniforms(attrs: KernelArgs['attrs'], names: readonly string[]): RawUniform[] {
  const uniform = (name: string, value: number): RawUniform => ({ name, type: 'f32', value });
  const [beta1, beta2] = [attrs?.beta1 as number, attrs?.beta2 as number];
  return [uniform('beta1', beta1), uniform('oneMinusBeta1', 1 - beta1), uniform('beta2', beta2), uniform('oneMinusBeta2', 1 - beta2), ...names.map((name) => uniform(name, attrs?.[name] as number))];
}

export const OPTIMIZER_KERNELS: KernelFuncs = {
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
        ...adamUniforms(attrs, ['l2', 'stepSize', 'biasCorrection2Sqrt', 'eps', 'decay']),
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
  // GaLore's Adam on a projected gradient (fused.ts adamDirection): the moments updated in place,
  // the normalised step m/(√v/√(1 − β2ᵗ) + ε) returned, in the plain version's operation order.
  [KERNELS.adamDirection]: ({ inputs, backend, attrs }) => {
    const { expAvg, expAvgSq, grad } = inputs as Record<string, tf.TensorInfo>;
    const out = newDeviceTensor(backend, [...grad.shape]);
    const size = grad.shape.reduce((a, b) => a * b, 1);
    dispatchRaw(backend, {
      name: KERNELS.adamDirection,
      key: 'lab_adam_direction',
      buffers: [
        { name: 'ExpAvg', info: expAvg, write: true },
        { name: 'ExpAvgSq', info: expAvgSq, write: true },
        { name: 'Grad', info: grad },
        { name: 'Out', info: out, write: true },
      ],
      uniforms: [...adamUniforms(attrs, ['biasCorrection2Sqrt', 'eps']), { name: 'size', type: 'i32', value: size }],
      workgroupSize: ELEMENTWISE_WORKGROUP,
      workgroups: Math.max(1, Math.min(Math.ceil(size / ELEMENTWISE_WORKGROUP), MAX_WORKGROUPS)),
      body: `
        let stride = i32(numWorkgroups.x) * ${ELEMENTWISE_WORKGROUP};
        for (var i = i32(globalId.x); i < uniforms.size; i = i + stride) {
          let g = Grad[i];
          let m = ExpAvg[i] * uniforms.beta1 + g * uniforms.oneMinusBeta1;
          let v = ExpAvgSq[i] * uniforms.beta2 + g * g * uniforms.oneMinusBeta2;
          ExpAvg[i] = m;
          ExpAvgSq[i] = v;
          Out[i] = m / (sqrt(v) / uniforms.biasCorrection2Sqrt + uniforms.eps);
        }`,
    });
    return out;
  },
  [KERNELS.addScaled]: ({ inputs, backend, attrs }) => {
    const { x, y } = inputs as Record<string, tf.TensorInfo>;
    const program = elementwise('lab_add_scaled', ['X', 'Y'], x.shape, 'setOutputAtIndex(index, X[index] + Y[index] * uniforms.a);', 'a : f32,', false);
    return run(backend, program, [x, y], [{ type: 'float32', data: [attrs?.a as number] }]);
  },
};
