// A frozen base stored quantized, as a pure spec rewrite applied after a method's: the frozen conv
// and linear weights (the base layers LoRA/DoRA adapt, every frozen layer of BN+head/LN+head,
// depthwise convs included) are marked with the storage; biases, norms, running statistics,
// embeddings, adapters and anything trainable stay float32. Full fine-tuning and GaLore update the
// base weights, so they keep float32: the rewrite refuses them.
import type { FrozenWeightFormat, MethodId } from '../ids';
import type { ModelSpec, ParamRole, ParamSpec } from '../models/spec';

/** Methods whose optimizer updates the base weights themselves. */
const UPDATES_BASE_WEIGHTS: ReadonlySet<MethodId> = new Set(['fft', 'galore']);

const QUANTIZABLE_ROLES: ReadonlySet<ParamRole> = new Set(['conv_weight', 'linear_weight']);

/** Why `method` cannot train on a base stored as `format`, or null when it can. */
export function frozenWeightsProblem(method: MethodId, format: FrozenWeightFormat): string | null {
  if (format === 'fp32' || !UPDATES_BASE_WEIGHTS.has(method)) return null;
  return `${method === 'fft' ? 'full fine-tuning' : 'GaLore'} updates the base weights themselves, so they stay float32 (a quantized base is frozen): frozen weights must be fp32`;
}

/** The storage `method` trains on when `format` is asked for: `format`, or fp32 for a method that
 * updates the base weights (the charts cost those at fp32 beside the others). */
export function frozenWeightsFor(method: MethodId, format: FrozenWeightFormat): FrozenWeightFormat {
  return frozenWeightsProblem(method, format) ? 'fp32' : format;
}

/** Whether a parameter of a method-applied spec is stored quantized under a quantized base. */
export function isQuantizable(param: ParamSpec): boolean {
  return !param.trainable && QUANTIZABLE_ROLES.has(param.role);
}

/** `spec` (already rewritten by `method`) with its frozen conv/linear weights stored as `format`;
 * fp32 returns the spec unchanged. Pure. */
export function quantizeFrozenBase(spec: ModelSpec, method: MethodId, format: FrozenWeightFormat): ModelSpec {
  const problem = frozenWeightsProblem(method, format);
  if (problem) throw new Error(problem);
  if (format === 'fp32') return spec;
  const params: Record<string, ParamSpec> = {};
  for (const [name, param] of Object.entries(spec.params)) {
    params[name] = isQuantizable(param) ? { ...param, storage: format } : param;
  }
  return { ...spec, params };
}

/** The storage of the spec's quantized weights ('fp32' when none is). */
export function frozenWeightsOf(spec: ModelSpec): FrozenWeightFormat {
  for (const param of Object.values(spec.params)) if (param.storage) return param.storage;
  return 'fp32';
}

/** `spec` with every weight stored float32 again (a merged export's base). Pure. */
export function withoutQuantizedStorage(spec: ModelSpec): ModelSpec {
  if (frozenWeightsOf(spec) === 'fp32') return spec;
  const params: Record<string, ParamSpec> = {};
  for (const [name, { storage: _storage, ...param }] of Object.entries(spec.params)) params[name] = param;
  return { ...spec, params };
}
