// What each fine-tuning method is, by id: the pure registry (no tfjs) of spec rewrites that the
// analytic profiler, the lab's validation and the page read. How each method trains (optimizer,
// preparation) is index.ts, which imports tfjs.
import type { MethodId } from '../ids';
import type { ModelSpec } from '../models/spec';
import { bnHead, fft } from './fullAndHead';
import { galore } from './galore';
import { dora, lora } from './lowRank';
import { DEFAULT_METHOD_OPTIONS, type MethodDefinition, type MethodOptions } from './method';

export const METHOD_DEFINITIONS: Record<MethodId, MethodDefinition> = { fft, bn_head: bnHead, lora, dora, galore };

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
  return METHOD_DEFINITIONS[method].apply(spec, options);
}
