// Base weights of a run, the pure part shared by the page (which offers the choice) and the
// training worker (which loads them): which shipped checkpoint fits a configuration, which base a
// "Pretrain base model" trains for it and under which IndexedDB key it is cached.
import type { ModelOptions } from '../core/models/spec';
import { PRETRAIN_CLASSES, pretrainedWeightsKey, type PretrainTask } from '../core/train/pretrainTasks';
import { SYNTHETIC_DEFAULT_SIZES } from '../core/data/synthetic';
import { hasNewHead, modelOptionsOf, type LabConfig } from './config';

/** A checkpoint public/checkpoints/manifest.json lists (the fields the lab reads). */
export interface ShippedCheckpoint {
  model: string;
  options: ModelOptions;
  task: string;
  file: string;
  cleanTestAccuracy: number;
}

/** What is stored beside a base model pretrained in the browser (IndexedDB record `meta`). */
export interface PretrainedWeightsInfo {
  key: string;
  options: ModelOptions;
  task: PretrainTask;
  /** Eval mode on `testImages` images of the synthetic test split (the task's classes). */
  cleanTestAccuracy: number;
  cleanTestLoss: number;
  testImages: number;
  trainImages: number;
  epochs: number;
  steps: number;
  batchSize: number;
  peakLr: number;
  seed: number;
  backend: string;
  trainSeconds: number;
  /** Milliseconds since the epoch. */
  storedAt: number;
  bytes: number;
}

/** The base a configuration's task starts from: all 10 source classes, or classes 0–4 for unseen classes. */
export const pretrainTaskOf = (config: Pick<LabConfig, 'task'>): PretrainTask => (config.task === 'unseen_classes' ? 'source_0_4' : 'source');

/** The model a base for this configuration has: its size, and a head for the pretraining task's
 * classes where the task trains a new head (that head is not loaded), else the configured head. */
export function pretrainModelOptionsOf(config: LabConfig): ModelOptions {
  const task = pretrainTaskOf(config);
  return { ...modelOptionsOf(config), numClasses: hasNewHead(config) ? PRETRAIN_CLASSES[task].length : config.numClasses };
}

/** The IndexedDB key of the base model pretrained in this browser for a configuration. */
export const pretrainedKeyOf = (config: LabConfig) => pretrainedWeightsKey(pretrainModelOptionsOf(config), pretrainTaskOf(config));

/** The test images a browser pretraining is measured on: as many as it trains on, within [100, 2000]
 * (2000: the shipped checkpoints' test split). */
export const pretrainTestImagesFor = (trainImages: number) => Math.min(SYNTHETIC_DEFAULT_SIZES.test, Math.max(100, trainImages));

/** The shipped checkpoint of `options`' size for `task`; with a fresh head (not loaded), one with another class count serves too. */
export function findShippedCheckpoint(
  entries: readonly ShippedCheckpoint[],
  options: Pick<ModelOptions, 'model' | 'width' | 'resolution' | 'stem' | 'numClasses' | 'depth'>,
  task: PretrainTask,
  freshHead: boolean,
): ShippedCheckpoint | undefined {
  const { model, width, resolution, stem, numClasses, depth } = options;
  const sameBody = (e: ShippedCheckpoint) =>
    e.task === task && e.options?.model === model && e.options.width === width && e.options.resolution === resolution && e.options.stem === stem && e.options.depth === depth;
  return entries.find((e) => sameBody(e) && e.options.numClasses === numClasses) ?? (freshHead ? entries.find(sameBody) : undefined);
}

/** The shipped checkpoint a configuration's run starts from under "Shipped checkpoint" (the run's model options and task). */
export function shippedCheckpointOf(entries: readonly ShippedCheckpoint[], config: LabConfig): ShippedCheckpoint | undefined {
  return findShippedCheckpoint(entries, modelOptionsOf(config), pretrainTaskOf(config), hasNewHead(config));
}

/** A size in words, for messages: "mobilenet_v2 at width 0.35, 32×32, cifar stem, 10 classes". */
export const sizeInWords = (options: ModelOptions) =>
  `${options.model} at width ${options.width}${options.depth === undefined ? '' : `, depth ${options.depth}`}, ${options.resolution}×${options.resolution}, ${options.stem} stem, ${options.numClasses} classes`;
