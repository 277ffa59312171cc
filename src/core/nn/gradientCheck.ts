// Gradient checks of the interpreter against central finite differences (used by unit tests).
// The objective is L = Σ out·R with fixed random weights R, so every output element matters and
// no symmetry hides an error (Σ out of a batch norm, say, has zero gradient). The analytic side
// runs the engine as training does (tf.variableGrads through runSpec); the numeric side perturbs
// one element at a time and accumulates L in float64, so only the float32 forward limits accuracy.
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../rng';
import { runSpec, type ForwardOptions } from './forward';
import type { Model } from './model';

export const INPUT = 'input';

export interface GradientComparison {
  /** Flat indices of the checked elements. */
  indices: number[];
  analytic: number[];
  numeric: number[];
}

export interface GradientCheckOptions extends ForwardOptions {
  /** Finite-difference step. */
  eps: number;
  /** Elements checked per tensor (a seeded sample when the tensor is larger). */
  maxElements?: number;
  seed?: number;
}

/** Analytic and numeric gradients of L w.r.t. the input (name INPUT) and the named parameters. */
export async function compareGradients(
  model: Model,
  input: tf.Tensor,
  names: string[],
  options: GradientCheckOptions,
): Promise<Map<string, GradientComparison>> {
  const { eps, maxElements = 40, seed = 7 } = options;
  // A stream of its own: R must not correlate with inputs drawn from the same seed (if R were an
  // affine function of a batch norm's input, the true gradient would be zero).
  const rng = createRng(seed, 0x6c8e9cf5);
  const x = tf.variable(input, true);
  try {
    const outSize = tf.tidy(() => runSpec(model, x, options).size);
    const weights = Float64Array.from({ length: outSize }, () => rng.uniform(-1, 1));
    const tensors = names.map((name) => (name === INPUT ? x : model.variables.get(name)));
    tensors.forEach((t, i) => {
      if (!t) throw new Error(`compareGradients: unknown parameter ${names[i]}`);
    });
    const variables = tensors as tf.Variable[];

    const analyticGrads = tf.tidy(() => {
      const r = tf.tensor(Float32Array.from(weights));
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.reshape(runSpec(model, x, options), [-1]), r)), variables);
      return variables.map((v) => grads[v.name]);
    });
    const analytic = await Promise.all(analyticGrads.map((g) => g.data()));
    tf.dispose(analyticGrads);

    const objective = async (): Promise<number> => {
      const out = tf.tidy(() => runSpec(model, x, options));
      const values = await out.data();
      out.dispose();
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += values[i] * weights[i];
      return sum;
    };

    const result = new Map<string, GradientComparison>();
    for (const [k, variable] of variables.entries()) {
      const base = Float32Array.from(await variable.data());
      const indices = sampleIndices(base.length, maxElements, (n) => rng.int(n));
      const numeric: number[] = [];
      const setElement = (index: number, value: number) => {
        const values = Float32Array.from(base);
        values[index] = value;
        tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
      };
      for (const index of indices) {
        setElement(index, base[index] + eps);
        const plus = await objective();
        setElement(index, base[index] - eps);
        const minus = await objective();
        // The step actually taken in float32, not the nominal one.
        const step = Math.fround(base[index] + eps) - Math.fround(base[index] - eps);
        numeric.push((plus - minus) / step);
      }
      tf.tidy(() => variable.assign(tf.tensor(base, variable.shape)));
      result.set(names[k], { indices, analytic: indices.map((i) => analytic[k][i]), numeric });
    }
    return result;
  } finally {
    x.dispose();
  }
}

function sampleIndices(size: number, max: number, randomInt: (n: number) => number): number[] {
  if (size <= max) return Array.from({ length: size }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < max) picked.add(randomInt(size));
  return [...picked].sort((a, b) => a - b);
}

/** max |analytic − numeric| / max |numeric|: relative to the gradient's scale, so tiny entries
 * near zero do not blow it up. */
export function relativeError(analytic: readonly number[], numeric: readonly number[]): number {
  let scale = 0;
  let worst = 0;
  numeric.forEach((n, i) => {
    scale = Math.max(scale, Math.abs(n));
    worst = Math.max(worst, Math.abs(analytic[i] - n));
  });
  return worst / Math.max(scale, 1e-12);
}
