// The lab's ids: one source of truth used by core, CLI, UI and permalinks alike.

/** torchvision's CNNs, and timm's vit_tiny_patch16_224 as `vit_tiny`. */
export const MODEL_IDS = ['mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large', 'resnet18', 'vit_tiny'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

export const METHOD_IDS = ['fft', 'bn_head', 'lora', 'dora', 'galore'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

/** `imagenet`: torchvision's stems; `cifar`: stride-1 stem (and for MobileNetV2 the second stage's stride 2→1;
 * for the ViT 4×4 patches instead of 16×16). */
export const STEM_IDS = ['imagenet', 'cifar'] as const;
export type StemId = (typeof STEM_IDS)[number];

/** How the frozen base weights are stored: float32, or block-wise quantized (block 64, QLoRA). */
export const FROZEN_WEIGHT_FORMATS = ['fp32', 'int8', 'nf4'] as const;
export type FrozenWeightFormat = (typeof FROZEN_WEIGHT_FORMATS)[number];

export const MEMORY_GROUPS = ['param', 'grad', 'act', 'opt', 'temp'] as const;
export type MemoryGroup = (typeof MEMORY_GROUPS)[number];

export const FLOP_PHASES = ['forward', 'backward_input', 'backward_weight', 'optimizer', 'projection'] as const;
export type FlopPhase = (typeof FLOP_PHASES)[number];

export function isOneOf<T extends string>(ids: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (ids as readonly string[]).includes(value);
}
