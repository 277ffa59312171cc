// The interpreter's side of the adapter nodes that src/core/adapters adds to a spec, written with
// customOp (customOp.ts) so that the tape keeps what the analytic profiler counts (profile/memory.ts)
// and no more; tfjs's own Add and Multiply would keep both operands of each:
//   lora_add      nothing (its gradients are dY and s·dY);
//   dora_combine  the per-channel norm, and base + s·delta when the magnitude trains (dm reads it).
// Which gradients are wanted comes from the gradient plan (gradientPlan.ts), as for layers.ts.
import * as tf from '@tensorflow/tfjs';
import type { DoraCombineNode, LoraAddNode } from '../models/spec';
import { customOp } from './customOp';

/** Which of a DoRA combine's gradients are wanted; `bias` is ignored for a node without one. */
export interface DoraGradients {
  base: boolean;
  delta: boolean;
  magnitude: boolean;
  bias: boolean;
}

function checkSameShape(id: string, base: tf.Tensor, delta: tf.Tensor): void {
  if (base.shape.join() !== delta.shape.join()) {
    throw new Error(`forward: adapter node ${id} combines shapes [${base.shape.join(', ')}] and [${delta.shape.join(', ')}]`);
  }
}

/** LoRA: base + scaling · B(A(x)); `wanted` says which of (base, delta) need the gradient. */
export function loraAdd(node: LoraAddNode, base: tf.Tensor, delta: tf.Tensor, wanted: readonly [boolean, boolean]): tf.Tensor {
  checkSameShape(node.id, base, delta);
  return customOp(
    [base, delta].filter((_, i) => wanted[i]),
    () => ({
      value: tf.add(base, tf.mul(delta, node.scaling)),
      // A new tensor per input: the tape disposes each input's gradient on its own.
      gradFunc: (dy) => [...(wanted[0] ? [tf.clone(dy)] : []), ...(wanted[1] ? [tf.mul(dy, node.scaling)] : [])],
    }),
  );
}

/** All axes but the last (the channel axis, NHWC or [N, features]). */
const nonChannelAxes = (x: tf.Tensor): number[] => Array.from({ length: x.rank - 1 }, (_, i) => i);

/**
 * DoRA (PEFT): (m / ‖W + s·BA‖) ⊙ (base + s·delta) + bias, the norm per output channel over all
 * other axes of the composite weight and detached from the gradient, as PEFT does: W, A and B get
 * no gradient here (A and B get theirs through `delta`'s own nodes). Weights are in the lab layout:
 * W [kh, kw, cin, cout] or [in, out]; A [kh, kw, cin, r] or [in, r]; B [1, 1, r, cout] or [r, out].
 */
export function doraCombine(
  node: DoraCombineNode,
  base: tf.Tensor,
  delta: tf.Tensor,
  param: (name: string) => tf.Tensor,
  wanted: DoraGradients,
): tf.Tensor {
  checkSameShape(node.id, base, delta);
  const weight = param(node.baseWeight);
  const loraA = param(node.loraA);
  const loraB = param(node.loraB);
  const magnitude = param(node.magnitude);
  const bias = node.bias ? param(node.bias) : undefined;
  const outChannels = magnitude.size;
  const rank = loraA.shape[loraA.rank - 1];
  if (weight.shape[weight.rank - 1] !== outChannels || loraB.size !== rank * outChannels || base.shape[base.rank - 1] !== outChannels) {
    throw new Error(
      `forward: DoRA node ${node.id} needs W [..., ${outChannels}], B of ${rank}×${outChannels} values and ${outChannels} ` +
        `channels in (got W [${weight.shape.join(', ')}], B [${loraB.shape.join(', ')}], input [${base.shape.join(', ')}]; ` +
        'depthwise bases are not supported)',
    );
  }
  const inputGrads = wanted.base || wanted.delta;
  const differentiable = [
    ...(wanted.base ? [base] : []),
    ...(wanted.delta ? [delta] : []),
    ...(wanted.magnitude ? [magnitude] : []),
    ...(bias && wanted.bias ? [bias] : []),
  ];
  return customOp(differentiable, (save) => {
    const norm = compositeNorm(
      tf.reshape(weight, [-1, outChannels]),
      tf.reshape(loraA, [-1, rank]),
      tf.reshape(loraB, [rank, outChannels]),
      node.scaling,
    );
    // A tidy of its own frees s·delta at once (the body's tidy would hold it to the end).
    const combined = tf.tidy(() => tf.add(base, tf.mul(delta, node.scaling)));
    // dBase and dDelta read m/‖·‖ (m is a parameter: its saved clone shares the variable's buffer);
    // dm reads (base + s·delta)/‖·‖; the bias's gradient only dY.
    save([
      ...(inputGrads || wanted.magnitude ? [norm] : []),
      ...(inputGrads ? [magnitude] : []),
      ...(wanted.magnitude ? [combined] : []),
    ]);
    const y = tf.mul(combined, tf.div(tf.reshape(magnitude, [outChannels]), norm));
    return {
      value: bias ? tf.add(y, bias) : y,
      gradFunc: (dy, saved) => {
        const [savedNorm] = saved;
        const grads: tf.Tensor[] = [];
        if (inputGrads) {
          const scale = tf.div(tf.reshape(saved[1], [outChannels]), savedNorm);
          if (wanted.base) grads.push(tf.mul(dy, scale));
          if (wanted.delta) grads.push(tf.mul(dy, tf.mul(scale, node.scaling)));
        }
        if (wanted.magnitude) {
          const savedCombined = saved[saved.length - 1];
          grads.push(tf.reshape(tf.div(tf.sum(tf.mul(dy, savedCombined), nonChannelAxes(dy)), savedNorm), magnitude.shape));
        }
        if (bias && wanted.bias) grads.push(tf.reshape(tf.sum(dy, nonChannelAxes(dy)), bias.shape));
        return grads;
      },
    };
  });
}

/**
 * ‖W + s·AB‖ per output channel (W [K, out], A [K, r], B [r, out]), expanded as
 * ‖W‖² + 2s·Σ B ⊙ AᵀW + s²·Σ B ⊙ (AᵀA)B: the only weight-sized temporary is W², where forming
 * W + s·AB holds two (AB and the sum) and then its square. With B = 0 it is ‖W‖ exactly.
 */
export function compositeNorm(weight: tf.Tensor2D, loraA: tf.Tensor2D, loraB: tf.Tensor2D, scaling: number): tf.Tensor1D {
  return tf.tidy(() => {
    const weightSquared = tf.tidy(() => tf.sum(tf.square(weight), 0));
    const cross = tf.sum(tf.mul(loraB, tf.matMul(loraA, weight, true, false)), 0);
    const lowRank = tf.sum(tf.mul(loraB, tf.matMul(tf.matMul(loraA, loraA, true, false), loraB)), 0);
    const squared = tf.add(weightSquared, tf.add(tf.mul(cross, 2 * scaling), tf.mul(lowRank, scaling * scaling)));
    // Rounding can take the sum below 0 where W + s·AB has a (near-)zero column.
    return tf.sqrt(tf.relu(squared)) as tf.Tensor1D;
  });
}
