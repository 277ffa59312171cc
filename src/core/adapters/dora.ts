// DoRA (Liu et al. 2024, as Hugging Face PEFT's tuners/lora/dora.py implements it): LoRA's
// low-rank direction update plus a trainable magnitude per output channel,
//
//   y = m ⊙ (W + s·BA)·x / ‖W + s·BA‖ + bias,      s = α / r,
//
// the norm taken per output channel over (C_in, kh, kw) and treated as a constant in the backward
// pass (DoRA §4.3). The method's math, in the order a reader meets it:
//   the combine      y = (m / ‖W + s·BA‖) ⊙ (W·x + s·B(A(x))) + bias, and its hand-written backward:
//                    doraCombine, a custom op of the interpreter (src/core/nn/adapterOps.ts);
//   the norm         ‖W + s·AB‖ per output channel: compositeNorm (src/core/kernels/fused.ts, one
//                    kernel where the backend has it), the one implementation, which
//                    compositeWeightNorm below reads off a node's parameters;
//   the magnitudes   m ← ‖W‖ once the base weights are loaded: initializeDoraMagnitudes, the
//                    method's `prepare` (index.ts).
// The spec rewrite that adds A, B, m and the combine node is LoRA's (lowRank.ts, variant 'dora').
import * as tf from '@tensorflow/tfjs';

import type { DoraCombineNode, ModelSpec } from '../models/spec';
import { compositeNorm } from '../kernels/fused';
import { paramValue, type Model } from '../nn/model';

export { doraCombine, type DoraGradients } from '../nn/adapterOps';

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
  const magnitudeOf = (name: string) => {
    const variable = model.variables.get(name);
    if (!variable) throw new Error(`initializeDoraMagnitudes: the model has no parameter ${name}`);
    return variable;
  };
  // A quantized base weight is read dequantized (the tidy frees it): ‖W‖ of the weight the forward uses.
  tf.tidy(() => {
    for (const node of model.spec.nodes) {
      if (node.op === 'dora_combine') magnitudeOf(node.magnitude).assign(compositeWeightNorm(node, (name) => paramValue(model, name)));
    }
  });
}

/**
 * DoRA folded into its base weights, for export (PEFT's merge): per output channel j,
 *   W'[:, j] = m_j · (W + s·AB)[:, j] / ‖(W + s·AB)[:, j]‖,
 * on lab-layout arrays (W as [K, out], A [K, r], B [r, out]); the norm over the same axes as the
 * forward's (compositeNorm). Accumulated in float64, rounded once to float32. Biases are unchanged
 * (DoRA adds them after the rescaling). A merged set belongs with `unloadAdapters(spec)`. Pure.
 */
export function mergeDoraValues(spec: ModelSpec, values: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = { ...values };
  const get = (name: string): Float32Array => {
    const value = values[name];
    if (!value) throw new Error(`merge: no values for ${name}`);
    return value;
  };
  for (const node of spec.nodes) {
    if (node.op === 'lora_add') throw new Error('merge: mergeDoraValues got a LoRA node; LoRA merges with mergeLoraValues');
    if (node.op !== 'dora_combine') continue;
    const [w, a, b, m] = [node.baseWeight, node.loraA, node.loraB, node.magnitude].map(get);
    const outputs = m.length;
    const rows = w.length / outputs;
    const rank = a.length / rows;
    if (!Number.isInteger(rows) || !Number.isInteger(rank) || b.length !== rank * outputs) {
      throw new Error(`merge: ${node.id} has W of ${w.length}, A of ${a.length}, B of ${b.length} values for ${outputs} channels`);
    }
    const composite = new Float64Array(w.length);
    const squares = new Float64Array(outputs);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < outputs; j++) {
        let delta = 0;
        for (let k = 0; k < rank; k++) delta += a[i * rank + k] * b[k * outputs + j];
        const value = w[i * outputs + j] + node.scaling * delta;
        composite[i * outputs + j] = value;
        squares[j] += value * value;
      }
    }
    const merged = new Float32Array(w.length);
    for (let i = 0; i < composite.length; i++) {
      const j = i % outputs;
      merged[i] = (m[j] * composite[i]) / Math.sqrt(squares[j]);
    }
    out[node.baseWeight] = merged;
  }
  return out;
}
