// DoRA (Liu et al. 2024, as Hugging Face PEFT's tuners/lora/dora.py implements it): LoRA's
// low-rank direction update plus a trainable magnitude per output channel,
//
//   y = m ⊙ (W + s·BA)·x / ‖W + s·BA‖ + bias,      s = α / r,
//
// the norm taken per output channel over (C_in, kh, kw) and treated as a constant in the backward
// pass (DoRA §4.3). This file holds the method's math, in the order a reader meets it:
//   doraCombine               the forward combine and its hand-written backward (a custom op);
//   compositeNorm             ‖W + s·AB‖ per channel, the one implementation of the norm;
//   initializeDoraMagnitudes  m ← ‖W‖ once the base weights are loaded (the method's `prepare`).
// The spec rewrite that adds A, B, m and the combine node is LoRA's (lowRank.ts, variant 'dora').
import * as tf from '@tensorflow/tfjs';

import { channelAffine, channelSums, matMul2d } from '../kernels/fused';
import type { DoraCombineNode } from '../models/spec';
import { customOp } from '../nn/customOp';
import type { Model } from '../nn/model';
import { checkSameShape } from './lora';

/** Which of a DoRA combine's gradients are wanted; `bias` is ignored for a node without one. */
export interface DoraGradients {
  base: boolean;
  delta: boolean;
  magnitude: boolean;
  bias: boolean;
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
    // A tidy of its own frees s·delta at once (the body's tidy would hold it to the end).
    const combined = tf.tidy(() => tf.add(base, tf.mul(delta, node.scaling)));
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

/**
 * ‖W + s·AB‖ per output channel (W [K, out], A [K, r], B [r, out]), expanded as
 * ‖W‖² + 2s·Σ B ⊙ AᵀW + s²·Σ B ⊙ (AᵀA)B: the only weight-sized temporary is W², where forming
 * W + s·AB holds two (AB and the sum) and then its square. With B = 0 it is ‖W‖ exactly.
 */
export function compositeNorm(weight: tf.Tensor2D, loraA: tf.Tensor2D, loraB: tf.Tensor2D, scaling: number): tf.Tensor1D {
  // Column sums of products as per-channel sums (kernels/fused.ts: one pass each on WebGPU).
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

/** ‖W + s·AB‖ per output channel of a DoRA node, its parameters read through `get`. */
export function compositeWeightNorm(node: DoraCombineNode, get: (name: string) => tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const weight = get(node.baseWeight);
    const a = get(node.loraA);
    const b = get(node.loraB);
    const outputs = weight.shape[weight.rank - 1];
    const rank = a.shape[a.rank - 1];
    return compositeNorm(tf.reshape(weight, [-1, outputs]), tf.reshape(a, [-1, rank]), tf.reshape(b, [rank, outputs]), node.scaling);
  });
}

/**
 * Sets every DoRA magnitude to ‖W + s·BA‖ per output channel, as PEFT does when it adds the adapter
 * (with B = 0 that is ‖W‖): DoRA's `prepare`, run by the trainer once the base weights are in the
 * model, and not when the magnitudes come from a saved adapter. Runs on the device, without reading back.
 */
export function initializeDoraMagnitudes(model: Model): void {
  const get = (name: string) => {
    const variable = model.variables.get(name);
    if (!variable) throw new Error(`initializeDoraMagnitudes: the model has no parameter ${name}`);
    return variable;
  };
  tf.tidy(() => {
    for (const node of model.spec.nodes) {
      if (node.op === 'dora_combine') get(node.magnitude).assign(compositeWeightNorm(node, get));
    }
  });
}
