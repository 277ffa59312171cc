// Fused ops of the engine: batch norm, layer norm, activations and their gradients, Adam's and
// GaLore's updates, matmuls (skinny, and batched for attention), attention's softmax, per-channel
// maps and sums, DoRA's weight norm, convs SwiftShader runs badly, dequantization. Each runs as one
// kernel where the active backend has it (webgpu/; cpu.ts for the optimizers, batch norm, DoRA's
// norm and dequantization) and as plain tfjs ops elsewhere; the plain version is the reference the
// tests hold the kernels to, and `setFusedKernels(false)` forces it everywhere (the bench's
// before/after, debugging).
//
// These are raw ops: no gradient is registered for them. The engine calls them inside customOp
// bodies and gradient functions (nn/batchnorm.ts, nn/activations.ts), where the tape is off.
import * as tf from '@tensorflow/tfjs';
import type { FusedActivation } from '../models/fusion';
import type { ActivationFn, QuantizedFormat } from '../models/spec';
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

/** Whether `t`'s data belongs to it alone on the active backend, so an in-place write changes no
 * other tensor (a variable assigned from a tensor still alive shares its data). */
function ownsData(t: tf.Tensor): boolean {
  return (tf.backend() as unknown as { refCount(dataId: object): number }).refCount(t.dataId) === 1;
}

/** A training-mode batch norm's running statistics, updated as torch does from each batch:
 * running ← (1 − momentum)·running + momentum·batch, with the unbiased batch variance (n/(n − 1)). */
export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
}

/**
 * Per-channel (last axis) mean and biased variance over every other axis, as one [2, C] tensor
 * (row 0 the mean, row 1 the variance); with `running`, the running statistics are updated from
 * them. On WebGPU both are one dispatch (the running statistics written in place).
 */
export function batchMoments(x: tf.Tensor, running?: RunningStats): tf.Tensor2D {
  if (fused(KERNELS.batchMoments) && (!running || (ownsData(running.mean) && ownsData(running.variance)))) {
    const inputs: tf.NamedTensorMap = running ? { x, runningMean: running.mean, runningVar: running.variance } : { x };
    return tf.engine().runKernel(KERNELS.batchMoments, inputs, { momentum: running?.momentum ?? 0 }) as tf.Tensor2D;
  }
  const { mean, variance } = tf.moments(x, channelAxes(x.rank));
  if (running) {
    const count = x.size / x.shape[x.rank - 1];
    const m = running.momentum;
    running.mean.assign(tf.add(tf.mul(running.mean, 1 - m), tf.mul(mean, m)));
    running.variance.assign(tf.add(tf.mul(running.variance, 1 - m), tf.mul(variance, (m * count) / (count - 1))));
  }
  return tf.stack([mean, variance]) as tf.Tensor2D;
}

/** The rows of a [2, C] tensor as two [C] tensors. */
function rowsOfStats(stats: tf.Tensor2D): [tf.Tensor1D, tf.Tensor1D] {
  return tf.unstack(stats) as [tf.Tensor1D, tf.Tensor1D];
}

/** (x − mean)/√(variance + ε)·γ + β, per channel, the mean and variance given as batchMoments'
 * [2, C] stats (training) or as two [C] tensors (running statistics); then `activation` if given
 * (models/fusion.ts), in the same pass on WebGPU. */
export function batchNormApply(
  x: tf.Tensor,
  moments: tf.Tensor2D | { mean: tf.Tensor1D; variance: tf.Tensor1D },
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  activation?: FusedActivation,
): tf.Tensor {
  const inputs = moments instanceof tf.Tensor ? { stats: moments } : moments;
  if (fused(KERNELS.batchNormApply)) {
    return tf.engine().runKernel(KERNELS.batchNormApply, { x, ...inputs, gamma, beta }, { eps, activation: activation ?? 'none' }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const [mean, variance] = moments instanceof tf.Tensor ? rowsOfStats(moments) : [moments.mean, moments.variance];
    const normalised = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
    return activation === 'relu' ? tf.relu(normalised) : activation === 'relu6' ? tf.relu6(normalised) : normalised;
  });
}

/** Where a relu or relu6 passes its gradient, from its input v: torch's 0 at the kinks. */
function passesGradient(activation: FusedActivation, v: tf.Tensor): tf.Tensor {
  return activation === 'relu' ? tf.greater(v, 0) : tf.logicalAnd(tf.greater(v, 0), tf.less(v, 6));
}

/** Training-mode batch norm's backward from x and its batch statistics (batchMoments' [2, C];
 * x̂ = (x − mean)/σ): dβ = Σ dy, dγ = Σ dy·x̂ and, when wanted, dx = γ/σ·(dy − dβ/n − x̂·dγ/n), n
 * values per channel. With `applied` (the relu or relu6 its forward applied, models/fusion.ts), dy
 * is the activation's output gradient and is first masked where the activation passes it, at
 * x̂·γ + β recomputed with the forward's arithmetic. On WebGPU: one reduction dispatch (dβ and dγ)
 * and one for dx. */
export function batchNormBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  stats: tf.Tensor2D,
  gamma: tf.Tensor1D,
  eps: number,
  inputGradWanted: boolean,
  applied?: { activation: FusedActivation; beta: tf.Tensor1D },
): { dx: tf.Tensor | null; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  const count = x.size / x.shape[x.rank - 1];
  if (fused(KERNELS.batchNormGradSums) && fused(KERNELS.batchNormInputGrad)) {
    const masking: tf.NamedTensorMap = applied ? { beta: applied.beta } : {};
    const activation = applied?.activation ?? 'none';
    const [dBeta, dGamma] = tf.engine().runKernel(KERNELS.batchNormGradSums, { dy, x, stats, gamma, ...masking }, { eps, activation }) as [tf.Tensor1D, tf.Tensor1D];
    const dx = inputGradWanted
      ? (tf.engine().runKernel(KERNELS.batchNormInputGrad, { dy, x, stats, gamma, ...masking, dBeta, dGamma }, { eps, count, activation }) as tf.Tensor)
      : null;
    return { dx, dGamma, dBeta };
  }
  const [dBeta, dGamma, dx] = tf.tidy(() => {
    const [mean, variance] = rowsOfStats(stats);
    const axes = channelAxes(x.rank);
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const g = applied ? tf.mul(dy, tf.cast(passesGradient(applied.activation, tf.add(tf.mul(xHat, gamma), applied.beta)), 'float32')) : dy;
    const sumDy = tf.sum(g, axes) as tf.Tensor1D;
    const sumDyXHat = tf.sum(tf.mul(g, xHat), axes) as tf.Tensor1D;
    if (!inputGradWanted) return [sumDy, sumDyXHat];
    // dx = g·a + x̂·b + c with per-channel a = γ/σ, b = −a·dγ/n, c = −a·dβ/n.
    const a = tf.mul(gamma, invStd);
    const b = tf.mul(a, tf.div(sumDyXHat, -count));
    const c = tf.mul(a, tf.div(sumDy, -count));
    return [sumDy, sumDyXHat, tf.add(tf.add(tf.mul(g, a), tf.mul(xHat, b)), c)];
  });
  return { dx: dx ?? null, dGamma: dGamma as tf.Tensor1D, dBeta: dBeta as tf.Tensor1D };
}

/**
 * Layer norm over the last axis: y = (x − μ)/σ·γ + β per row, with the row's mean and 1/σ
 * ([..., 1] each) for the backward. On WebGPU one dispatch.
 */
export function layerNormForward(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): { y: tf.Tensor; mean: tf.Tensor; invStd: tf.Tensor } {
  if (fused(KERNELS.layerNorm)) {
    const [y, mean, invStd] = tf.engine().runKernel(KERNELS.layerNorm, { x, gamma, beta }, { eps }) as tf.Tensor[];
    return { y, mean, invStd };
  }
  const [y, mean, invStd] = tf.tidy(() => {
    const m = tf.mean(x, -1, true);
    const centered = tf.sub(x, m);
    const inv = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    return [tf.add(tf.mul(tf.mul(centered, inv), gamma), beta), m, inv];
  });
  return { y, mean, invStd };
}

/**
 * Layer norm's gradients from x and the rows' mean and 1/σ, x̂ = (x − μ)/σ recomputed:
 *   dβ = Σ_rows dy,  dγ = Σ_rows dy·x̂,  g = dy·γ,  dx = (g − mean_D(g) − x̂·mean_D(g·x̂))/σ.
 * dγ and dβ come together (one reduction on WebGPU), dx only when wanted (one dispatch).
 */
export function layerNormBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  invStd: tf.Tensor,
  gamma: tf.Tensor1D,
  inputGradWanted: boolean,
): { dx: tf.Tensor | null; dGamma: tf.Tensor1D; dBeta: tf.Tensor1D } {
  if (fused(KERNELS.layerNormGradSums) && fused(KERNELS.layerNormInputGrad)) {
    const [dBeta, dGamma] = tf.engine().runKernel(KERNELS.layerNormGradSums, { dy, x, mean, invStd }) as [tf.Tensor1D, tf.Tensor1D];
    const dx = inputGradWanted ? (tf.engine().runKernel(KERNELS.layerNormInputGrad, { dy, x, mean, invStd, gamma }) as tf.Tensor) : null;
    return { dx, dGamma, dBeta };
  }
  const [dBeta, dGamma, dx] = tf.tidy(() => {
    const axes = channelAxes(x.rank);
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const sums = [tf.sum(dy, axes), tf.sum(tf.mul(dy, xHat), axes)];
    if (!inputGradWanted) return sums;
    const g = tf.mul(dy, gamma);
    const centered = tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xHat, tf.mean(tf.mul(g, xHat), -1, true)));
    return [...sums, tf.mul(centered, invStd)];
  });
  return { dx: dx ?? null, dGamma: dGamma as tf.Tensor1D, dBeta: dBeta as tf.Tensor1D };
}

/** hardswish(x) = x·relu6(x + 3)/6 and hardsigmoid(x) = relu6(x + 3)/6 (relu and relu6 are
 * single tfjs kernels already). */
export function activationForward(fn: 'hardswish' | 'hardsigmoid' | 'gelu', x: tf.Tensor): tf.Tensor {
  if (fused(KERNELS.activation)) return tf.engine().runKernel(KERNELS.activation, { x }, { fn }) as tf.Tensor;
  if (fn === 'gelu') return tf.tidy(() => tf.mul(x, normalCdf(x)));
  return tf.tidy(() => {
    const gate = tf.div(tf.relu6(tf.add(x, 3)), 6);
    return fn === 'hardswish' ? tf.mul(x, gate) : gate;
  });
}

/** Φ(x) = (1 + erf(x/√2))/2, with tfjs's erf (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7; the
 * WebGPU kernels use the same formula). */
const normalCdf = (x: tf.Tensor) => tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);

/** dy·f′ with torch's values at the kinks, from what the forward saved: the output for relu, relu6
 * and hardsigmoid, the input for hardswish and gelu.
 *   relu 1 for y > 0;  relu6 1 for 0 < y < 6 (tfjs's own Relu6 gradient is 1 at 6);
 *   hardsigmoid 1/6 for 0 < y < 1;  hardswish 0 for x < −3, 1 for x > 3, x/3 + 1/2 between;
 *   gelu (exact, x·Φ(x)) Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π). */
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
      case 'gelu': {
        const density = tf.mul(tf.exp(tf.mul(tf.square(saved), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        return tf.mul(dy, tf.add(normalCdf(saved), tf.mul(saved, density)));
      }
    }
  });
}

/**
 * op(a)·op(b) for 2-D tensors. On SwiftShader (WebGPU on the CPU) the lab's direct kernels beat
 * tfjs's tiled matmuls at every shape measured: the scalar one 1.3–10× at the engine's 1×1 convs and
 * weight gradients up to 512³ multiply-adds (e.g. [8192, 8]·[8, 48] 10 ms vs 100 ms) and lost on
 * 1024³; the 4×4-tiled vec4 one (M, K, N multiples of 4) at any size, 3.25 against 0.76 GFLOP/s at
 * 1024³ (the bench's roofline measures both). On hardware GPUs, where they are untested, tfjs's
 * kernels stay.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return matMul(a, b, transposeA, transposeB) as tf.Tensor2D;
}

/** op(A)·op(B) for each of a batch of matrices (A [batch, ., .], B [batch, ., .]): attention's
 * products. On SwiftShader the lab's matmul kernels in one dispatch (their sizes uniforms), where
 * tfjs's BatchMatMul compiled a pipeline per shape class and ran several times slower; tf.matMul
 * elsewhere. */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor3D {
  return matMul(a, b, transposeA, transposeB) as tf.Tensor3D;
}

const DIRECT_MATMUL_MAX_MACS = 512 ** 3;

/** matMul2d and batchMatMul: the lab's kernel where it wins (above), tf.matMul for everything else,
 * a shape mismatch included (tf.matMul reports it). */
function matMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const batch = a.rank === 3 ? a.shape[0] : 1;
  const [rowsA, colsA] = a.shape.slice(-2) as [number, number];
  const [rowsB, colsB] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
  const [innerB, n] = transposeB ? [colsB, rowsB] : [rowsB, colsB];
  const fits = (a.rank === 2 || a.rank === 3) && b.rank === a.rank && (a.rank === 2 || b.shape[0] === batch) && innerB === k;
  const tiled = m % 4 === 0 && k % 4 === 0 && n % 4 === 0;
  if (fits && fused(KERNELS.matMul) && onSoftwareAdapter() && (tiled || batch * m * k * n <= DIRECT_MATMUL_MAX_MACS)) {
    return tf.engine().runKernel(KERNELS.matMul, { a, b }, { transposeA, transposeB }) as tf.Tensor;
  }
  return tf.matMul(a, b, transposeA, transposeB);
}

/**
 * A dense conv (filter [k, k, Cin, Cout], torch's symmetric padding), or null where the lab has no
 * better kernel than tfjs's: on SwiftShader the direct kernel took 60–70 ms where tfjs's Conv2D
 * took ~300 ms at MobileNetV2's stem (3×3×3 products per output, 32×32, batch 8); only small
 * reductions (stems) use it, wider convs stay with tfjs's tiled kernels (not measured against).
 */
export function conv2dDirect(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D | null {
  const [k, , cin] = filter.shape;
  if (!fused(KERNELS.conv2d) || !onSoftwareAdapter() || k * k * cin > DIRECT_CONV_MAX_PRODUCTS) return null;
  return tf.engine().runKernel(KERNELS.conv2d, { x, filter }, { stride, pad }) as tf.Tensor4D;
}

const DIRECT_CONV_MAX_PRODUCTS = 160;

/** A depthwise conv's input gradient (filter [k, k, C, 1]), or null where the lab has no better
 * kernel than tfjs's: measured on SwiftShader only (below); at stride 1 with an odd channel count the
 * flipped forward conv (nn/layers.ts) beats the scalar direct kernel. */
export function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: readonly number[], stride: number, pad: number): tf.Tensor4D | null {
  if (!fused(KERNELS.depthwiseInputGrad) || !onSoftwareAdapter() || (stride === 1 && !fourChannelsAtATime(dy))) return null;
  return tf.engine().runKernel(KERNELS.depthwiseInputGrad, { dy, filter }, { inputShape: [...inputShape], stride, pad }) as tf.Tensor4D;
}

/** A depthwise conv (filter [k, k, C, 1], torch's symmetric padding), or null where the lab has no
 * better kernel than tfjs's DepthwiseConv2dNative. */
export function depthwiseConvDirect(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D | null {
  if (!fused(KERNELS.depthwiseConv) || !onSoftwareAdapter() || !fourChannelsAtATime(x)) return null;
  return tf.engine().runKernel(KERNELS.depthwiseConv, { x, filter }, { stride, pad }) as tf.Tensor4D;
}

/** A depthwise conv's filter gradient ([k, k, C, 1]), or null where the lab has no better kernel
 * than tfjs's DepthwiseConv2dNativeBackpropFilter. */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, kernel: number, stride: number, pad: number): tf.Tensor4D | null {
  if (!fused(KERNELS.depthwiseFilterGrad) || !onSoftwareAdapter() || !fourChannelsAtATime(x)) return null;
  return tf.engine().runKernel(KERNELS.depthwiseFilterGrad, { x, dy }, { kernel, stride, pad }) as tf.Tensor4D;
}

/** The depthwise kernels take four channels per invocation (vec4): the channel count must be a
 * multiple of 4, as at every width of the lab's MobileNets. */
const fourChannelsAtATime = (t: tf.Tensor4D) => t.shape[3] % 4 === 0;

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

/**
 * GaLore's Adam on a projected gradient r, the moments updated in place: m ← β1·m + (1 − β1)·r,
 * v ← β2·v + (1 − β2)·r², and returns the normalised step m/(√v/√(1 − β2ᵗ) + ε) (the caller
 * projects it back and scales it). One dispatch on WebGPU where the plain ops take six and two new
 * moment tensors; plain where a moment shares its data (the in-place write would change another tensor).
 */
export function adamDirection(
  expAvg: tf.Variable,
  expAvgSq: tf.Variable,
  grad: tf.Tensor,
  { beta1, beta2, biasCorrection2Sqrt, eps }: Pick<AdamStep, 'beta1' | 'beta2' | 'biasCorrection2Sqrt' | 'eps'>,
): tf.Tensor {
  if (fused(KERNELS.adamDirection) && ownsData(expAvg) && ownsData(expAvgSq)) {
    return tf.engine().runKernel(KERNELS.adamDirection, { expAvg, expAvgSq, grad }, { beta1, beta2, biasCorrection2Sqrt, eps }) as tf.Tensor;
  }
  expAvg.assign(adamMoment(expAvg, grad, grad, beta1, 0, false));
  expAvgSq.assign(adamMoment(expAvgSq, grad, grad, beta2, 0, true));
  return tf.tidy(() => tf.div(expAvg, tf.add(tf.div(tf.sqrt(expAvgSq), biasCorrection2Sqrt), eps)));
}

/** Adam's hyperparameters for one step (adamMulti): l2 is Adam's L2 term added to the gradient
 * (0 for AdamW), decay = 1 − lr·λ for AdamW's decoupled weight decay (else 1), stepSize =
 * lr/(1 − β1ᵗ), biasCorrection2Sqrt = √(1 − β2ᵗ). */
export interface AdamStep {
  beta1: number;
  beta2: number;
  l2: number;
  stepSize: number;
  biasCorrection2Sqrt: number;
  eps: number;
  decay: number;
}

/** One parameter of a multi-tensor Adam step: its moments sit at `offset` (first) and
 * half + `offset` (second) of the optimizer's moment arena. */
export interface AdamEntry {
  param: tf.Variable;
  grad: tf.Tensor;
  offset: number;
}

/** Parameters per multi-tensor Adam dispatch: the arena plus a parameter and its gradient each,
 * within the device's storage-buffer bindings (8 by default: 3 parameters). */
function adamGroupSize(): number {
  const limits = (tf.backend() as { device?: GPUDevice }).device?.limits;
  return limits ? Math.max(1, Math.floor((limits.maxStorageBuffersPerShaderStage - 1) / 2)) : Number.POSITIVE_INFINITY;
}

/**
 * Adam's step for many parameters at once, everything updated in place: `moments` is the arena
 * [first moments | second moments] (2 × half floats), each entry's slices at its offset. Per
 * parameter: g ← grad + l2·p; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * p ← p·decay − stepSize·m/(√v/√(1 − β2ᵗ) + ε). On WebGPU one dispatch per group of parameters
 * (adamGroupSize) instead of three per parameter, and no temporary; the plain version slices the
 * arena and assigns new tensors.
 */
export function adamMulti(moments: tf.Variable, entries: readonly AdamEntry[], step: AdamStep): void {
  const half = moments.size / 2;
  if (fused(KERNELS.adamMulti) && ownsData(moments) && entries.every((entry) => ownsData(entry.param))) {
    const size = adamGroupSize();
    for (let first = 0; first < entries.length; first += size) {
      const group = entries.slice(first, first + size);
      const inputs: Record<string, tf.Tensor> = { moments };
      const ends: number[] = [];
      group.forEach(({ param, grad }, k) => {
        inputs[`param${k}`] = param;
        inputs[`grad${k}`] = grad;
        ends.push((ends[k - 1] ?? 0) + param.size);
      });
      tf.engine().runKernel(KERNELS.adamMulti, inputs, { ...step, count: group.length, ends, offsets: group.map((e) => e.offset), half });
    }
    return;
  }
  tf.tidy(() => {
    const flat = tf.reshape(moments, [2, half]);
    const firsts: tf.Tensor[] = [];
    const seconds: tf.Tensor[] = [];
    const sorted = [...entries].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const { param, grad, offset } of sorted) {
      if (offset !== covered) throw new Error(`adamMulti: the entries must cover the moment arena (a gap at ${covered})`);
      covered += param.size;
      const m = tf.reshape(tf.slice(flat, [0, offset], [1, param.size]), param.shape);
      const v = tf.reshape(tf.slice(flat, [1, offset], [1, param.size]), param.shape);
      const nextM = adamMoment(m, grad, param, step.beta1, step.l2, false);
      const nextV = adamMoment(v, grad, param, step.beta2, step.l2, true);
      param.assign(adamParam(param, nextM, nextV, step));
      firsts.push(tf.reshape(nextM, [-1]));
      seconds.push(tf.reshape(nextV, [-1]));
    }
    if (covered !== half) throw new Error(`adamMulti: the entries cover ${covered} of the arena's ${half} elements`);
    moments.assign(tf.concat([...firsts, ...seconds]));
  });
}

/** [N, H, W, C] → [N, 1, 1, C]: the mean over H and W. */
export function spatialMean(x: tf.Tensor4D): tf.Tensor4D {
  if (fused(KERNELS.spatialMean)) return tf.engine().runKernel(KERNELS.spatialMean, { x }, {}) as tf.Tensor4D;
  return tf.mean(x, [1, 2], true);
}

/** x + a·y, one kernel for two (LoRA's base + s·delta; GaLore's update of a parameter by its
 * back-projected step, with a negative a). */
export function addScaled(x: tf.Tensor, y: tf.Tensor, a: number): tf.Tensor {
  if (fused(KERNELS.addScaled)) return tf.engine().runKernel(KERNELS.addScaled, { x, y }, { a }) as tf.Tensor;
  return tf.tidy(() => tf.add(x, tf.mul(y, a)));
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

/** softmax(scale·x) over the last axis (attention's probabilities from its scores): one pass per
 * row on WebGPU, the scale folded in. */
export function scaledSoftmax(x: tf.Tensor, scale: number): tf.Tensor {
  if (fused(KERNELS.scaledSoftmax)) return tf.engine().runKernel(KERNELS.scaledSoftmax, { x }, { scale }) as tf.Tensor;
  return tf.tidy(() => tf.softmax(tf.mul(x, scale)));
}

/** The input gradient of y = softmax(scale·x) over the last axis: scale·y ⊙ (dy − Σ_row dy ⊙ y). */
export function scaledSoftmaxGrad(y: tf.Tensor, dy: tf.Tensor, scale: number): tf.Tensor {
  if (fused(KERNELS.scaledSoftmaxGrad)) return tf.engine().runKernel(KERNELS.scaledSoftmaxGrad, { y, dy }, { scale }) as tf.Tensor;
  return tf.tidy(() => tf.mul(tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), -1, true))), scale));
}

/** Σ x per channel (the last axis) over every other axis: a bias's gradient, and β's alone. */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  if (fused(KERNELS.channelSum)) return tf.engine().runKernel(KERNELS.channelSum, { x }, {}) as tf.Tensor1D;
  return tf.sum(x, channelAxes(x.rank)) as tf.Tensor1D;
}

/** x + bias per channel (the last axis): a conv's or linear layer's bias, in one elementwise pass. */
export function addBias(x: tf.Tensor, bias: tf.Tensor1D): tf.Tensor {
  if (fused(KERNELS.channelAffine)) return tf.engine().runKernel(KERNELS.channelAffine, { x, shift: bias }, {}) as tf.Tensor;
  return tf.add(x, bias);
}

/** Per channel (the last axis), summed over every other axis: Σ dy and Σ dy·x. */
export function channelSums(dy: tf.Tensor, x: tf.Tensor): { sumDy: tf.Tensor1D; sumDyX: tf.Tensor1D } {
  if (fused(KERNELS.channelSums)) {
    const [sumDy, sumDyX] = tf.engine().runKernel(KERNELS.channelSums, { dy, x }, {}) as [tf.Tensor1D, tf.Tensor1D];
    return { sumDy, sumDyX };
  }
  const axes = channelAxes(dy.rank);
  return { sumDy: tf.sum(dy, axes) as tf.Tensor1D, sumDyX: tf.tidy(() => tf.sum(tf.mul(dy, x), axes) as tf.Tensor1D) };
}

/**
 * ‖W + s·AB‖ per output channel (W [K, out], A [K, r], B [r, out]): DoRA's weight norm. As a kernel
 * (WebGPU, CPU, wasm) W + s·AB is formed a row at a time inside one reduction; the plain version
 * expands it as ‖W‖² + 2s·Σ B ⊙ AᵀW + s²·Σ B ⊙ (AᵀA)B, whose only weight-sized temporary is W²
 * (forming W + s·AB would hold AB and the sum, then its square). With B = 0 both are ‖W‖.
 */
export function compositeNorm(weight: tf.Tensor2D, loraA: tf.Tensor2D, loraB: tf.Tensor2D, scaling: number): tf.Tensor1D {
  if (fused(KERNELS.doraNorm)) return tf.engine().runKernel(KERNELS.doraNorm, { weight, loraA, loraB }, { scaling }) as tf.Tensor1D;
  // Column sums of products as per-channel sums (one pass each on WebGPU).
  const columnDot = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => channelSums(a, b).sumDyX);
  return tf.tidy(() => {
    const weightSquared = columnDot(weight, weight);
    const cross = columnDot(loraB, matMul2d(loraA, weight, true, false));
    const lowRank = columnDot(loraB, matMul2d(matMul2d(loraA, loraA, true, false), loraB));
    const squared = tf.add(weightSquared, tf.add(tf.mul(cross, 2 * scaling), tf.mul(lowRank, scaling * scaling)));
    // Rounding can take the sum below 0 where W + s·AB has a (near-)zero column.
    return tf.sqrt(tf.relu(squared)) as tf.Tensor1D;
  });
}

/** A block-wise quantized weight (quant/blockwise.ts: packed int32 codes, float32 absmax per block
 * of 64) as a float32 tensor of `shape`, in one kernel: WebGPU's (webgpu.ts), or the CPU and wasm
 * backends' (cpu.ts). It replaces no tfjs op, so it runs whatever setFusedKernels says. There is
 * none for WebGL: its int32 tensors are float32 textures, exact only below 2^24, and a word of
 * packed codes is not. */
export function dequantize(codes: tf.Tensor1D, scales: tf.Tensor1D, format: QuantizedFormat, shape: readonly number[]): tf.Tensor {
  if (tf.getKernel(KERNELS.dequantize, tf.getBackend()) === undefined) {
    throw new Error(`a quantized frozen base needs the WebGPU, wasm or CPU backend (this is ${tf.getBackend()}): choose fp32 frozen weights here`);
  }
  return tf.engine().runKernel(KERNELS.dequantize, { codes, scales }, { format, shape: [...shape] }) as tf.Tensor;
}
