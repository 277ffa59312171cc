// Each method's analytic profile for one request: pure (no tfjs), so the page computes the charts'
// numbers itself, the run loop costs its own configuration with the same function, and tests see
// exactly what the charts show.
import { applyMethod } from '../core/adapters/definitions';
import { METHOD_IDS, type MethodId } from '../core/ids';
import { methodOptionsOf, modelOptionsOf, type LabConfig } from './config';
import { buildModelSpec } from '../core/models/registry';
import { frozenWeightsFor, quantizeFrozenBase } from '../core/quant/quantizeBase';
import { optimizerCostOfMethod, profileSpec } from '../core/profile/profile';
import type { AnalyticProfile } from '../core/profile/types';
import type { ProfileRequest } from './protocol';

/** What the profiler needs from a configuration: every method, on the configured model and step. */
export function profileRequestOf(config: LabConfig): ProfileRequest {
  return {
    model: modelOptionsOf(config),
    methods: [...METHOD_IDS],
    methodOptions: methodOptionsOf(config),
    batch: config.batchSize,
    optimizer: config.optimizer,
    frozenWeights: config.frozenWeights,
  };
}

export function profileMethods(request: ProfileRequest) {
  const base = buildModelSpec(request.model);
  const profiles: Partial<Record<MethodId, AnalyticProfile>> = {};
  const failures: Partial<Record<MethodId, string>> = {};
  for (const method of request.methods) {
    try {
      const frozenWeights = frozenWeightsFor(method, request.frozenWeights ?? 'fp32');
      const spec = quantizeFrozenBase(applyMethod(base, method, request.methodOptions), method, frozenWeights);
      const optimizer = optimizerCostOfMethod(method, request.methodOptions, request.optimizer);
      profiles[method] = profileSpec(spec, { batch: request.batch, optimizer });
    } catch (error) {
      failures[method] = error instanceof Error ? error.message : String(error);
    }
  }
  return { profiles, failures };
}
