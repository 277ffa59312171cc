// The interface every fine-tuning method implements, and its options. A method rewrites a
// ModelSpec (which parameters train, which adapter layers exist) and supplies the optimizer it
// trains with, so the profiler (reading the spec) and the trainer (running it) see the same thing.

import type { MethodId } from '../ids';
import type { ModelSpec } from '../models/spec';
import type { Model } from '../nn/model';
import type { AdamOptions } from '../optim/adam';
import type { GaloreOptions } from '../optim/galore';
import type { Optimizer } from '../optim/optimizer';

export interface TargetOptions {
  /** Also adapt depthwise convs (a dense r-channel A there has more parameters than the conv). */
  depthwise: boolean;
  /** Adapt exactly these conv/linear node ids instead of the default selection. */
  layers?: readonly string[];
}

export interface MethodOptions {
  /** LoRA/DoRA rank r. */
  rank: number;
  /** LoRA/DoRA α; the adapter branch is scaled by α / r. */
  alpha: number;
  targets: TargetOptions;
  /** LoRA/DoRA: BatchNorm affine parameters train too. */
  trainBatchNorm: boolean;
  /**
   * The classifier (`ModelSpec.classifier`) trains fully, weight and bias, whatever
   * the method: Hugging Face PEFT's `modules_to_save`, for a new, randomly initialised head (the
   * unseen-classes task), which a frozen or low-rank-adapted head cannot learn. LoRA/DoRA put no
   * adapter on it; GaLore updates it with plain Adam instead of projecting its gradient; full
   * fine-tuning and BatchNorm + head train it anyway. Off: each method's own rule.
   */
  trainHead: boolean;
  galore: GaloreOptions;
}

/** The study's defaults (r = 4, α = 4) and GaLore's (update_proj_gap 200, scale 1); the head follows
 * each method's rule. */
export const DEFAULT_METHOD_OPTIONS: MethodOptions = {
  rank: 4,
  alpha: 4,
  targets: { depthwise: false },
  trainBatchNorm: false,
  trainHead: false,
  galore: { rank: 4, updateProjGap: 200, scale: 1 },
};

/** A method's optimizer: any Optimizer (GaLore's uses the optional async `prepareStep`). */
export type MethodOptimizer = Optimizer;

/** What a method *is*, pure (no tfjs): how it rewrites a model's spec. The analytic profiler, the
 * configuration's validation and the page need only this (definitions.ts). */
export interface MethodDefinition {
  id: MethodId;
  /** Pure: a rewritten copy of `spec` (trainable flags; adapter parameters and nodes added). */
  apply(spec: ModelSpec, options: MethodOptions): ModelSpec;
}

/** How a method *trains* (tfjs, index.ts): its definition, the optimizer, and what must happen to a
 * model once its base weights are loaded. Words about a method (names, formula, the study's
 * claims) live in the lab layer (src/lab/methods.ts), not here. */
export interface Method extends MethodDefinition {
  /** The optimizer the method trains with, over `model` (built from `apply`'s spec): Adam, or for
   * GaLore Adam with projected moments. */
  createOptimizer(model: Model, adam: AdamOptions, options: MethodOptions): MethodOptimizer;
  /** Called by the trainer after the base weights are loaded, before the first step (DoRA sets
   * its magnitudes to ‖W‖ there). */
  prepare?(model: Model): void;
}

/** Every problem with the options, as messages naming the field (empty when valid). */
export function methodOptionsProblems(options: MethodOptions): string[] {
  const problems: string[] = [];
  const positiveInteger = (value: number, field: string) => {
    if (!Number.isInteger(value) || value < 1) problems.push(`${field} must be a positive integer, got ${value}`);
  };
  positiveInteger(options.rank, 'rank');
  if (!(Number.isFinite(options.alpha) && options.alpha > 0)) problems.push(`alpha must be a positive number, got ${options.alpha}`);
  if (typeof options.trainHead !== 'boolean') problems.push(`trainHead must be true or false, got ${String(options.trainHead)}`);
  positiveInteger(options.galore.rank, 'galore.rank');
  positiveInteger(options.galore.updateProjGap, 'galore.updateProjGap');
  if (!(Number.isFinite(options.galore.scale) && options.galore.scale > 0)) {
    problems.push(`galore.scale must be a positive number, got ${options.galore.scale}`);
  }
  const { threshold } = options.galore;
  if (threshold !== undefined && !(threshold > 0 && threshold <= 1)) {
    problems.push(`galore.threshold must be in (0, 1], got ${threshold}`);
  }
  return problems;
}

export function checkMethodOptions(options: MethodOptions): void {
  const problems = methodOptionsProblems(options);
  if (problems.length > 0) throw new Error(`method options: ${problems.join('; ')}`);
}

/** A deep copy of a spec, for pure rewrites. */
export function cloneSpec(spec: ModelSpec): ModelSpec {
  return structuredClone(spec);
}
