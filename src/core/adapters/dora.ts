// DoRA (Liu et al. 2024, as Hugging Face PEFT implements it): LoRA's low-rank direction update plus a
// trainable magnitude per output channel, y = m ⊙ (W + s·BA)·x / ‖W + s·BA‖ + bias, the norm taken
// per output channel over (C_in, kh, kw) and treated as a constant in the backward pass (DoRA §4.3).
import * as tf from '@tensorflow/tfjs';

import type { DoraCombineNode } from '../models/spec';
import type { Model } from '../nn/model';
import { Adam } from '../optim/adam';
import { addLowRankAdapters } from './lowRank';
import type { Method } from './method';

export const dora: Method = {
  id: 'dora',
  label: 'DoRA',
  note:
    'LoRA plus a trainable magnitude m per output channel: y = m ⊙ (W + (α/r)·BA)·x / ‖W + (α/r)·BA‖ + bias, ' +
    'm initialised to ‖W‖ so training starts from the base model; the norm is a constant for the backward pass ' +
    '(DoRA §4.3, as PEFT). Same targets as LoRA, except depthwise convs, which DoRA cannot adapt here (their ' +
    'dense update has no depthwise norm). The base layer runs once per forward (PEFT runs it twice when it ' +
    'cannot reuse the result). The study: 29–58% more memory than LoRA with no accuracy gain on edge CNNs. ' +
    'With a new classifier (trainHead: the unseen-classes task) the classifier takes no adapter and trains ' +
    "fully, weight and bias, as PEFT's modules_to_save.",
  apply: (spec, options) => addLowRankAdapters(spec, options, 'dora'),
  createOptimizer: (model, adam) => new Adam(model.variables, adam),
};

/**
 * Sets every DoRA magnitude to ‖W + s·BA‖ per output channel, as PEFT does when it adds the adapter
 * (with B = 0 that is ‖W‖): call it once the base weights are in the model (after loading them), and
 * not when the magnitudes come from a saved adapter. Runs on the device, without reading back.
 */
export function initializeDoraMagnitudes(model: Model): void {
  const get = (name: string) => {
    const variable = model.variables.get(name);
    if (!variable) throw new Error(`initializeDoraMagnitudes: the model has no parameter ${name}`);
    return variable;
  };
  tf.tidy(() => {
    for (const node of model.spec.nodes) {
      if (node.op !== 'dora_combine') continue;
      const magnitude = get(node.magnitude);
      magnitude.assign(compositeWeightNorm(node, get));
    }
  });
}

/** ‖W + s·A·B‖ per output channel (lab layout: W as [K, out], A as [K, r], B as [r, out]). */
export function compositeWeightNorm(node: DoraCombineNode, get: (name: string) => tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const weight = get(node.baseWeight);
    const a = get(node.loraA);
    const b = get(node.loraB);
    const outputs = weight.shape[weight.rank - 1];
    const rank = a.shape[a.rank - 1];
    const composite = tf.add(
      tf.reshape(weight, [-1, outputs]),
      tf.mul(tf.matMul(tf.reshape(a, [-1, rank]), tf.reshape(b, [rank, outputs])), node.scaling),
    );
    return tf.sqrt(tf.sum(tf.square(composite), 0)) as tf.Tensor1D;
  });
}
