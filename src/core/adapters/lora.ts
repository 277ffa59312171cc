// LoRA (Hu et al. 2021, as Hugging Face PEFT applies it to Conv2d and Linear):
//
//   y = W·x + s·B(A(x)),   s = α / r,   A: C_in → r (kaiming-uniform),   B: r → C_out (zeros),
//
// so training starts from the base model. The combine y = base + s·B(A(x)) and its backward are
// loraAdd, a custom op of the interpreter (src/core/nn/adapterOps.ts); this file holds merging,
// folding s·B·A into the base weight for inference and export and taking it out again. The spec
// rewrite that adds A and B is lowRank.ts.
import * as tf from '@tensorflow/tfjs';

import type { LoraAddNode, ModelSpec } from '../models/spec';
import { createModel, paramValue, type Model } from '../nn/model';
import { withoutQuantizedStorage } from '../quant/quantizeBase';
import { adapterParamNames, unloadAdapters } from './lowRank';

export { loraAdd } from '../nn/adapterOps';
import { layerKind, type AdaptableLayer } from './targets';

interface MergeTarget {
  node: LoraAddNode;
  base: AdaptableLayer;
  /** Rows of the weight seen as a matrix [K, out] (K = kh·kw·C_in, or in-features). */
  rows: number;
  outputs: number;
  rank: number;
}

function mergeTargets(spec: ModelSpec): MergeTarget[] {
  const nodes = new Map(spec.nodes.map((node) => [node.id, node]));
  if (spec.nodes.some((node) => node.op === 'dora_combine')) {
    throw new Error('merge: only LoRA adapters can be merged here (DoRA would need its weight norms kept to unmerge)');
  }
  return spec.nodes
    .filter((node): node is LoraAddNode => node.op === 'lora_add')
    .map((node) => {
      const base = nodes.get(node.adapterOf as string) as AdaptableLayer;
      if (layerKind(base) === 'depthwise') {
        throw new Error(`merge: ${base.id} is a depthwise conv; its LoRA update is a dense conv and cannot be folded into it`);
      }
      const outputs = base.op === 'linear' ? base.outFeatures : base.outChannels;
      const rows = spec.params[base.weight].shape.reduce((a, b) => a * b, 1) / outputs;
      const rank = spec.params[adapterParamNames(base.id).a].shape.at(-1) as number;
      return { node, base, rows, outputs, rank };
    });
}

/** W ± (α/r)·A·B for every LoRA layer, on weight arrays in the lab layout (A as [K, r], B as [r, out]). */
function foldLora(spec: ModelSpec, values: Readonly<Record<string, Float32Array>>, sign: 1 | -1): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = { ...values };
  for (const { node, base, rows, outputs, rank } of mergeTargets(spec)) {
    const names = adapterParamNames(base.id);
    const [w, a, b] = [base.weight, names.a, names.b].map((name) => {
      const value = values[name];
      if (!value) throw new Error(`merge: no values for ${name}`);
      return value;
    });
    const merged = new Float32Array(w.length);
    const factor = sign * node.scaling;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < outputs; j++) {
        let delta = 0;
        for (let k = 0; k < rank; k++) delta += a[i * rank + k] * b[k * outputs + j];
        merged[i * outputs + j] = w[i * outputs + j] + factor * delta;
      }
    }
    out[base.weight] = merged;
  }
  return out;
}

/** Folds (α/r)·B·A into each LoRA layer's base weight; adapter values are kept (for unmerging). A
 * merged set belongs with `unloadAdapters(spec)`: with the adapters still in the graph it would add
 * the update twice. Pure. */
export function mergeLoraValues(spec: ModelSpec, values: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
  return foldLora(spec, values, 1);
}

/** The inverse of mergeLoraValues (the same adapter values must be present). Pure. */
export function unmergeLoraValues(spec: ModelSpec, values: Readonly<Record<string, Float32Array>>): Record<string, Float32Array> {
  return foldLora(spec, values, -1);
}

/** PEFT's merge_and_unload on a live model: a new model of the base architecture whose weights are
 * W + (α/r)·B·A, computed on the device; the adapted model is left as it is. */
export function mergeLoraModel(model: Model): Model {
  const targets = mergeTargets(model.spec);
  // W + (α/r)·B·A is a new float32 weight, whatever the adapted model's base was stored as.
  const merged = createModel(withoutQuantizedStorage(unloadAdapters(model.spec)), { seed: 0 });
  const get = (name: string) => paramValue(model, name);
  tf.tidy(() => {
    for (const [name, variable] of merged.variables) variable.assign(get(name));
    for (const { node, base, rows, outputs, rank } of targets) {
      const names = adapterParamNames(base.id);
      const delta = tf.matMul(tf.reshape(get(names.a), [rows, rank]), tf.reshape(get(names.b), [rank, outputs]));
      const weight = merged.variables.get(base.weight) as tf.Variable;
      weight.assign(tf.add(weight, tf.reshape(tf.mul(delta, node.scaling), weight.shape)));
    }
  });
  return merged;
}
