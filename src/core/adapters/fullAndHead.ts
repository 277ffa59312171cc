// The two baselines that add nothing to the model, as spec rewrites (pure): full fine-tuning, and
// BatchNorm + classifier (layer-norm affine + classifier on a ViT). Both train with plain Adam (index.ts).
import { isNormAffine, type ModelSpec, type ParamRole } from '../models/spec';
import { checkMethodOptions, cloneSpec, type MethodDefinition } from './method';
import { hasAdapters } from './lowRank';
import { classifierParamNames } from './targets';

const RUNNING_STATS: ReadonlySet<ParamRole> = new Set(['bn_running_mean', 'bn_running_var']);

/** A copy of `spec` where exactly the parameters `trains` picks are trainable (never running stats). */
export function withTrainable(spec: ModelSpec, trains: (name: string, role: ParamRole) => boolean): ModelSpec {
  if (hasAdapters(spec)) throw new Error('the spec already has adapters; apply a method to the base spec');
  const out = cloneSpec(spec);
  for (const param of Object.values(out.params)) param.trainable = !RUNNING_STATS.has(param.role) && trains(param.name, param.role);
  return out;
}

export const fft: MethodDefinition = {
  id: 'fft',
  apply(spec, options) {
    checkMethodOptions(options);
    return withTrainable(spec, () => true);
  },
};

export const bnHead: MethodDefinition = {
  id: 'bn_head',
  apply(spec, options) {
    checkMethodOptions(options);
    const head = new Set(classifierParamNames(spec));
    return withTrainable(spec, (name, role) => isNormAffine(role) || head.has(name));
  },
};
