// The interpreter's side of the adapter nodes that src/core/adapters adds to a spec, written with
// customOp (customOp.ts) so that the tape keeps what the analytic profiler counts (profile/memory.ts)
// and no more; tfjs's own Add and Multiply would keep both operands of each:
//   lora_add      y = base + s·delta; keeps nothing (its gradients are dY and s·dY);
//   dora_combine  y = (m / ‖W + s·BA‖) ⊙ (base + s·delta) + bias; keeps the per-channel norm, and
//                 base + s·delta when the magnitude trains (dm reads it).
// Each method's own file (src/core/adapters/lora.ts, dora.ts) maps these to its formula.
// Which gradients are wanted comes from the gradient plan (gradientPlan.ts), as for layers.ts.
import * as tf from '@tensorflow/tfjs';
import { addScaled, channelAffine, channelSums, compositeNorm } from '../kernels/fused';
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
      value: addScaled(base, delta, node.scaling),
      // A new tensor per input: the tape disposes each input's gradient on its own.
      gradFunc: (dy) => [...(wanted[0] ? [tf.clone(dy)] : []), ...(wanted[1] ? [tf.mul(dy, node.scaling)] : [])],
    }),
  );
}

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
    const combined = addScaled(base, delta, node.scaling);
    // dBase and dDelta read m/‖·‖ (m is a parameter: its saved clone shares the variable's buffer);
    // dm reads (base + s·delta)/‖·‖; the bias's gradient only dY.
    save([
      ...(inputGrads || wanted.magnitude ? [norm] : []),
      ...(inputGrads ? [magnitude] : []),
      ...(wanted.magnitude ? [combined] : []),
    ]);
    const scale = tf.div(tf.reshape(magnitude, [outChannels]), norm) as tf.Tensor1D;
    return {
      value: channelAffine(combined, scale, bias ? (tf.reshape(bias, [outChannels]) as tf.Tensor1D) : undefined),
      gradFunc: (dy, saved) => {
        const [savedNorm] = saved;
        const grads: tf.Tensor[] = [];
        if (inputGrads) {
          const scale = tf.div(tf.reshape(saved[1], [outChannels]), savedNorm) as tf.Tensor1D;
          if (wanted.base) grads.push(channelAffine(dy, scale));
          if (wanted.delta) grads.push(channelAffine(dy, tf.mul(scale, node.scaling) as tf.Tensor1D));
        }
        // Σ dy (the bias's gradient) and Σ dy·(base + s·delta) (the magnitude's, over ‖·‖) in one pass.
        const sums = wanted.magnitude || (bias && wanted.bias) ? channelSums(dy, wanted.magnitude ? saved[saved.length - 1] : dy) : null;
        if (wanted.magnitude && sums) grads.push(tf.reshape(tf.div(sums.sumDyX, savedNorm), magnitude.shape));
        if (bias && wanted.bias && sums) grads.push(tf.reshape(sums.sumDy, bias.shape));
        return grads;
      },
    };
  });
}
