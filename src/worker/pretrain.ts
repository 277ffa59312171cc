// "Pretrain base model" in the training worker: the base of a configuration's size (and task:
// all 10 source classes, or classes 0–4 for unseen classes) trained from random init on the
// embedded synthetic source domain with the loop `npm run pretrain` uses (src/core/train/pretrain.ts),
// evaluated on the clean synthetic test split, and cached in IndexedDB (safetensors bytes, with
// its accuracy and settings) under the key of its size, where a run's "Pretrained in this
// browser" finds it. Progress is throttled; cancel stops between steps and stores nothing.
import * as tf from '@tensorflow/tfjs';
import { pretrainModelOptionsOf, pretrainTaskOf, pretrainTestImagesFor, type PretrainedWeightsInfo } from '../lab/baseWeights';
import type { LabConfig } from '../lab/config';
import { buildModelSpec } from '../core/models/registry';
import { createModel, disposeModel, type Model } from '../core/nn/model';
import { pretrainModel, PretrainDivergedError } from '../core/train/pretrain';
import { PRETRAIN_CLASSES, PRETRAIN_DEFAULTS, pretrainedWeightsKey, pretrainTestSet, pretrainTrainSet } from '../core/train/pretrainTasks';
import { exportTorchvisionSafetensors } from '../core/weights/load';
import { storePretrainedWeights } from '../lab/storage/pretrainedStore';
import type { PretrainResponse } from '../lab/protocol';
import { evaluateDataset } from '../core/train/evaluation';
import { type RunControl, Throttle } from '../lab/run/runState';

export interface PretrainContext {
  jobId: number;
  config: LabConfig;
  epochs: number;
  trainImages: number;
  control: RunControl;
  post: (message: PretrainResponse) => void;
  deviceLost: () => string | null;
}

const PROGRESS_INTERVAL_MS = 250;

/** Yields to the worker's event loop, so that a cancel message is handled between steps even on
 * backends whose reads resolve at once (CPU). */
const yieldToMessages = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function runPretraining(context: PretrainContext): Promise<void> {
  const { jobId, config, control, post } = context;
  let model: Model | undefined;
  try {
    post({ type: 'pretrain_phase', jobId, phase: 'preparing' });
    const task = pretrainTaskOf(config);
    const options = pretrainModelOptionsOf(config);
    const train = pretrainTrainSet(task, context.trainImages);
    const test = pretrainTestSet(task, pretrainTestImagesFor(context.trainImages));
    // Full batches of the shipped recipe's size, or one batch of every image when there are fewer.
    const batchSize = Math.min(PRETRAIN_DEFAULTS.batchSize, train.labels.length);
    const settings = { epochs: context.epochs, batchSize, lr: PRETRAIN_DEFAULTS.lr, warmup: PRETRAIN_DEFAULTS.warmup, seed: config.seed };
    model = createModel(buildModelSpec(options), { seed: config.seed });
    await yieldToMessages();
    if (control.stopped) {
      post({ type: 'pretrain_cancelled', jobId });
      return;
    }

    post({ type: 'pretrain_phase', jobId, phase: 'training' });
    const throttle = new Throttle(PROGRESS_INTERVAL_MS);
    const trained = await pretrainModel(model, train, settings, {
      shouldStop: () => control.stopped,
      onStep: async ({ step, totalSteps, epoch, epochs, epochMeanLoss, seconds }) => {
        if (!throttle.ready(performance.now(), step === totalSteps)) return;
        post({ type: 'pretrain_progress', jobId, step, totalSteps, epoch, epochs, loss: epochMeanLoss, examplesPerSecond: seconds > 0 ? (step * batchSize) / seconds : 0 });
        await yieldToMessages();
      },
    });
    if (trained.stopped || control.stopped) {
      post({ type: 'pretrain_cancelled', jobId });
      return;
    }

    post({ type: 'pretrain_phase', jobId, phase: 'evaluating' });
    const evaluation = await evaluateDataset(model, test, { batchSize: Math.min(64, batchSize) });
    if (control.stopped) {
      post({ type: 'pretrain_cancelled', jobId });
      return;
    }

    post({ type: 'pretrain_phase', jobId, phase: 'storing' });
    const key = pretrainedWeightsKey(options, task);
    const bytes = await exportTorchvisionSafetensors(model, {
      lab_model: options.model,
      lab_task: task,
      lab_classes: PRETRAIN_CLASSES[task].join(','),
      lab_pretrained: 'browser',
    });
    const info: PretrainedWeightsInfo = {
      key,
      options,
      task,
      cleanTestAccuracy: evaluation.accuracy,
      cleanTestLoss: evaluation.loss,
      testImages: test.labels.length,
      trainImages: train.labels.length,
      epochs: context.epochs,
      steps: trained.steps,
      batchSize,
      peakLr: settings.lr,
      seed: config.seed,
      backend: tf.getBackend(),
      trainSeconds: trained.trainSeconds,
      storedAt: Date.now(),
      bytes: bytes.length,
    };
    const stored = await storePretrainedWeights(info, bytes);
    post({ type: 'pretrain_done', jobId, info, stored });
  } catch (error) {
    const lost = context.deviceLost();
    const message = lost
      ? `The WebGPU device was lost (${lost}), so pretraining stopped. Start it again to train on a new device (no reload needed).`
      : error instanceof PretrainDivergedError
        ? `${error.message} (peak ${PRETRAIN_DEFAULTS.lr})`
        : `Pretraining failed: ${error instanceof Error ? error.message : String(error)}`;
    post({ type: 'pretrain_error', jobId, message });
  } finally {
    if (model) disposeModel(model);
  }
}
