// The activations the engine runs as its own kernels (hardswish, hardsigmoid, gelu) and every
// activation's gradient from what its forward kept, with torch's values at the kinks.
import * as tf from '@tensorflow/tfjs';
import { elementwise, elementwiseVec4, type KernelFuncs, perComponent, run, sizeOf } from './programs';
import { KERNELS } from './names';

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

export const ACTIVATION_KERNELS: KernelFuncs = {
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
};
