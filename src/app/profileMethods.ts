// Each method's analytic profile for one request: the profile worker's work, kept apart from the
// worker's messaging so that tests can compute the same numbers the charts show.
import { applyMethod, METHODS } from '../core/adapters';
import { METHOD_IDS, type MethodId } from '../core/ids';
import { buildModelSpec } from '../core/models/registry';
import { optimizerCostOfMethod, profileSpec } from '../core/profile/profile';
import type { AnalyticProfile } from '../core/profile/types';
import type { ProfileRequest } from '../worker/protocol';

/** Each method's note from the registry, for the method panel. */
export const METHOD_REGISTRY_NOTES = Object.fromEntries(METHOD_IDS.map((method) => [method, METHODS[method].note])) as Record<MethodId, string>;

export function profileMethods(request: ProfileRequest) {
  const base = buildModelSpec(request.model);
  const profiles: Partial<Record<MethodId, AnalyticProfile>> = {};
  const failures: Partial<Record<MethodId, string>> = {};
  for (const method of request.methods) {
    try {
      const spec = applyMethod(base, method, request.methodOptions);
      const optimizer = optimizerCostOfMethod(method, request.methodOptions, request.optimizer);
      profiles[method] = profileSpec(spec, { batch: request.batch, optimizer });
    } catch (error) {
      failures[method] = error instanceof Error ? error.message : String(error);
    }
  }
  return { profiles, failures };
}
