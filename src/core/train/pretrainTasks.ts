// What a base model is pretrained on, and how a pretrained base is named: the pure half of
// pretraining (no tfjs), shared by `npm run pretrain` (the shipped checkpoints), the training
// worker ("Pretrain base model", cached in IndexedDB) and the page (which lists the cache).
import { generateSyntheticDataset, SYNTHETIC_DEFAULT_SIZES, SYNTHETIC_NUM_CLASSES } from '../data/synthetic';
import { restrictToClasses, UNSEEN_PRETRAIN_CLASSES } from '../data/tasks';
import type { Dataset } from '../data/types';
import type { ModelId } from '../ids';
import type { ModelOptions } from '../models/spec';

/** `source`: all 10 classes of the synthetic source domain; `source_0_4`: classes 0–4 (a 5-way
 * head: the base of the unseen-classes task). */
export const PRETRAIN_TASKS = ['source', 'source_0_4'] as const;
export type PretrainTask = (typeof PRETRAIN_TASKS)[number];

/** The classes each pretraining task trains on; labels stay 0..k−1 (0–4 are their own positions). */
export const PRETRAIN_CLASSES: Record<PretrainTask, readonly number[]> = {
  source: Array.from({ length: SYNTHETIC_NUM_CLASSES }, (_, label) => label),
  source_0_4: UNSEEN_PRETRAIN_CLASSES,
};

/** The recipe of the shipped checkpoints (`npm run pretrain`'s defaults): Adam with a linear
 * warm-up over `warmup` of the steps to `lr`, then cosine decay to 0. */
export const PRETRAIN_DEFAULTS = { trainSize: 7500, batchSize: 32, lr: 2e-3, warmup: 0.05, seed: 0 } as const;

/** Passes over the training images each model needs to learn the source domain (measured on the
 * 10 classes: at 2 epochs MobileNetV2 reached 28% and v3-small 25%; at 8 epochs v2 92%; v3-small
 * 61% → 87% and v3-large 76% → 96% from 16 to 32; ResNet-18 67% → 90% from 2 to 4). The default of
 * `npm run pretrain` and of "Pretrain base model".
 * vit_tiny (the lab's ViT size: width 0.25, depth 4, 32×32) is NOT measured to convergence: from
 * scratch it was still at chance after one epoch at lr 5e-4 (loss 2.309, 10.4% clean, 2026-12-05)
 * and after 260 steps at the default 2e-3 (loss 2.30); ViTs learn slowly from scratch on small data.
 * 32, the most any CNN here needed, is a starting point, not a measured figure; no ViT checkpoint ships. */
export const PRETRAIN_EPOCHS: Readonly<Record<ModelId, number>> = {
  mobilenet_v2: 8,
  mobilenet_v3_small: 32,
  mobilenet_v3_large: 32,
  resnet18: 4,
  vit_tiny: 32,
};

/** The synthetic training images of a pretraining task (classes cycled in order: balanced). */
export function pretrainTrainSet(task: PretrainTask, count: number): Dataset {
  return generateSyntheticDataset({ split: 'train', count, classes: PRETRAIN_CLASSES[task] });
}

/** The synthetic test split pretrained accuracies are measured on (restricted to the task's classes). */
export function pretrainTestSet(task: PretrainTask, count = SYNTHETIC_DEFAULT_SIZES.test): Dataset {
  const test = generateSyntheticDataset({ split: 'test', count });
  return task === 'source' ? test : restrictToClasses(test, PRETRAIN_CLASSES[task]);
}

/** The IndexedDB key of a base model pretrained in the browser: one per model size and task, so
 * pretraining the same size again replaces it. */
export function pretrainedWeightsKey(options: ModelOptions, task: PretrainTask): string {
  const { model, width, resolution, stem, numClasses, depth } = options;
  // A ViT's depth joins its width (keys of the CNNs, which have none, are unchanged).
  return `pretrained/${model}/w${width}${depth === undefined ? '' : `/d${depth}`}/r${resolution}/${stem}/c${numClasses}/${task}`;
}

export const isPretrainedWeightsKey = (key: string) => key.startsWith('pretrained/');
