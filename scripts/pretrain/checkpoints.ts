// The shipped base checkpoints: which exist, how they are named, built and measured. Shared by
// `npm run pretrain` (which writes them), `cli evaluate` and the checkpoint test (which read them).
import { DEFAULT_CONFIG, withField } from '../../src/lab/config';
import { isTransformerModel } from '../../src/lab/ids';
import { SYNTHETIC_DEFAULT_SIZES } from '../../src/core/data/synthetic';
import type { Dataset } from '../../src/core/data/types';
import { MODEL_IDS, type ModelId } from '../../src/core/ids';
import type { ModelOptions } from '../../src/core/models/spec';
import type { Model } from '../../src/core/nn/model';
import { PRETRAIN_CLASSES, pretrainTestSet, type PretrainTask } from '../../src/core/train/pretrainTasks';
import { evaluateDataset as evaluateOn } from '../../src/core/train/evaluation';

// The tasks and their classes live in src/core, shared with the browser's "Pretrain base model".
export { PRETRAIN_CLASSES, PRETRAIN_TASKS, type PretrainTask } from '../../src/core/train/pretrainTasks';

export const CHECKPOINT_DIRECTORY = 'public/checkpoints';
export const MANIFEST_FILE = 'manifest.json';

export interface ManifestEntry {
  model: ModelId;
  options: ModelOptions;
  task: PretrainTask;
  /** Source classes the head predicts, in head order. */
  classes: number[];
  file: string;
  bytes: number;
  sha256: string;
  epochs: number;
  steps: number;
  /** Distinct training images (each epoch sees all of them, augmented anew). */
  trainingImages: number;
  batchSize: number;
  schedule: { optimizer: 'adam'; peakLr: number; warmupSteps: number; decay: 'cosine' };
  seed: number;
  /** Synthetic test split (restricted to `classes`), eval mode. */
  testImages: number;
  cleanTestAccuracy: number;
  cleanTestLoss: number;
  trainSeconds: number;
  date: string;
  backend: string;
  /** Re-creates this checkpoint. */
  command: string;
}

export interface Manifest {
  description: string;
  checkpoints: ManifestEntry[];
}

export function checkpointFileName(model: ModelId, task: PretrainTask): string {
  return `${model}_${task}.safetensors`;
}

/** The models a checkpoint is shipped for: the CNNs. ViT-Tiny ships none (it starts from random
 * init, a base pretrained in the browser, or timm's ImageNet weights at its own size): a base worth
 * shipping was not reached within the pretraining budget (README, Base weights). */
export const CHECKPOINT_MODELS: readonly ModelId[] = MODEL_IDS.filter((model) => !isTransformerModel(model));

/** The lab's default model size (the UI's defaults; a ViT's: the size the lab switches it to), with the task's head. */
export function checkpointModelOptions(model: ModelId, task: PretrainTask): ModelOptions {
  const { width, resolution, stem, depth } = withField(DEFAULT_CONFIG, 'model', model);
  const options = { model, width, resolution, stem, numClasses: PRETRAIN_CLASSES[task].length };
  return isTransformerModel(model) ? { ...options, depth } : options;
}

/** The synthetic test split the manifest's accuracies are measured on (restricted to the task's classes). */
export function checkpointTestSet(task: PretrainTask, count = SYNTHETIC_DEFAULT_SIZES.test): Dataset {
  return pretrainTestSet(task, count);
}

/** Eval-mode accuracy and loss on a dataset, 100 images at a time (the chunking the manifest's
 * accuracies were measured with). */
export const evaluateDataset = (model: Model, dataset: Dataset) => evaluateOn(model, dataset, { batchSize: 100 });
