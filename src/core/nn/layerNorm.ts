// Layer norm over the last dimension (nn.LayerNorm), with a hand-written backward. tfjs's auto-diff
// of mean/variance/normalise would keep x − μ, its square, x̂ and more; this keeps exactly what the
// lab's ACT view counts (profile/memory.ts): x and the per-token mean and 1/σ (2 floats per token),
// and nothing when only β trains and no input gradient is wanted. With x̂ = (x − μ)/σ recomputed:
//   dβ = Σ_tokens dy,  dγ = Σ_tokens dy·x̂,  g = dy·γ,  dx = (g − mean_D(g) − x̂·mean_D(g·x̂)) / σ.
import * as tf from '@tensorflow/tfjs';
import type { LayerNormNode } from '../models/spec';
import { customOp } from './customOp';

/** Which of a layer norm's gradients are wanted (see gradientPlan.ts). */
export interface LayerNormGradients {
  input: boolean;
  gamma: boolean;
  beta: boolean;
}

/** Axes summed for γ's and β's gradients: every axis but the last. */
const leadingAxes = (rank: number) => Array.from({ length: rank - 1 }, (_, i) => i);

export function layerNorm(node: LayerNormNode, x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, wanted: LayerNormGradients): tf.Tensor {
  if (x.shape[x.rank - 1] !== node.features) {
    throw new Error(`forward: layer norm ${node.id} over ${node.features} features got [${x.shape.join(', ')}]`);
  }
  const differentiable = [...(wanted.input ? [x] : []), ...(wanted.gamma ? [gamma] : []), ...(wanted.beta ? [beta] : [])];
  const readsXHat = wanted.input || wanted.gamma;
  return customOp(differentiable, (save) => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const invStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), node.eps));
    if (readsXHat) save([x, mean, invStd]);
    return {
      value: tf.add(tf.mul(tf.mul(centered, invStd), gamma), beta),
      gradFunc: (dy, saved) => {
        const axes = leadingAxes(dy.rank);
        const grads: tf.Tensor[] = [];
        if (!readsXHat) return [tf.sum(dy, axes)];
        const [savedX, savedMean, savedInvStd] = saved;
        const xHat = tf.mul(tf.sub(savedX, savedMean), savedInvStd);
        if (wanted.input) {
          const g = tf.mul(dy, gamma);
          const meanG = tf.mean(g, -1, true);
          const meanGXHat = tf.mean(tf.mul(g, xHat), -1, true);
          grads.push(tf.mul(tf.sub(tf.sub(g, meanG), tf.mul(xHat, meanGXHat)), savedInvStd));
        }
        if (wanted.gamma) grads.push(tf.sum(tf.mul(dy, xHat), axes));
        if (wanted.beta) grads.push(tf.sum(dy, axes));
        return grads;
      },
    };
  });
}
