// One fine-tuning run in the worker: data for the task, the model the method rewrites, the base
// checkpoint, the baseline evaluation, epochs of steps with the method's optimizer, evaluation
// after each epoch, early stopping, and a summary. Every tensor is disposed; values are read with
// `await data()` (never dataSync, which stalls a WebGPU worker).
import * as tf from '@tensorflow/tfjs';
import { hasNewHead, methodOptionsOf, modelOptionsOf, type LabConfig } from '../app/config';
import { profileMethods } from '../app/profileMethods';
import { downsample, SUMMARY_CURVE_POINTS, type RunSummary } from '../app/results';
import { applyMethod, initializeDoraMagnitudes, METHODS, type MethodOptimizer } from '../core/adapters';
import { batchCount, iterateBatches, makeBatch } from '../core/data/batching';
import { DataError, type Dataset } from '../core/data/types';
import { buildModelSpec } from '../core/models/registry';
import { createModel, disposeModel, type Model } from '../core/nn/model';
import { createOptimizer } from '../core/optim';
import { measureTrainingStep, summariseMeasured } from '../core/profile/measured';
import type { AnalyticProfile } from '../core/profile/types';
import { evaluate, trainStep } from '../core/train/step';
import { pretrainedKeyOf } from '../app/baseWeights';
import { loadBaseWeights } from './checkpoint';
import type { EvalPoint, LossPoint, MeasuredMemorySlot, RunErrorKind, RunResponse } from './protocol';
import { buildRunData, DownloadError, type RunDataInputs } from './runData';
import { EarlyStopping, etaSeconds, type RunControl, Throttle } from './runState';

export interface RunContext {
  runId: number;
  config: LabConfig;
  /** The page's base URL: checkpoints and data are fetched relative to it. */
  baseUrl: string;
  labVersion: string;
  measureMemory: boolean;
  control: RunControl;
  post: (message: RunResponse) => void;
  /** The GPU adapter in words, for the summary. */
  adapter: string;
  /** Set when the WebGPU device was lost (then every error is that). */
  deviceLost: () => string | null;
  /** The user's imported images (the custom task), and a CIFAR-10 archive file they chose. */
  dataInputs?: RunDataInputs;
  /** The torchvision safetensors file the user imported (config.baseWeights 'imported'). */
  baseWeightsFile?: File;
}

/** Progress messages at most this often (the last step's always goes). */
const PROGRESS_INTERVAL_MS = 250;
/** Eval chunks at most this big (the run's batch size when smaller, so the forward pass reuses
 * the training step's compiled shapes). */
const MAX_EVAL_BATCH = 64;

/** A NaN/∞ loss: the run stops, the curves so far stay. */
class NanLossError extends Error {}

/** Accuracy and loss on a dataset in eval mode, a chunk of images at a time (bounded memory). */
export async function evaluateDataset(model: Model, dataset: Dataset, inputSize: number, chunk: number): Promise<{ accuracy: number; loss: number }> {
  const count = dataset.labels.length;
  const EVAL_BATCH = Math.min(MAX_EVAL_BATCH, chunk);
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const indices = Array.from({ length: Math.min(EVAL_BATCH, count - start) }, (_, i) => start + i);
    const batch = makeBatch(dataset, indices, { seed: 0, epoch: 0, inputSize });
    try {
      const result = await evaluate(model, batch.images, batch.labels, { batchSize: EVAL_BATCH });
      correct += result.accuracy * indices.length;
      lossSum += result.loss * indices.length;
    } finally {
      tf.dispose([batch.images, batch.labels]);
    }
  }
  return { accuracy: correct / count, loss: lossSum / count };
}

function isOutOfMemory(message: string): boolean {
  return /out of memory|\boom\b|failed to allocate|allocation failed|array buffer allocation|exceeds .*max.*buffer|maxBufferSize|maxStorageBufferBindingSize/i.test(message);
}

function describeError(error: unknown): { kind: RunErrorKind; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NanLossError) return { kind: 'nan_loss', message };
  if (error instanceof DownloadError) return { kind: 'download', message };
  if (error instanceof DataError) return { kind: 'data', message };
  if (isOutOfMemory(message)) return { kind: 'out_of_memory', message: `Out of memory: ${message}` };
  return { kind: 'internal', message };
}

export async function runTraining(context: RunContext): Promise<void> {
  const { runId, config, control, post } = context;
  const toDispose: { model?: Model; optimizer?: MethodOptimizer } = {};
  let profile: AnalyticProfile | undefined;
  try {
    post({ type: 'run_phase', runId, phase: 'preparing', paused: false });
    const data = await buildRunData(config, context.baseUrl, context.dataInputs);
    // Unseen classes: a new classifier for the task's classes, kept at its random init when the base
    // weights load, and trained fully whatever the method (methodOptions.trainHead, PEFT's modules_to_save).
    // The model options are the ones the charts profile (modelOptionsOf): a new head predicts the task's classes.
    const newHead = hasNewHead(config);
    const modelOptions = modelOptionsOf(config);
    const { numClasses } = modelOptions;
    if (newHead && numClasses !== data.numClasses) {
      // The import sets Classes to the folders found; a link opened since may have changed it.
      if (config.task === 'custom') throw new DataError('Classes', `Your images have ${data.numClasses} classes but the model is set up for ${numClasses}: import the images again.`);
      throw new Error(`The new head predicts ${numClasses} classes but the task has ${data.numClasses}.`);
    }
    if (numClasses < data.numClasses) {
      throw new DataError('Classes', `The task has ${data.numClasses} classes but the model predicts ${numClasses}: set Classes to at least ${data.numClasses}.`);
    }
    const methodOptions = methodOptionsOf(config);
    const spec = applyMethod(buildModelSpec(modelOptions), config.method, methodOptions);
    const { profiles, failures } = profileMethods({ model: modelOptions, methods: [config.method], methodOptions, batch: config.batchSize, optimizer: config.optimizer });
    profile = profiles[config.method];
    if (!profile) throw new Error(`The profiler cannot cost this configuration: ${failures[config.method] ?? 'unknown reason'}`);

    const model = createModel(spec, { seed: config.seed });
    toDispose.model = model;
    const checkpoint = await loadBaseWeights(model, spec, {
      choice: config.baseWeights,
      pretrainTask: data.pretrainTask,
      baseUrl: context.baseUrl,
      freshHead: newHead,
      pretrainedKey: pretrainedKeyOf(config),
      importedFile: context.baseWeightsFile,
    });
    if (config.method === 'dora') initializeDoraMagnitudes(model);
    const optimizer: MethodOptimizer =
      config.method === 'galore' || config.optimizer === 'adam'
        ? METHODS[config.method].createOptimizer(model, { lr: config.learningRate }, methodOptions)
        : createOptimizer({ id: 'sgd', lr: config.learningRate }, model.variables);
    toDispose.optimizer = optimizer;
    const trainable = new Set(Object.values(spec.params).filter((param) => param.trainable).map((param) => param.name));

    const trainCount = data.train.labels.length;
    // Full batches only (BatchNorm statistics of a 1-image batch are degenerate), unless there are fewer images than one batch.
    const dropRemainder = trainCount >= config.batchSize;
    const stepsPerEpoch = batchCount(trainCount, config.batchSize, dropRemainder);
    const totalSteps = stepsPerEpoch * config.epochs;
    post({ type: 'run_started', runId, stepsPerEpoch, totalSteps, trainImages: trainCount, testImages: data.test.labels.length, checkpoint });

    const inputSize = config.resolution;
    post({ type: 'run_phase', runId, phase: 'baseline', paused: false });
    const before = await evaluateDataset(model, data.test, inputSize, config.batchSize);
    const cleanAccuracy = data.cleanTest ? (await evaluateDataset(model, data.cleanTest, inputSize, config.batchSize)).accuracy : null;
    const baseline: EvalPoint = { epoch: 0, step: 0, accuracy: before.accuracy, loss: before.loss };
    post({ type: 'run_baseline', runId, baseline, cleanAccuracy });

    const losses: number[] = [];
    const evals: EvalPoint[] = [];
    const stopping = new EarlyStopping(config.patience);
    const throttle = new Throttle(PROGRESS_INTERVAL_MS);
    let pending: LossPoint[] = [];
    let step = 0;
    let stoppedEarly = false;
    let trainMs = 0;
    const measureAt = context.measureMemory ? Math.min(1, totalSteps - 1) : -1;

    post({ type: 'run_phase', runId, phase: 'training', paused: false });
    training: for (let epoch = 1; epoch <= config.epochs; epoch++) {
      for (const batch of iterateBatches(data.train, { batchSize: config.batchSize, seed: config.seed, epoch, augment: true, dropRemainder, inputSize })) {
        try {
          if (control.paused) {
            post({ type: 'run_phase', runId, phase: 'training', paused: true });
            await control.waitWhilePaused();
            post({ type: 'run_phase', runId, phase: 'training', paused: false });
          }
          if (control.stopped) break training;
          const started = performance.now();
          let loss: number;
          if (step === measureAt) {
            post({ type: 'run_phase', runId, phase: 'measuring', paused: false });
            const measured = await measureTrainingStep(model, optimizer, { x: batch.images, y: batch.labels }, trainable, { kernelTimes: false });
            loss = measured.loss;
            const summary = summariseMeasured(measured);
            const { total: _total, ...peakBytesByGroup } = summary.peak;
            void _total;
            const slot: MeasuredMemorySlot = {
              peakBytesByGroup,
              sumOfGroupMaximaBytes: summary.sumOfGroupMaxima.total,
              allocatedBytes: summary.allocatedBytes ?? null,
              backend: summary.backend,
            };
            post({ type: 'run_measured', runId, measured: slot });
            post({ type: 'run_phase', runId, phase: 'training', paused: false });
          } else {
            loss = await trainStep(model, optimizer, { x: batch.images, y: batch.labels }, trainable);
          }
          trainMs += performance.now() - started;
          step++;
          pending.push({ step, loss });
          losses.push(loss);
          if (!Number.isFinite(loss)) {
            post({ type: 'run_progress', runId, step, totalSteps, epoch, epochs: config.epochs, examplesPerSecond: 0, etaSeconds: 0, losses: pending });
            throw new NanLossError(`The loss became ${loss} at step ${step} (epoch ${epoch}): training diverged, so the run stopped. Lower the learning rate (now ${config.learningRate}) and run again; the curves so far are kept.`);
          }
          const lastOfEpoch = step % stepsPerEpoch === 0;
          if (throttle.ready(performance.now(), lastOfEpoch)) {
            const seconds = trainMs / 1000;
            post({
              type: 'run_progress',
              runId,
              step,
              totalSteps,
              epoch,
              epochs: config.epochs,
              examplesPerSecond: seconds > 0 ? (step * config.batchSize) / seconds : 0,
              etaSeconds: etaSeconds(step, totalSteps, seconds),
              losses: pending,
            });
            pending = [];
          }
        } finally {
          tf.dispose([batch.images, batch.labels]);
        }
      }
      post({ type: 'run_phase', runId, phase: 'evaluating', paused: false });
      const result = await evaluateDataset(model, data.test, inputSize, config.batchSize);
      const point: EvalPoint = { epoch, step, accuracy: result.accuracy, loss: result.loss };
      evals.push(point);
      post({ type: 'run_eval', runId, point });
      if (stopping.update(epoch, result.accuracy) === 'stop' && epoch < config.epochs) {
        stoppedEarly = true;
        break;
      }
      if (control.stopped) break;
      post({ type: 'run_phase', runId, phase: 'training', paused: false });
    }

    const last = evals.at(-1) ?? baseline;
    const summary: RunSummary = {
      labVersion: context.labVersion,
      backend: tf.getBackend(),
      adapter: context.adapter,
      baselineAccuracy: baseline.accuracy,
      finalAccuracy: last.accuracy,
      finalLoss: last.loss,
      epochsRun: evals.length,
      steps: step,
      stoppedEarly,
      trainSeconds: trainMs / 1000,
      trainLoss: downsample(losses, SUMMARY_CURVE_POINTS),
      evalAccuracy: evals.map((point) => point.accuracy),
      peakBytesByGroup: { ...profile.memory.analytic.peak.bytes },
      sumOfGroupMaximaBytes: profile.memory.analytic.sumOfGroupMaxima,
      flopsByPhase: { ...profile.flops.correct.byPhase },
    };
    post({ type: 'run_done', runId, summary, reason: control.stopped ? 'stopped' : stoppedEarly ? 'early_stopped' : 'completed' });
  } catch (error) {
    const lost = context.deviceLost();
    const described = lost ? { kind: 'device_lost' as const, message: `The WebGPU device was lost: ${lost}. Reload the page to get a new one.` } : describeError(error);
    post({
      type: 'run_error',
      runId,
      ...described,
      ...(described.kind === 'out_of_memory' && profile ? { memoryBreakdown: { ...profile.memory.analytic.peak.bytes } } : {}),
    });
  } finally {
    toDispose.optimizer?.dispose();
    if (toDispose.model) disposeModel(toDispose.model);
  }
}
