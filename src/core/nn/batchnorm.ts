// Batch norm over NHWC (or [N, C]) tensors, per channel (the last axis).
//
// Training mode normalises with the batch statistics. Its backward is written by hand: tfjs's
// auto-diff of mean/variance/normalise dominated step time on WebGPU (many Mul/Sum/Mean/Sub
// kernels and their saved inputs). The custom gradient keeps only x̂ and 1/σ (and γ, a parameter
// that is alive anyway) and runs as two reductions and a few elementwise kernels:
//   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/σ · (dy − dβ/n − x̂·dγ/n),  n = values per channel.
// The running statistics are NOT updated here (that would be a side effect inside the gradient
// computation): the batch mean and variance go to a BatchStatsSink, and the caller applies them
// with applyRunningStatUpdates once the gradients are computed.
import * as tf from '@tensorflow/tfjs';
import type { BatchNormNode } from '../models/spec';

/** One training-mode batch norm's batch statistics, kept alive until applied or disposed. */
export interface BatchStats {
  node: BatchNormNode;
  mean: tf.Tensor1D;
  /** Biased (divide-by-n) variance, the one used to normalise. */
  variance: tf.Tensor1D;
  /** Values per channel (batch × H × W). */
  count: number;
}

/** Collects the batch statistics of a training forward pass; dispose() frees what is left. */
export class BatchStatsSink {
  private entries: BatchStats[] = [];

  add(stats: BatchStats): void {
    this.entries.push(stats);
  }

  /** Hands the collected statistics over (the caller disposes them) and empties the sink. */
  take(): BatchStats[] {
    const taken = this.entries;
    this.entries = [];
    return taken;
  }

  dispose(): void {
    for (const { mean, variance } of this.take()) tf.dispose([mean, variance]);
  }
}

function reductionAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/** Batch norm with batch statistics and the hand-written backward. */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  node: BatchNormNode,
  sink?: BatchStatsSink,
): tf.Tensor {
  const axes = reductionAxes(x.rank);
  const count = x.size / x.shape[x.rank - 1];
  if (count < 2) {
    // As torch: "Expected more than 1 value per channel when training".
    throw new Error(`batch norm ${node.id} in training mode needs more than 1 value per channel (batch × H × W = ${count})`);
  }
  const op = tf.customGrad(((input: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(input, axes);
    const invStd = tf.rsqrt(tf.add(variance, node.eps));
    const xHat = tf.mul(tf.sub(input, mean), invStd);
    save([xHat, invStd, g]);
    if (sink) sink.add({ node, mean: tf.keep(mean as tf.Tensor1D), variance: tf.keep(variance as tf.Tensor1D), count });
    return {
      value: tf.add(tf.mul(xHat, g), b),
      gradFunc: (dy: tf.Tensor, [savedXHat, savedInvStd, savedGamma]: tf.Tensor[]) => {
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, savedXHat), axes);
        // dx = dy·a + x̂·b + c with per-channel a = γ/σ, b = −a·dγ/n, c = −a·dβ/n.
        const a = tf.mul(savedGamma, savedInvStd);
        const b = tf.mul(a, tf.div(dGamma, -count));
        const c = tf.mul(a, tf.div(dBeta, -count));
        const dx = tf.add(tf.add(tf.mul(dy, a), tf.mul(savedXHat, b)), c);
        return [dx, dGamma, dBeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta);
}

/** Batch norm with running statistics: one per-channel affine map (auto-diff is cheap here). */
export function batchNormEval(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  eps: number,
): tf.Tensor {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVar, eps)));
  const shift = tf.sub(beta, tf.mul(runningMean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

/** torch's update: running ← (1 − momentum)·running + momentum·batch, with the unbiased batch
 * variance (n/(n−1)). Disposes the statistics. */
export function applyRunningStatUpdates(
  stats: readonly BatchStats[],
  variables: ReadonlyMap<string, tf.Variable>,
): void {
  try {
    tf.tidy(() => {
      for (const { node, mean, variance, count } of stats) {
        const runningMean = variables.get(node.runningMean);
        const runningVar = variables.get(node.runningVar);
        if (!runningMean || !runningVar) throw new Error(`batch norm ${node.id}: running statistics missing`);
        const m = node.momentum;
        runningMean.assign(tf.add(tf.mul(runningMean, 1 - m), tf.mul(mean, m)));
        runningVar.assign(tf.add(tf.mul(runningVar, 1 - m), tf.mul(variance, (m * count) / (count - 1))));
      }
    });
  } finally {
    for (const { mean, variance } of stats) tf.dispose([mean, variance]);
  }
}
