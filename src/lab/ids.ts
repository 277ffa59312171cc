// The lab's own ids (beside core's, src/core/ids.ts): where a run's images and base weights come
// from, and which optimizers a lab run offers.
import type { ModelId } from '../core/ids';
import type { OptimizerId as CoreOptimizerId } from '../core/optim/optimizer';

/** Whether a model is a vision transformer: it takes a depth, and has layer norms where the CNNs
 * have batch norms (so BN+head is LN+head there). */
export const isTransformerModel = (model: ModelId) => model === 'vit_tiny';

/** Where the images come from: the embedded synthetic domain (no download), or real CIFAR-10 as a
 * self-hosted archive (or a file the user has) or as parquet from the Hugging Face hub. */
export const DATA_SOURCE_IDS = ['synthetic', 'cifar10', 'hub_cifar10'] as const;
export type DataSourceId = (typeof DATA_SOURCE_IDS)[number];

/** Where a run's base weights come from: the checkpoint shipped for this size (random init when
 * none is), one pretrained in this browser (IndexedDB), timm's ImageNet-pretrained weights from the
 * Hugging Face hub (width 1, ImageNet stem), a torchvision safetensors file the user imported (it
 * cannot travel in a link), or random init. */
export const BASE_WEIGHTS_IDS = ['shipped', 'browser', 'hub', 'imported', 'random'] as const;
export type BaseWeightsId = (typeof BASE_WEIGHTS_IDS)[number];

/** The optimizers a lab run offers (core's optim/ implements AdamW too, for the profiler and CLI). */
export const LAB_OPTIMIZER_IDS = ['adam', 'sgd'] as const satisfies readonly CoreOptimizerId[];
export type OptimizerId = (typeof LAB_OPTIMIZER_IDS)[number];

/** The cards of the findings tour (src/lab/findings.ts), as links name them (`#view=findings&f=…`). */
export const FINDING_IDS = [
  'activations_dominate',
  'lora_tradeoff',
  'dora_costs_more',
  'galore_robust_but_costly',
  'bn_head_cheap_but_brittle',
  'flop_ratio_artefact',
  'cnn_vs_llm',
  'vit_transfer',
  'quantized_base',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];
export const isFindingId = (text: string): text is FindingId => (FINDING_IDS as readonly string[]).includes(text);

/** What a finished run can download (src/lab/exports.ts says what each holds). */
export const EXPORT_KINDS = ['weights', 'adapter', 'results_json', 'results_csv'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
