// GaLore as a method, the pure half: every parameter trains (as full fine-tuning); which weights its
// projected Adam projects. The math (projector, projected moments) is src/core/optim/galore.ts,
// wired to the method in index.ts.
import type { ModelSpec } from '../models/spec';
import { withTrainable } from './fullAndHead';
import { checkMethodOptions, cloneSpec, type MethodDefinition, type MethodOptions } from './method';
import { classifierParamNames } from './targets';

/** The spec GaloreAdam reads to choose what it projects (every trainable conv and linear weight): with
 * `trainHead` the classifier is marked frozen there, so its gradients go to GaloreAdam's plain Adam
 * (GaLore's reference, too, projects only the weights it targets and leaves the output head to AdamW). */
export function galoreProjectionSpec(spec: ModelSpec, { trainHead }: Pick<MethodOptions, 'trainHead'>): ModelSpec {
  if (!trainHead) return spec;
  const out = cloneSpec(spec);
  for (const name of classifierParamNames(out)) out.params[name].trainable = false;
  return out;
}

export const galore: MethodDefinition = {
  id: 'galore',
  apply(spec, options) {
    checkMethodOptions(options);
    return withTrainable(spec, () => true);
  },
};
