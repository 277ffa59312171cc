// Fused ops of the engine (batch norm, activation gradients, Adam's update, skinny matmuls). Each
// runs as one kernel where the active backend has it (webgpu.ts; cpu.ts for Adam) and as plain
// tfjs ops elsewhere; the
// plain version is the reference the e2e test holds the kernels to, and `setFusedKernels(false)`
// forces it everywhere (the bench's before/after, debugging).
//
// These are raw ops: no gradient is registered for them. The engine calls them inside customOp
// bodies and gradient functions (nn/batchnorm.ts, nn/activations.ts), where the tape is off.
import * as tf from '@tensorflow/tfjs';
import type { ActivationFn } from '../models/spec';
import { registerCpuKernels } from './cpu';
import { KERNELS, registerWebGpuKernels } from './webgpu';

registerWebGpuKernels();
registerCpuKernels();

let fusedEnabled = true;

/** Turns the fused kernels on or off (default on); returns the previous setting. */
export function setFusedKernels(enabled: boolean): boolean {
  const previous = fusedEnabled;
  fusedEnabled = enabled;
  return previous;
}

function fused(kernelName: string): boolean {
  return fusedEnabled && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

const channelAxes = (rank: number) => Array.from({ length: rank - 1 }, (_, i) => i);

/** Per-channel (last axis) mean and biased variance over every other axis. */
export function channelMoments(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (fused(KERNELS.channelMoments)) {
    const stats = tf.engine().runKernel(KERNELS.channelMoments, { x }, {}) as tf.Tensor2D;
    const [mean, variance] = tf.unstack(stats) as [tf.Tensor1D, tf.Tensor1D];
    stats.dispose();
    return { mean, variance };
  }
  const { mean, variance } = tf.moments(x, channelAxes(x.rank));
  return { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** (x − mean)/√(variance + ε)·γ + β, per channel. */
export function batchNormApply(
  x: tf.Tensor,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor {
  if (fused(KERNELS.batchNormApply)) return tf.engine().runKernel(KERNELS.batchNormApply, { x, mean, variance, gamma, beta }, { eps }) as tf.Tensor;
  return tf.tidy(() => tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta));
}

/** Training-mode batch norm's backward from x and its batch statistics (x̂ = (x − mean)/σ):
 * dβ = Σ dy, dγ = Σ dy·x̂ and, when wanted, dx = γ/σ·(dy − dβ/n − x̂·dγ/n), n values per channel. */
export function batchNormBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  eps: number,
  inputGradWanted: boolean,
): { dx: tf.Tensor | null; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const count = x.size / x.shape[x.rank - 1];
  if (fused(KERNELS.batchNormGradSums) && fused(KERNELS.batchNormInputGrad)) {
    const sums = tf.engine().runKernel(KERNELS.batchNormGradSums, { dy, x, mean, variance }, { eps }) as tf.Tensor2D;
    const dx = inputGradWanted
      ? (tf.engine().runKernel(KERNELS.batchNormInputGrad, { dy, x, mean, variance, gamma, sums }, { eps, count }) as tf.Tensor)
      : null;
    const [dBeta, dGamma] = tf.unstack(sums) as [tf.Tensor1D, tf.Tensor1D];
    sums.dispose();
    return { dx, dGamma, dBeta };
  }
  const [dBeta, dGamma, dx] = tf.tidy(() => {
    const axes = channelAxes(x.rank);
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const sumDy = tf.sum(dy, axes) as tf.Tensor1D;
    const sumDyXHat = tf.sum(tf.mul(dy, xHat), axes) as tf.Tensor1D;
    if (!inputGradWanted) return [sumDy, sumDyXHat];
    // dx = dy·a + x̂·b + c with per-channel a = γ/σ, b = −a·dγ/n, c = −a·dβ/n.
    const a = tf.mul(gamma, invStd);
    const b = tf.mul(a, tf.div(sumDyXHat, -count));
    const c = tf.mul(a, tf.div(sumDy, -count));
    return [sumDy, sumDyXHat, tf.add(tf.add(tf.mul(dy, a), tf.mul(xHat, b)), c)];
  });
  return { dx: dx ?? null, dGamma: dGamma as tf.Tensor1D, dBeta: dBeta as tf.Tensor1D };
}

/** hardswish(x) = x·relu6(x + 3)/6 and hardsigmoid(x) = relu6(x + 3)/6 (relu and relu6 are
 * single tfjs kernels already). */
export function activationForward(fn: 'hardswish' | 'hardsigmoid', x: tf.Tensor): tf.Tensor {
  if (fused(KERNELS.activation)) return tf.engine().runKernel(KERNELS.activation, { x }, { fn }) as tf.Tensor;
  return tf.tidy(() => {
    const gate = tf.div(tf.relu6(tf.add(x, 3)), 6);
    return fn === 'hardswish' ? tf.mul(x, gate) : gate;
  });
}

/** dy·f′ with torch's values at the kinks, from what the forward saved: the output for relu, relu6
 * and hardsigmoid, the input for hardswish.
 *   relu 1 for y > 0;  relu6 1 for 0 < y < 6 (tfjs's own Relu6 gradient is 1 at 6);
 *   hardsigmoid 1/6 for 0 < y < 1;  hardswish 0 for x < −3, 1 for x > 3, x/3 + 1/2 between. */
export function activationGrad(fn: ActivationFn, dy: tf.Tensor, saved: tf.Tensor): tf.Tensor {
  if (fused(KERNELS.activationGrad)) return tf.engine().runKernel(KERNELS.activationGrad, { dy, saved }, { fn }) as tf.Tensor;
  return tf.tidy(() => {
    const mask = (condition: tf.Tensor) => tf.cast(condition, 'float32');
    switch (fn) {
      case 'relu':
        return tf.mul(dy, mask(tf.greater(saved, 0)));
      case 'relu6':
        return tf.mul(dy, mask(tf.logicalAnd(tf.greater(saved, 0), tf.less(saved, 6))));
      case 'hardsigmoid':
        return tf.mul(dy, tf.div(mask(tf.logicalAnd(tf.greater(saved, 0), tf.less(saved, 1))), 6));
      case 'hardswish': {
        const inRamp = mask(tf.logicalAnd(tf.greaterEqual(saved, -3), tf.lessEqual(saved, 3)));
        const slope = tf.add(tf.mul(inRamp, tf.add(tf.div(saved, 3), 0.5)), mask(tf.greater(saved, 3)));
        return tf.mul(dy, slope);
      }
    }
  });
}

/**
 * op(a)·op(b) for 2-D tensors. On SwiftShader (WebGPU on the CPU) the lab's direct kernel beat
 * tfjs's tiled matmuls 1.3–10× at every shape of the engine's 1×1 convs and weight gradients up to
 * 512³ multiply-adds (timed side by side in one page: e.g. [8192, 8]·[8, 48] 10 ms vs 100 ms,
 * [8, 8192]·[8192, 48] 14 ms vs 156 ms) and lost on 1024³; on hardware GPUs, where it is untested,
 * tfjs's kernels stay.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  const m = transposeA ? a.shape[1] : a.shape[0];
  const k = transposeA ? a.shape[0] : a.shape[1];
  const n = transposeB ? b.shape[0] : b.shape[1];
  const innerMatches = k === (transposeB ? b.shape[1] : b.shape[0]);
  // A shape mismatch goes to tf.matMul, which reports it.
  if (innerMatches && fused(KERNELS.matMul) && onSoftwareAdapter() && m * k * n <= DIRECT_MATMUL_MAX_MACS) {
    return tf.engine().runKernel(KERNELS.matMul, { a, b }, { transposeA, transposeB }) as tf.Tensor2D;
  }
  return tf.matMul(a, b, transposeA, transposeB);
}

const DIRECT_MATMUL_MAX_MACS = 512 ** 3;

/** Whether the WebGPU adapter is SwiftShader (Chromium's CPU implementation of WebGPU). */
function onSoftwareAdapter(): boolean {
  const info = (tf.backend() as { adapterInfo?: { architecture?: string } }).adapterInfo;
  return info?.architecture === 'swiftshader';
}

/** Adam's moment update m·β + (1 − β)·g, or with `square` v·β + (1 − β)·g², where g = grad + λ·param
 * (Adam's L2 weight decay; pass λ = 0 for none or for AdamW). */
export function adamMoment(moment: tf.Tensor, grad: tf.Tensor, param: tf.Tensor, beta: number, weightDecay: number, square: boolean): tf.Tensor {
  if (fused(KERNELS.adamMoment)) return tf.engine().runKernel(KERNELS.adamMoment, { moment, grad, param }, { beta, weightDecay, square }) as tf.Tensor;
  return tf.tidy(() => {
    const g = weightDecay !== 0 ? tf.add(grad, tf.mul(param, weightDecay)) : grad;
    return tf.add(tf.mul(moment, beta), tf.mul(square ? tf.square(g) : g, 1 - beta));
  });
}

/** Adam's parameter update p·decay − stepSize·m/(√v/√(1 − β2ᵗ) + ε); decay = 1 − lr·λ for AdamW's
 * decoupled weight decay, else 1. */
export function adamParam(
  param: tf.Tensor,
  expAvg: tf.Tensor,
  expAvgSq: tf.Tensor,
  { stepSize, biasCorrection2Sqrt, eps, decay }: { stepSize: number; biasCorrection2Sqrt: number; eps: number; decay: number },
): tf.Tensor {
  if (fused(KERNELS.adamParam)) {
    return tf.engine().runKernel(KERNELS.adamParam, { param, expAvg, expAvgSq }, { stepSize, biasCorrection2Sqrt, eps, decay }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const decayed = decay !== 1 ? tf.mul(param, decay) : param;
    const denom = tf.add(tf.div(tf.sqrt(expAvgSq), biasCorrection2Sqrt), eps);
    return tf.sub(decayed, tf.mul(tf.div(expAvg, denom), stepSize));
  });
}

/** [N, H, W, C] → [N, 1, 1, C]: the mean over H and W. */
export function spatialMean(x: tf.Tensor4D): tf.Tensor4D {
  if (fused(KERNELS.spatialMean)) return tf.engine().runKernel(KERNELS.spatialMean, { x }, {}) as tf.Tensor4D;
  return tf.mean(x, [1, 2], true);
}

/** x − a·y (GaLore's update of a parameter by its back-projected step). */
export function subtractScaled(x: tf.Tensor, y: tf.Tensor, a: number): tf.Tensor {
  if (fused(KERNELS.subtractScaled)) return tf.engine().runKernel(KERNELS.subtractScaled, { x, y }, { a }) as tf.Tensor;
  return tf.tidy(() => tf.sub(x, tf.mul(y, a)));
}

/** x·scale + shift per channel (the last axis); `shift` optional. */
export function channelAffine(x: tf.Tensor, scale: tf.Tensor1D, shift?: tf.Tensor1D): tf.Tensor {
  if (fused(KERNELS.channelAffine)) {
    return tf.engine().runKernel(KERNELS.channelAffine, shift ? { x, scale, shift } : { x, scale }, {}) as tf.Tensor;
  }
  return tf.tidy(() => {
    const scaled = tf.mul(x, scale);
    return shift ? tf.add(scaled, shift) : scaled;
  });
}

/** Per channel (the last axis), summed over every other axis: Σ dy and Σ dy·x. */
export function channelSums(dy: tf.Tensor, x: tf.Tensor): { sumDy: tf.Tensor1D; sumDyX: tf.Tensor1D } {
  if (fused(KERNELS.channelSums)) {
    const sums = tf.engine().runKernel(KERNELS.channelSums, { dy, x }, {}) as tf.Tensor2D;
    const [sumDy, sumDyX] = tf.unstack(sums) as [tf.Tensor1D, tf.Tensor1D];
    sums.dispose();
    return { sumDy, sumDyX };
  }
  const axes = channelAxes(dy.rank);
  return { sumDy: tf.sum(dy, axes) as tf.Tensor1D, sumDyX: tf.tidy(() => tf.sum(tf.mul(dy, x), axes) as tf.Tensor1D) };
}
