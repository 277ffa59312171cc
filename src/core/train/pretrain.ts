// The pretraining loop of a base model on the synthetic source domain, one implementation for
// `npm run pretrain` (the shipped checkpoints) and the training worker ("Pretrain base model"):
// every parameter trains, Adam with a linear warm-up then cosine decay to 0, full batches with
// the usual augmentation, seeded shuffles. The caller owns the model; the optimizer is made and
// disposed here.
import * as tf from '@tensorflow/tfjs';
import { batchCount, iterateBatches } from '../data/batching';
import type { Dataset } from '../data/types';
import type { Model } from '../nn/model';
import { createOptimizer } from '../optim';
import { trainStep } from './step';

export interface PretrainSettings {
  epochs: number;
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Fraction of the steps spent warming up (0–1). */
  warmup: number;
  /** Seeds the shuffle and the augmentation (the model's init is the caller's). */
  seed: number;
}

export interface PretrainSchedule {
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
}

export interface PretrainProgress {
  /** Steps done. */
  step: number;
  totalSteps: number;
  /** 1-based epoch in progress. */
  epoch: number;
  epochs: number;
  /** This step's loss, and the mean over the epoch's steps so far. */
  loss: number;
  epochMeanLoss: number;
  /** Learning rate this step used. */
  lr: number;
  /** Since the loop started. */
  seconds: number;
  batchSize: number;
}

export interface PretrainHooks {
  /** After every step; awaited (a worker may yield there so that a cancel gets through). */
  onStep?: (progress: PretrainProgress) => void | Promise<void>;
  /** Checked before every step: true ends the loop early (the result says `stopped`). */
  shouldStop?: () => boolean;
}

export interface PretrainResult extends PretrainSchedule {
  /** Steps done (totalSteps unless stopped). */
  steps: number;
  stopped: boolean;
  trainSeconds: number;
}

/** The loss became NaN or ±∞: training diverged (lower the learning rate). */
export class PretrainDivergedError extends Error {
  override name = 'PretrainDivergedError';
  constructor(
    readonly loss: number,
    readonly step: number,
  ) {
    super(`The pretraining loss became ${loss} at step ${step}: training diverged; lower the learning rate.`);
  }
}

/** Linear warm-up to the peak, then cosine decay to 0 at the last step. */
export function learningRateAt(step: number, totalSteps: number, peakLr: number, warmupSteps: number): number {
  if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return 0.5 * peakLr * (1 + Math.cos(Math.PI * progress));
}

/** Steps of a pretraining run: full batches only (BatchNorm statistics of a tiny last batch are noise). */
export function pretrainSchedule(trainImages: number, settings: Pick<PretrainSettings, 'epochs' | 'batchSize' | 'warmup'>): PretrainSchedule {
  const stepsPerEpoch = batchCount(trainImages, settings.batchSize, true);
  const totalSteps = stepsPerEpoch * settings.epochs;
  return { stepsPerEpoch, totalSteps, warmupSteps: Math.round(settings.warmup * totalSteps) };
}

/** Trains every trainable parameter of `model` on `train`. Throws PretrainDivergedError on a
 * non-finite loss. Every batch's tensors are disposed, and the optimizer's state. */
export async function pretrainModel(model: Model, train: Dataset, settings: PretrainSettings, hooks: PretrainHooks = {}): Promise<PretrainResult> {
  const schedule = pretrainSchedule(train.labels.length, settings);
  const { totalSteps, warmupSteps } = schedule;
  const trainable = new Set(Object.values(model.spec.params).filter((param) => param.trainable).map((param) => param.name));
  const optimizer = createOptimizer({ id: 'adam', lr: settings.lr }, model.variables);
  const inputSize = model.spec.options.resolution;
  const started = performance.now();
  let step = 0;
  let stopped = false;
  try {
    training: for (let epoch = 0; epoch < settings.epochs; epoch++) {
      let lossSum = 0;
      let lossCount = 0;
      for (const batch of iterateBatches(train, { batchSize: settings.batchSize, seed: settings.seed, epoch, augment: true, dropRemainder: true, inputSize })) {
        let loss: number;
        try {
          if (hooks.shouldStop?.()) {
            stopped = true;
            break training;
          }
          optimizer.lr = learningRateAt(step, totalSteps, settings.lr, warmupSteps);
          loss = await trainStep(model, optimizer, { x: batch.images, y: batch.labels }, trainable);
        } finally {
          tf.dispose([batch.images, batch.labels]);
        }
        if (!Number.isFinite(loss)) throw new PretrainDivergedError(loss, step);
        lossSum += loss;
        lossCount++;
        step++;
        await hooks.onStep?.({
          step,
          totalSteps,
          epoch: epoch + 1,
          epochs: settings.epochs,
          loss,
          epochMeanLoss: lossSum / lossCount,
          lr: optimizer.lr,
          seconds: (performance.now() - started) / 1000,
          batchSize: settings.batchSize,
        });
      }
    }
    return { ...schedule, steps: step, stopped, trainSeconds: (performance.now() - started) / 1000 };
  } finally {
    optimizer.dispose();
  }
}
