// Batch norm over NHWC (or [N, C]) tensors, per channel (the last axis).
//
// Training mode normalises with the batch statistics. Its backward is written by hand: tfjs's
// auto-diff of mean/variance/normalise dominated step time on WebGPU (many Mul/Sum/Mean/Sub
// kernels and their saved inputs). The custom gradient keeps x and the batch statistics ([2, C]:
// mean and variance; x̂ is recomputed: the same bytes as keeping x̂) and on WebGPU runs as one
// reduction and one elementwise dispatch (kernels/fused.ts):
//   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − dβ/n − x̂·dγ/n),  n = values per channel.
// A relu or relu6 that alone reads the batch norm is applied here too (models/fusion.ts). In a
// training step whose batch norm keeps x, its backward masks the activation's output gradient itself
// (the activation node passes it through and keeps nothing); otherwise the activation node computes
// its dz from its kept output, and the gradient each function here receives is that dz.
// A training step's forward updates the running statistics from the batch as torch's forward does
// (in the same dispatch as the batch statistics on WebGPU); other training-mode passes (gradient
// checks, comparisons with PyTorch) leave them alone.
import * as tf from '@tensorflow/tfjs';
import type { FusedActivation } from '../models/fusion';
import type { BatchNormNode } from '../models/spec';
import { batchMoments, batchNormApply, batchNormBackward, channelSum } from '../kernels/fused';
import { customOp } from './customOp';

function reductionAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/** Which of a batch norm's gradients are wanted (see gradientPlan.ts); by default all. */
export interface BatchNormGradients {
  input: boolean;
  gamma: boolean;
  beta: boolean;
}

const ALL_GRADIENTS: BatchNormGradients = { input: true, gamma: true, beta: true };

/** The tensors declared to the tape, in the order the gradFuncs return gradients. */
function differentiableOf(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, wanted: BatchNormGradients): tf.Tensor[] {
  return [...(wanted.input ? [x] : []), ...(wanted.gamma ? [gamma] : []), ...(wanted.beta ? [beta] : [])];
}

/** The wanted gradients, in the order of differentiableOf; only those are computed. */
function pickGradients(wanted: BatchNormGradients, compute: Record<keyof BatchNormGradients, () => tf.Tensor>): tf.Tensor[] {
  return (['input', 'gamma', 'beta'] as const).filter((key) => wanted[key]).map((key) => compute[key]());
}

/** How a conv or linear layer reading a batch norm's applied activation gets that activation back in
 * its backward without keeping it (models/fusion.ts, recomputedActivations): it saves `tensors` (the
 * batch norm's input and batch statistics, γ and β, which the batch norm keeps anyway) and
 * `recompute`s the activation from the saved copies, one elementwise pass. */
export interface RecomputableInput {
  tensors: tf.Tensor[];
  recompute(saved: tf.Tensor[]): tf.Tensor;
}

/** Batch norm with batch statistics and the hand-written backward. It keeps x and the batch mean and
 * variance when dγ or dx is wanted (both read x̂, recomputed from them), nothing for dβ alone, and
 * computes dx only when it is wanted. With `running`, the running statistics are updated. With
 * `activation` it applies that relu or relu6 too; with `folded` (which needs x kept) its backward
 * also applies the activation's mask, receiving the activation's output gradient, and it hands
 * `folded.recomputable` what a reader needs to recompute the activation. */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  node: BatchNormNode,
  running?: { mean: tf.Variable; variance: tf.Variable },
  wanted: BatchNormGradients = ALL_GRADIENTS,
  activation?: FusedActivation,
  folded?: { recomputable(input: RecomputableInput): void },
): tf.Tensor {
  const count = x.size / x.shape[x.rank - 1];
  if (count < 2) {
    // As torch: "Expected more than 1 value per channel when training".
    throw new Error(`batch norm ${node.id} in training mode needs more than 1 value per channel (batch × H × W = ${count})`);
  }
  const readsXHat = wanted.input || wanted.gamma;
  const applied = folded && activation ? { activation, beta } : undefined;
  if (folded && !(applied && readsXHat)) throw new Error(`batch norm ${node.id}: a folded activation needs the activation and x kept`);
  return customOp(differentiableOf(x, gamma, beta, wanted), (save) => {
    const stats = batchMoments(x, running && { ...running, momentum: node.momentum });
    if (readsXHat) save([x, stats]);
    if (applied) {
      folded?.recomputable({
        tensors: [x, stats, gamma, beta],
        recompute: ([savedX, savedStats, savedGamma, savedBeta]) =>
          batchNormApply(savedX, savedStats as tf.Tensor2D, savedGamma as tf.Tensor1D, savedBeta as tf.Tensor1D, node.eps, applied.activation),
      });
    }
    return {
      value: batchNormApply(x, stats, gamma, beta, node.eps, activation),
      gradFunc: (dy: tf.Tensor, [savedX, savedStats]: tf.Tensor[]) => {
        if (!readsXHat) return [channelSum(dy)];
        const { dx, dGamma, dBeta } = batchNormBackward(dy, savedX, savedStats as tf.Tensor2D, gamma, node.eps, wanted.input, applied);
        return pickGradients(wanted, { input: () => dx as tf.Tensor, gamma: () => dGamma, beta: () => dBeta });
      },
    };
  });
}

/** Batch norm with running statistics: one per-channel affine map y = x·s + t, s = γ/√(var + ε).
 * It keeps x only when dγ is wanted (dγ = Σ dy·(x − mean)/√(var + ε)); dx = dy·s reads parameters. */
export function batchNormEval(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  eps: number,
  wanted: BatchNormGradients = ALL_GRADIENTS,
  activation?: FusedActivation,
): tf.Tensor {
  const axes = reductionAxes(x.rank);
  return customOp(differentiableOf(x, gamma, beta, wanted), (save) => {
    if (wanted.gamma) save([x]);
    return {
      value: batchNormApply(x, { mean: runningMean, variance: runningVar }, gamma, beta, eps, activation),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // Recomputed from the parameters: the forward's tensors are gone by now.
        const invStdNow = tf.rsqrt(tf.add(runningVar, eps));
        return pickGradients(wanted, {
          input: () => tf.mul(dy, tf.mul(gamma, invStdNow)),
          gamma: () => tf.sum(tf.mul(dy, tf.mul(tf.sub(saved[0], runningMean), invStdNow)), axes),
          beta: () => tf.sum(dy, axes),
        });
      },
    };
  });
}
