// The ImageNet-pretrained bases on the Hugging Face hub (base weights 'hub'): which timm repository
// holds each model's weights, when a configuration can use them, and how large the file is. Pure
// (no tfjs): the page, the validation and the run read it.
//
// The repositories are timm's own (`timm/<architecture>.<tag>`, a plain state_dict in
// model.safetensors) at width 1, 1000 ImageNet classes (vit_tiny: also 224×224 and 12 blocks); the mapping onto the lab's spec is
// core/weights/timm.ts. The revision is 'main', not a pinned commit: the lab cannot reach the hub
// from where it is built to read the commits' sha256, so what it guarantees instead is that every
// cached copy is checked against the sha256 computed when it was downloaded, and every key and
// shape against the spec when it loads.
import type { ModelId } from '../../core/ids';
import { buildModelSpec } from '../../core/models/registry';
import type { ModelOptions } from '../../core/models/spec';
import { VIT_TINY } from '../../core/models/vit';
import { TIMM_ARCHITECTURES } from '../../core/weights/timm';
import type { HubFile } from './hubUrl';

/** timm's ImageNet-1k training recipe of each repository (the tag after the architecture). */
export const HUB_BASE_TAGS: Record<ModelId, string> = {
  mobilenet_v2: 'ra_in1k',
  mobilenet_v3_small: 'lamb_in1k',
  mobilenet_v3_large: 'ra_in1k',
  resnet18: 'tv_in1k',
  vit_tiny: 'augreg_in21k_ft_in1k',
};

export const HUB_BASE_REVISION = 'main';

/** The classes of the hub's heads (ImageNet-1k): never loaded, a new head replaces it. */
export const IMAGENET_CLASSES = 1000;

/** The hub file of `model`'s ImageNet-pretrained weights. */
export const hubBaseFileOf = (model: ModelId): HubFile => ({
  repoType: 'model',
  repo: `timm/${TIMM_ARCHITECTURES[model]}.${HUB_BASE_TAGS[model]}`,
  revision: HUB_BASE_REVISION,
  path: 'model.safetensors',
});

/** What a configuration must have for the hub's weights to fit (the CNNs: any resolution, any class count). */
export const HUB_BASE_FIX = { width: 1, stem: 'imagenet' } as const;

/** vit_tiny's hub weights fit only timm's own size: its position embedding has one row per 16×16
 * patch of 224×224 (plus the class token), and its 12 blocks are one stack (a model of fewer blocks
 * would not be timm's vit_tiny with some weights missing but another network: the final norm and
 * the features it was trained on come after block 12). */
export const HUB_BASE_VIT_FIX = { ...HUB_BASE_FIX, resolution: 224, depth: VIT_TINY.depth } as const;

/** Everything `model`'s hub weights need of a configuration. */
export function hubBaseFixOf(model: ModelId): { width: number; stem: 'imagenet'; resolution?: number; depth?: number } {
  return model === 'vit_tiny' ? HUB_BASE_VIT_FIX : HUB_BASE_FIX;
}

/** Why `options` cannot start from the hub's weights, with the fix, or null when they can. */
export function hubBaseProblem(options: Pick<ModelOptions, 'model' | 'width' | 'stem' | 'resolution'> & { depth?: number }): string | null {
  if (options.model === 'vit_tiny') {
    const fix = HUB_BASE_VIT_FIX;
    const depth = options.depth ?? VIT_TINY.depth;
    const wrong = [
      options.width !== fix.width ? `width ${options.width}` : null,
      options.stem !== fix.stem ? `the ${options.stem} stem` : null,
      options.resolution !== fix.resolution ? `${options.resolution}×${options.resolution}` : null,
      depth !== fix.depth ? `${depth} blocks` : null,
    ].filter((x) => x !== null);
    if (wrong.length === 0) return null;
    return `The ImageNet-pretrained vit_tiny weights are timm's at width 1, the ImageNet stem, 224×224 and 12 blocks, not ${wrong.join(', ')}: set Width to 1, Stem to ImageNet, Resolution to 224 and Depth to 12, or choose other base weights.`;
  }
  const wrong = [options.width !== HUB_BASE_FIX.width ? `width ${options.width}` : null, options.stem !== HUB_BASE_FIX.stem ? `the ${options.stem} stem` : null].filter((x) => x !== null);
  if (wrong.length === 0) return null;
  return `The ImageNet-pretrained weights are those of width 1 with the ImageNet stem (at any resolution), not ${wrong.join(' and ')}: set Width to 1 and Stem to ImageNet, or choose other base weights.`;
}

/** The size of `model`'s hub file as its spec says: every float32 weight and BatchNorm statistic of
 * the 1000-class model (timm's file adds a header and BatchNorm step counters, a few kB). */
export function hubBaseBytesOf(model: ModelId): number {
  const spec = buildModelSpec({ model, width: HUB_BASE_FIX.width, resolution: 224, stem: HUB_BASE_FIX.stem, numClasses: IMAGENET_CLASSES });
  return Object.values(spec.params).reduce((sum, param) => sum + param.shape.reduce((a, b) => a * b, 1) * 4, 0);
}
