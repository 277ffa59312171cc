// GaLore as a method: every parameter trains (as full fine-tuning), with the projected Adam of
// src/core/optim/galore.ts.
import type { ModelSpec } from '../models/spec';
import { GaloreAdam } from '../optim/galore';
import { withTrainable } from './fullAndHead';
import { checkMethodOptions, cloneSpec, type Method, type MethodOptions } from './method';
import { classifierParamNames } from './targets';

/** The spec GaloreAdam reads to choose what it projects (every ≥2-D trainable weight): with
 * `trainHead` the classifier is marked frozen there, so its gradients go to GaloreAdam's plain Adam
 * (GaLore's reference, too, projects only the weights it targets and leaves the output head to AdamW). */
export function galoreProjectionSpec(spec: ModelSpec, { trainHead }: Pick<MethodOptions, 'trainHead'>): ModelSpec {
  if (!trainHead) return spec;
  const out = cloneSpec(spec);
  for (const name of classifierParamNames(out)) out.params[name].trainable = false;
  return out;
}

export const galore: Method = {
  id: 'galore',
  label: 'GaLore',
  note:
    "Every parameter trains, but each weight's gradient (a conv's as the matrix C_out × C_in·k²) is projected " +
    'onto its top-r singular subspace (the smaller side), Adam runs on the projected gradient, and the step is ' +
    'projected back and scaled; the projector is recomputed every update_proj_gap steps (default 200) and ' +
    'Adam\'s moments are kept across the change, as the authors\' code does; biases and BatchNorm use plain Adam. ' +
    'The study: the most robust accuracy (close to full fine-tuning), fewer iterations, but 10–30% more FLOPs ' +
    "(the decomposition) and 1.13–2× LoRA's memory; its variant keeps only σᵢ ≥ ε·σ₁. The lab departs from the " +
    'reference: a randomized SVD (range finder + small exact SVD) instead of a full one; torch.optim.Adam\'s ' +
    'update (ε after bias correction, L2 weight decay) instead of GaLore AdamW\'s; conv weights projected as ' +
    'matrices rather than by the Tucker projector. With a new classifier (trainHead: the unseen-classes task) the ' +
    "classifier's weight is not projected but trained by plain Adam, as PEFT's modules_to_save trains a new head.",
  apply(spec, options) {
    checkMethodOptions(options);
    return withTrainable(spec, () => true);
  },
  createOptimizer: (model, adam, options) =>
    new GaloreAdam(galoreProjectionSpec(model.spec, options), model.variables, { ...adam, ...options.galore }),
};
