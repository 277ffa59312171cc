// The two baselines that add nothing to the model: full fine-tuning, and BatchNorm + classifier.
import type { ModelSpec, ParamRole } from '../models/spec';
import { Adam } from '../optim/adam';
import { checkMethodOptions, cloneSpec, type Method } from './method';
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

export const fft: Method = {
  id: 'fft',
  label: 'Full fine-tuning',
  note:
    'Every weight, bias and BatchNorm affine parameter trains with Adam; the reference point for accuracy ' +
    'and the most expensive in gradient and optimizer memory and in update FLOPs.',
  apply(spec, options) {
    checkMethodOptions(options);
    return withTrainable(spec, () => true);
  },
  createOptimizer: (model, adam) => new Adam(model.variables, adam),
};

export const bnHead: Method = {
  id: 'bn_head',
  label: 'BatchNorm + head',
  note:
    "Trains only BatchNorm's affine parameters (γ, β) and the classifier (every linear layer: classifier.* in " +
    'the MobileNets, both of MobileNetV3\'s two, fc in ResNet-18); running statistics still update in training ' +
    'mode. The study: the cheapest (52–85% less peak memory) but up to ~40 points behind on hard shifts such ' +
    'as impulse noise.',
  apply(spec, options) {
    checkMethodOptions(options);
    const head = new Set(classifierParamNames(spec));
    return withTrainable(spec, (name, role) => role === 'bn_gamma' || role === 'bn_beta' || head.has(name));
  },
  createOptimizer: (model, adam) => new Adam(model.variables, adam),
};
