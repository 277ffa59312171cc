// The fine-tuning methods by id: one registry for the trainer, the profiler, the CLI and the UI.
import type { MethodId } from '../ids';
import type { ModelSpec } from '../models/spec';
import { dora } from './dora';
import { bnHead, fft } from './fullAndHead';
import { galore } from './galore';
import { lora } from './lora';
import { DEFAULT_METHOD_OPTIONS, type Method, type MethodOptions } from './method';

export { compositeWeightNorm, initializeDoraMagnitudes } from './dora';
export { withTrainable } from './fullAndHead';
export { galoreProjectionSpec } from './galore';
export { adapterNodeIds, adapterParamNames, hasAdapters, unloadAdapters } from './lowRank';
export { mergeLoraModel, mergeLoraValues, unmergeLoraValues } from './lora';
export {
  checkMethodOptions,
  DEFAULT_METHOD_OPTIONS,
  methodOptionsProblems,
  type Method,
  type MethodOptimizer,
  type MethodOptions,
  type TargetOptions,
} from './method';
export { adapterCostByLayer, classifierLayers, classifierParamNames, selectTargets, type AdapterCost, type LayerKind } from './targets';

export const METHODS: Record<MethodId, Method> = { fft, bn_head: bnHead, lora, dora, galore };

/** `overrides` on top of the defaults (nested objects merged one level deep). */
export function methodOptions(overrides: Partial<MethodOptions> = {}): MethodOptions {
  return {
    ...DEFAULT_METHOD_OPTIONS,
    ...overrides,
    targets: { ...DEFAULT_METHOD_OPTIONS.targets, ...overrides.targets },
    galore: { ...DEFAULT_METHOD_OPTIONS.galore, ...overrides.galore },
  };
}

/** The spec `method` trains (pure). */
export function applyMethod(spec: ModelSpec, method: MethodId, options: MethodOptions = DEFAULT_METHOD_OPTIONS): ModelSpec {
  return METHODS[method].apply(spec, options);
}
