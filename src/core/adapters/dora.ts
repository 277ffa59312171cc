// DoRA (Liu et al. 2024, as Hugging Face PEFT's tuners/lora/dora.py implements it): LoRA's
// low-rank direction update plus a trainable magnitude per output channel,
//
//   y = m ⊙ (W + s·BA)·x / ‖W + s·BA‖ + bias,      s = α / r,
//
// the norm taken per output channel over (C_in, kh, kw) and treated as a constant in the backward
// pass (DoRA §4.3). The method's math, in the order a reader meets it:
//   the combine      y = (m / ‖W + s·BA‖) ⊙ (W·x + s·B(A(x))) + bias, and its hand-written backward:
//                    doraCombine, a custom op of the interpreter (src/core/nn/adapterOps.ts);
//   the norm         ‖W + s·AB‖ per output channel: compositeNorm (the same file), the one
//                    implementation, which compositeWeightNorm below reads off a node's parameters;
//   the magnitudes   m ← ‖W‖ once the base weights are loaded: initializeDoraMagnitudes, the
//                    method's `prepare` (index.ts).
// The spec rewrite that adds A, B, m and the combine node is LoRA's (lowRank.ts, variant 'dora').
import * as tf from '@tensorflow/tfjs';

import type { DoraCombineNode } from '../models/spec';
import { compositeNorm } from '../nn/adapterOps';
import type { Model } from '../nn/model';

export { compositeNorm, doraCombine, type DoraGradients } from '../nn/adapterOps';

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
