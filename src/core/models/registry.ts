// The model zoo by torchvision name, and validation of the options at the boundary.
import { isOneOf, MODEL_IDS, STEM_IDS, type ModelId } from '../ids';
import { ModelOptionsError } from './builder';
import { buildMobileNetV2 } from './mobilenetV2';
import { buildMobileNetV3Large, buildMobileNetV3Small } from './mobilenetV3';
import { buildResNet18 } from './resnet';
import { buildVitTiny, VIT_TINY } from './vit';
import type { ModelOptions, ModelSpec } from './spec';

export { ModelOptionsError };

export const MODEL_BUILDERS: Record<ModelId, (options: ModelOptions) => ModelSpec> = {
  mobilenet_v2: buildMobileNetV2,
  mobilenet_v3_small: buildMobileNetV3Small,
  mobilenet_v3_large: buildMobileNetV3Large,
  resnet18: buildResNet18,
  vit_tiny: buildVitTiny,
};

/** Lower bounds of the numeric options (the upper ones are the device's memory). */
export const MODEL_OPTION_LIMITS = {
  /** Width multiplier: any value > 0. */
  widthExclusiveMin: 0,
  /** Integer input side; smaller inputs make batch statistics of the last maps meaningless. */
  minResolution: 8,
  minClasses: 2,
} as const;

export const DEFAULT_MODEL_OPTIONS: Omit<ModelOptions, 'model'> = {
  width: 1,
  resolution: 224,
  numClasses: 1000,
  stem: 'imagenet',
};

/** Every problem with the options, each naming what is valid (empty when valid). */
export function modelOptionsProblems(options: ModelOptions): string[] {
  const problems: string[] = [];
  const { width, resolution, numClasses } = options;
  if (!isOneOf(MODEL_IDS, options.model)) {
    problems.push(`unknown model ${JSON.stringify(options.model)} (valid: ${MODEL_IDS.join(', ')})`);
  }
  if (!isOneOf(STEM_IDS, options.stem)) {
    problems.push(`unknown stem ${JSON.stringify(options.stem)} (valid: ${STEM_IDS.join(', ')})`);
  }
  if (!(Number.isFinite(width) && width > MODEL_OPTION_LIMITS.widthExclusiveMin)) {
    problems.push(`width must be a number > 0, got ${width}`);
  }
  if (!(Number.isInteger(resolution) && resolution >= MODEL_OPTION_LIMITS.minResolution)) {
    problems.push(`resolution must be an integer ≥ ${MODEL_OPTION_LIMITS.minResolution}, got ${resolution}`);
  }
  if (!(Number.isInteger(numClasses) && numClasses >= MODEL_OPTION_LIMITS.minClasses)) {
    problems.push(`numClasses must be an integer ≥ ${MODEL_OPTION_LIMITS.minClasses}, got ${numClasses}`);
  }
  const { depth } = options;
  if (depth !== undefined) {
    if (options.model !== 'vit_tiny') problems.push(`depth applies to vit_tiny only, not ${options.model}`);
    else if (!(Number.isInteger(depth) && depth >= 1 && depth <= VIT_TINY.depth)) {
      problems.push(`depth must be an integer from 1 to ${VIT_TINY.depth}, got ${depth}`);
    }
  }
  return problems;
}

/** Builds the spec of a torchvision model; throws ModelOptionsError on invalid options, including a
 * resolution at which some layer's output would be empty. */
export function buildModelSpec(options: ModelOptions): ModelSpec {
  const problems = modelOptionsProblems(options);
  if (problems.length > 0) throw new ModelOptionsError(`invalid model options: ${problems.join('; ')}`);
  return MODEL_BUILDERS[options.model](options);
}
