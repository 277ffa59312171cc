// The fine-tuning methods by id, as the trainer runs them: each method's definition (its spec
// rewrite, definitions.ts) with the optimizer it trains with and its preparation of a loaded model.
// The math of each method is in its own file: lora.ts, dora.ts, and for GaLore src/core/optim/galore.ts.
import type { MethodId } from '../ids';
import { Adam } from '../optim/adam';
import { GaloreAdam } from '../optim/galore';
import { METHOD_DEFINITIONS } from './definitions';
import { initializeDoraMagnitudes } from './dora';
import { galoreProjectionSpec } from './galore';
import type { Method, MethodDefinition } from './method';

export { applyMethod, METHOD_DEFINITIONS, methodOptions } from './definitions';
export { compositeWeightNorm, doraCombine, initializeDoraMagnitudes, type DoraGradients } from './dora';
export { withTrainable } from './fullAndHead';
export { galoreProjectionSpec } from './galore';
export { adaptsDepthwise, adapterNodeIds, adapterParamNames, hasAdapters, lowRankTargetProblem, unloadAdapters } from './lowRank';
export { loraAdd, mergeLoraModel, mergeLoraValues, unmergeLoraValues } from './lora';
export {
  checkMethodOptions,
  DEFAULT_METHOD_OPTIONS,
  methodOptionsProblems,
  type Method,
  type MethodDefinition,
  type MethodOptimizer,
  type MethodOptions,
  type TargetOptions,
} from './method';
export { adapterCostByLayer, classifierLayers, classifierParamNames, selectTargets, type AdaptableLayer, type AdapterCost, type LayerKind } from './targets';

/** Plain Adam over every variable (frozen ones get no gradient, so no state). */
const withAdam = (definition: MethodDefinition): Method => ({ ...definition, createOptimizer: (model, adam) => new Adam(model.variables, adam) });

export const METHODS: Record<MethodId, Method> = {
  fft: withAdam(METHOD_DEFINITIONS.fft),
  bn_head: withAdam(METHOD_DEFINITIONS.bn_head),
  lora: withAdam(METHOD_DEFINITIONS.lora),
  dora: { ...withAdam(METHOD_DEFINITIONS.dora), prepare: initializeDoraMagnitudes },
  galore: {
    ...METHOD_DEFINITIONS.galore,
    // With a new head (trainHead) the classifier is left to GaloreAdam's plain Adam (galoreProjectionSpec).
    createOptimizer: (model, adam, options) => new GaloreAdam(galoreProjectionSpec(model.spec, options), model.variables, { ...adam, ...options.galore }),
  },
};
