// Layer norm over the last dimension (nn.LayerNorm), with a hand-written backward. tfjs's auto-diff
// of mean/variance/normalise would keep x − μ, its square, x̂ and more; this keeps exactly what the
// lab's ACT view counts (profile/memory.ts): x and the per-token mean and 1/σ (2 floats per token),
// and nothing when only β trains and no input gradient is wanted. The forward and the backward are
// kernels/fused.ts's (one dispatch forward, two backward on WebGPU), x̂ recomputed from the kept
// statistics:
//   dβ = Σ_tokens dy,  dγ = Σ_tokens dy·x̂,  g = dy·γ,  dx = (g − mean_D(g) − x̂·mean_D(g·x̂)) / σ.
import * as tf from '@tensorflow/tfjs';
import { channelSum, layerNormBackward, layerNormForward } from '../kernels/fused';
import type { LayerNormNode } from '../models/spec';
import { customOp } from './customOp';

/** Which of a layer norm's gradients are wanted (see gradientPlan.ts). */
export interface LayerNormGradients {
  input: boolean;
  gamma: boolean;
  beta: boolean;
}

export function layerNorm(node: LayerNormNode, x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, wanted: LayerNormGradients): tf.Tensor {
  if (x.shape[x.rank - 1] !== node.features) {
    throw new Error(`forward: layer norm ${node.id} over ${node.features} features got [${x.shape.join(', ')}]`);
  }
  const differentiable = [...(wanted.input ? [x] : []), ...(wanted.gamma ? [gamma] : []), ...(wanted.beta ? [beta] : [])];
  const readsXHat = wanted.input || wanted.gamma;
  return customOp(differentiable, (save) => {
    const { y, mean, invStd } = layerNormForward(x, gamma, beta, node.eps);
    if (readsXHat) save([x, mean, invStd]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        if (!readsXHat) return [channelSum(dy)];
        const [savedX, savedMean, savedInvStd] = saved;
        const { dx, dGamma, dBeta } = layerNormBackward(dy, savedX, savedMean, savedInvStd, gamma, wanted.input);
        return [...(dx ? [dx] : []), ...(wanted.gamma ? [dGamma] : []), ...(wanted.beta ? [dBeta] : [])];
      },
    };
  });
}
