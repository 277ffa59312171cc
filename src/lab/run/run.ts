// One fine-tuning run, the same in the browser's training worker, in Node and in tests: data for
// the task, the model the method rewrites, the base weights, the baseline evaluation, epochs of
// steps with the method's trainer, evaluation after each epoch, early stopping, and a summary.
// What it fetches and where it caches come from the environment (environment.ts); what it says
// goes out through `post` as the worker protocol's messages. Every tensor is disposed; values are
// read with `await data()` (never dataSync, which stalls a WebGPU worker).
import * as tf from '@tensorflow/tfjs';
import { applyMethod } from '../../core/adapters/definitions';
import { quantizeFrozenBase } from '../../core/quant/quantizeBase';
import { batchCount, iterateBatches, type Batch as DataBatch } from '../../core/data/batching';
import { DataError } from '../../core/data/types';
import { activeGpuDevice, bufferLimitsOf, GpuError, withGpuErrorScope } from '../../core/gpuDevice';
import { largestOutputOverLimit, type BufferOverLimit } from '../../core/profile/bufferLimits';
import { buildModelSpec } from '../../core/models/registry';
import { createModel, disposeModel, type Model } from '../../core/nn/model';
import { measureTrainingStep, summariseMeasured } from '../../core/profile/measured';
import type { AnalyticProfile } from '../../core/profile/types';
import { evaluateDataset } from '../../core/train/evaluation';
import { createTrainer, type Trainer } from '../../core/train/trainer';
import { pretrainedKeyOf } from '../baseWeights';
import { hasNewHead, methodOptionsOf, modelOptionsOf, type LabConfig } from '../config';
import { profileMethods } from '../profileMethods';
import type { CheckpointStatus, EvalPoint, LossPoint, MeasuredMemorySlot, RunErrorKind, RunResponse } from '../protocol';
import { exportProblems } from '../exports';
import { downsample, SUMMARY_CURVE_POINTS, type RunSummary } from '../results';
import { loadBaseWeights } from './checkpoint';
import { isAbortError } from '../hub/hubFiles';
import type { RunEnvironment } from './environment';
import { DownloadError } from './fetchRetry';
import { buildRunData, type RunData, type RunDataInputs } from './runData';
import { EarlyStopping, etaSeconds, type RunControl, Throttle } from './runState';

export interface RunContext {
  runId: number;
  config: LabConfig;
  /** Where files come from and data is cached (browserRunEnvironment, plainEnvironment). */
  environment: RunEnvironment;
  labVersion: string;
  measureMemory: boolean;
  control: RunControl;
  post: (message: RunResponse) => void;
  /** The GPU adapter in words, for the summary. */
  adapter: string;
  /** Set when the WebGPU device was lost (then every error is that). */
  deviceLost: () => string | null;
  /** After a failure: the device's loss if it comes within a moment (device.lost resolves a little
   * after the call that failed because of it), else null. Without it, only `deviceLost` is asked. */
  awaitDeviceLoss?: () => Promise<string | null>;
  /** The user's imported images (the custom task), and a CIFAR-10 archive file they chose. */
  dataInputs?: RunDataInputs;
  /** The torchvision safetensors file the user imported (config.baseWeights 'imported'). */
  baseWeightsFile?: File;
  /** Takes the fine-tuned model of a finished run (not of a failed one), which it then owns (the
   * worker keeps it for the run's downloads); without it the model is disposed with the run. */
  keepModel?: (model: Model) => void;
}

/** Progress messages at most this often (the last step's always goes). */
const PROGRESS_INTERVAL_MS = 250;
/** Eval chunks at most this big (the run's batch size when smaller, so the forward pass reuses
 * the training step's compiled shapes). */
const MAX_EVAL_BATCH = 64;

/** A NaN/∞ loss: the run stops, the curves so far stay. */
class NanLossError extends Error {}

/** The WebGPU device went away between steps (the failure message says how). */
class DeviceLostError extends Error {}

/** A layer output too large for one buffer of this device: refused before anything is allocated. */
class BufferLimitError extends Error {
  constructor(over: BufferOverLimit, config: LabConfig) {
    const size = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${Math.round(bytes / 2 ** 10)} KiB`);
    // An output's size is proportional to the batch.
    const fittingBatch = Math.floor((config.batchSize * over.limitBytes) / over.bytes);
    super(
      `This configuration needs a ${size(over.bytes)} buffer (the output of ${over.nodeId} at batch ${config.batchSize}, ${config.resolution}×${config.resolution}), ` +
        `but this GPU's ${over.limit} is ${over.limitBytes.toLocaleString('en-US')} bytes (${size(over.limitBytes)}): no tensor can be larger, however much memory is free. ` +
        (fittingBatch >= 1 ? `Lower the batch size to ${fittingBatch} or less, or the resolution.` : 'Lower the resolution or the width.'),
    );
  }
}

/** Everything a run trains with, once prepared. */
interface PreparedRun {
  data: RunData;
  model: Model;
  trainer: Trainer;
  profile: AnalyticProfile;
  checkpoint: CheckpointStatus;
  /** Full batches only, unless there are fewer images than one batch. */
  dropRemainder: boolean;
  stepsPerEpoch: number;
  totalSteps: number;
}

/** What the epochs of training produced. */
interface TrainingOutcome {
  steps: number;
  losses: number[];
  evals: EvalPoint[];
  stoppedEarly: boolean;
  trainSeconds: number;
}

export async function runTraining(context: RunContext): Promise<void> {
  const { runId, post } = context;
  const owned: { model?: Model; trainer?: Trainer; profile?: AnalyticProfile } = {};
  try {
    post({ type: 'run_phase', runId, phase: 'preparing', paused: false });
    const run = await prepareRun(context, owned);
    post({ type: 'run_started', runId, stepsPerEpoch: run.stepsPerEpoch, totalSteps: run.totalSteps, trainImages: run.data.train.labels.length, testImages: run.data.test.labels.length, checkpoint: run.checkpoint });
    const baseline = await evaluateBaseline(run, context);
    const outcome = await trainEpochs(run, context);
    const summary = summarise(run, baseline, outcome, context);
    // Handed over before run_done goes out, so an export asked for on run_done finds it.
    if (context.keepModel) {
      context.keepModel(run.model);
      owned.model = undefined;
    }
    const reason = context.control.stopped ? 'stopped' : outcome.stoppedEarly ? 'early_stopped' : 'completed';
    post({ type: 'run_done', runId, summary, reason, exportProblems: exportProblems(context.config) });
  } catch (error) {
    // Stop pressed while the run waited on a download: the download was cancelled, not failed.
    // (A lost device stops the run too, and its rejected readbacks are AbortErrors as well.)
    if (context.control.stopped && isAbortError(error) && context.deviceLost() === null) post({ type: 'run_error', runId, kind: 'download', message: 'Stopped during a download: nothing of it was cached, and the run did not start.' });
    else post(failureMessage(error, await deviceLossBehind(error, context), context.runId, owned.profile));
  } finally {
    owned.trainer?.dispose();
    if (owned.model) disposeModel(owned.model);
  }
}

/** The data, the method's model with its base weights, the analytic profile and the trainer.
 * What it allocates goes into `owned` as soon as it exists, for the caller to free. */
async function prepareRun(context: RunContext, owned: { model?: Model; trainer?: Trainer; profile?: AnalyticProfile }): Promise<PreparedRun> {
  const { config } = context;
  const dataProgress = new Throttle(PROGRESS_INTERVAL_MS);
  const data = await buildRunData(config, context.environment, {
    ...context.dataInputs,
    signal: context.control.signal,
    onDataProgress: (what, done, total) => {
      if (dataProgress.ready(performance.now(), done === total)) context.post({ type: 'run_data_progress', runId: context.runId, what, done, total });
    },
  });
  // A task with a new head (unseen classes, your images) fine-tunes a classifier for the task's
  // classes, kept at its random init when the base weights load and trained fully whatever the
  // method (methodOptions.trainHead, PEFT's modules_to_save). The model options are those the
  // charts profile (modelOptionsOf).
  const newHead = hasNewHead(config);
  const modelOptions = modelOptionsOf(config);
  checkClassCounts(config, modelOptions.numClasses, data.numClasses, newHead);
  const methodOptions = methodOptionsOf(config);
  // A quantized frozen base (validated: not for FFT/GaLore) is stored so from the start; the base
  // weights quantize as they load.
  const spec = quantizeFrozenBase(applyMethod(buildModelSpec(modelOptions), config.method, methodOptions), config.method, config.frozenWeights);
  const { profiles, failures } = profileMethods({
    model: modelOptions,
    methods: [config.method],
    methodOptions,
    batch: config.batchSize,
    optimizer: config.optimizer,
    frozenWeights: config.frozenWeights,
  });
  const profile = profiles[config.method];
  if (!profile) throw new Error(`The profiler cannot cost this configuration: ${failures[config.method] ?? 'unknown reason'}`);
  owned.profile = profile;
  // Before anything is allocated: a layer output over the device's buffer limits cannot run.
  const device = activeGpuDevice();
  const overLimit = device ? largestOutputOverLimit(profile, bufferLimitsOf(device)) : null;
  if (overLimit) throw new BufferLimitError(overLimit, config);

  const model = createModel(spec, { seed: config.seed });
  owned.model = model;
  const checkpoint = await loadBaseWeights(model, spec, {
    choice: config.baseWeights,
    pretrainTask: data.pretrainTask,
    environment: context.environment,
    freshHead: newHead,
    pretrainedKey: pretrainedKeyOf(config),
    importedFile: context.baseWeightsFile,
    hubUrl: config.hubUrl,
    signal: context.control.signal,
  });
  // After the base weights: the method prepares the loaded model (DoRA's magnitudes ← ‖W‖).
  const trainer = createTrainer(model, { method: config.method, methodOptions, learningRate: config.learningRate, optimizer: config.optimizer });
  owned.trainer = trainer;

  const trainCount = data.train.labels.length;
  // BatchNorm statistics of a 1-image batch are degenerate: full batches, unless there are fewer images than one.
  const dropRemainder = trainCount >= config.batchSize;
  const stepsPerEpoch = batchCount(trainCount, config.batchSize, dropRemainder);
  return { data, model, trainer, profile, checkpoint, dropRemainder, stepsPerEpoch, totalSteps: stepsPerEpoch * config.epochs };
}

function checkClassCounts(config: LabConfig, headClasses: number, dataClasses: number, newHead: boolean): void {
  if (newHead && headClasses !== dataClasses) {
    // The import sets Classes to the folders found; a link opened since may have changed it.
    if (config.task === 'custom') throw new DataError('Classes', `Your images have ${dataClasses} classes but the model is set up for ${headClasses}: import the images again.`);
    throw new Error(`The new head predicts ${headClasses} classes but the task has ${dataClasses}.`);
  }
  if (headClasses < dataClasses) {
    throw new DataError('Classes', `The task has ${dataClasses} classes but the model predicts ${headClasses}: set Classes to at least ${dataClasses}.`);
  }
}

/** Accuracy before fine-tuning on the task's test split, and for a shift on its clean test split. */
async function evaluateBaseline(run: PreparedRun, { runId, config, post }: RunContext): Promise<EvalPoint> {
  post({ type: 'run_phase', runId, phase: 'baseline', paused: false });
  const evalBatch = Math.min(MAX_EVAL_BATCH, config.batchSize);
  const { before, cleanAccuracy } = await withGpuErrorScope(async () => ({
    before: await evaluateDataset(run.model, run.data.test, { batchSize: evalBatch }),
    cleanAccuracy: run.data.cleanTest ? (await evaluateDataset(run.model, run.data.cleanTest, { batchSize: evalBatch })).accuracy : null,
  }));
  const baseline: EvalPoint = { epoch: 0, step: 0, accuracy: before.accuracy, loss: before.loss };
  post({ type: 'run_baseline', runId, baseline, cleanAccuracy });
  return baseline;
}

/** Epochs of steps, each followed by an evaluation, until the schedule ends, early stopping
 * triggers or the user stops; pauses wait between steps. */
async function trainEpochs(run: PreparedRun, context: RunContext): Promise<TrainingOutcome> {
  const { runId, config, control, post } = context;
  const stopping = new EarlyStopping(config.patience);
  const throttle = new Throttle(PROGRESS_INTERVAL_MS);
  const outcome: TrainingOutcome = { steps: 0, losses: [], evals: [], stoppedEarly: false, trainSeconds: 0 };
  let pending: LossPoint[] = [];
  // The sampled step measured by the engine observer (the second, once optimizer state exists).
  const measureAt = context.measureMemory ? Math.min(1, run.totalSteps - 1) : -1;
  const progress = (epoch: number, examplesPerSecond: number, eta: number): RunResponse => ({
    type: 'run_progress', runId, step: outcome.steps, totalSteps: run.totalSteps, epoch, epochs: config.epochs, examplesPerSecond, etaSeconds: eta, losses: pending,
  });

  post({ type: 'run_phase', runId, phase: 'training', paused: false });
  training: for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const batches = iterateBatches(run.data.train, { batchSize: config.batchSize, seed: config.seed, epoch, augment: true, dropRemainder: run.dropRemainder, inputSize: config.resolution });
    for (const batch of batches) {
      try {
        await waitIfPaused(context);
        throwIfDeviceLost(context);
        if (control.stopped) break training;
        const started = performance.now();
        // Under error scopes: a refused allocation fails the step instead of training on invalid buffers.
        const loss = await withGpuErrorScope(() => (outcome.steps === measureAt ? measuredStep(run, batch, context) : run.trainer.step({ x: batch.images, y: batch.labels })));
        outcome.trainSeconds += (performance.now() - started) / 1000;
        outcome.steps++;
        pending.push({ step: outcome.steps, loss });
        outcome.losses.push(loss);
        if (!Number.isFinite(loss)) {
          throw new NanLossError(`The loss became ${loss} at step ${outcome.steps} (epoch ${epoch}): training diverged, so the run stopped. Lower the learning rate (now ${config.learningRate}) and run again; the curves so far are kept.`);
        }
        if (throttle.ready(performance.now(), outcome.steps % run.stepsPerEpoch === 0)) {
          const seconds = outcome.trainSeconds;
          post(progress(epoch, seconds > 0 ? (outcome.steps * config.batchSize) / seconds : 0, etaSeconds(outcome.steps, run.totalSteps, seconds)));
          pending = [];
        }
      } catch (error) {
        // The curves so far stay: the losses the throttle held back go out before the failure.
        if (pending.length > 0) post(progress(epoch, 0, 0));
        throw error;
      } finally {
        tf.dispose([batch.images, batch.labels]);
      }
    }
    throwIfDeviceLost(context);
    post({ type: 'run_phase', runId, phase: 'evaluating', paused: false });
    const result = await withGpuErrorScope(() => evaluateDataset(run.model, run.data.test, { batchSize: Math.min(MAX_EVAL_BATCH, config.batchSize) }));
    const point: EvalPoint = { epoch, step: outcome.steps, accuracy: result.accuracy, loss: result.loss };
    outcome.evals.push(point);
    post({ type: 'run_eval', runId, point });
    if (stopping.update(epoch, result.accuracy) === 'stop' && epoch < config.epochs) {
      outcome.stoppedEarly = true;
      break;
    }
    if (control.stopped) break;
    post({ type: 'run_phase', runId, phase: 'training', paused: false });
  }
  return outcome;
}

/** A lost device stops the run (its handler presses Stop), as a failure rather than a stop. */
function throwIfDeviceLost(context: RunContext): void {
  if (context.deviceLost() !== null) throw new DeviceLostError('The WebGPU device was lost.');
}

async function waitIfPaused({ runId, control, post }: RunContext): Promise<void> {
  if (!control.paused) return;
  post({ type: 'run_phase', runId, phase: 'training', paused: true });
  await control.waitWhilePaused();
  post({ type: 'run_phase', runId, phase: 'training', paused: false });
}

/** One training step under the engine observer: the run's measured memory by group. */
async function measuredStep(run: PreparedRun, batch: DataBatch, { runId, post }: RunContext): Promise<number> {
  post({ type: 'run_phase', runId, phase: 'measuring', paused: false });
  const { trainer } = run;
  const measured = await measureTrainingStep(trainer.model, trainer.optimizer, { x: batch.images, y: batch.labels }, trainer.trainable, { kernelTimes: false });
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
  return measured.loss;
}

function summarise(run: PreparedRun, baseline: EvalPoint, outcome: TrainingOutcome, context: RunContext): RunSummary {
  const last = outcome.evals.at(-1) ?? baseline;
  return {
    labVersion: context.labVersion,
    backend: tf.getBackend(),
    adapter: context.adapter,
    baselineAccuracy: baseline.accuracy,
    finalAccuracy: last.accuracy,
    finalLoss: last.loss,
    epochsRun: outcome.evals.length,
    steps: outcome.steps,
    stoppedEarly: outcome.stoppedEarly,
    trainSeconds: outcome.trainSeconds,
    trainLoss: downsample(outcome.losses, SUMMARY_CURVE_POINTS),
    evalAccuracy: outcome.evals.map((point) => point.accuracy),
    peakBytesByGroup: { ...run.profile.memory.analytic.peak.bytes },
    sumOfGroupMaximaBytes: run.profile.memory.analytic.sumOfGroupMaxima,
    flopsByPhase: { ...run.profile.flops.correct.byPhase },
  };
}

/** The device's loss, when it explains `error`: errors of the lab's own making are never a loss. */
async function deviceLossBehind(error: unknown, context: RunContext): Promise<string | null> {
  const lost = context.deviceLost();
  if (lost !== null || error instanceof NanLossError || error instanceof DataError || error instanceof DownloadError || error instanceof BufferLimitError) return lost;
  return (await context.awaitDeviceLoss?.()) ?? null;
}

function isOutOfMemory(message: string): boolean {
  return /out of memory|\boom\b|failed to allocate|allocation failed|array buffer allocation|exceeds .*max.*buffer|maxBufferSize|maxStorageBufferBindingSize/i.test(message);
}

function describeError(error: unknown): { kind: RunErrorKind; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NanLossError) return { kind: 'nan_loss', message };
  if (error instanceof DownloadError) return { kind: 'download', message };
  if (error instanceof DataError) return { kind: 'data', message };
  if (error instanceof BufferLimitError) return { kind: 'out_of_memory', message };
  if (error instanceof GpuError && (error.filter === 'out-of-memory' || isOutOfMemory(error.deviceMessage))) return { kind: 'out_of_memory', message };
  if (isOutOfMemory(message)) return { kind: 'out_of_memory', message: `Out of memory: ${message}` };
  // tfjs-backend-webgpu's own check of a kernel's workgroup count (maxComputeWorkgroupsPerDimension).
  if (/Dispatch size exceeds WebGPU/i.test(message)) return { kind: 'out_of_memory', message: `A kernel of this configuration is too large for one GPU dispatch (tfjs: “${message}”): lower the batch size or the resolution.` };
  return { kind: 'internal', message };
}

/** The run's error, said for the page: a lost device explains everything after it; out of memory
 * comes with the analytic breakdown that explains it. */
function failureMessage(error: unknown, lost: string | null, runId: number, profile: AnalyticProfile | undefined): RunResponse {
  const described = lost
    ? { kind: 'device_lost' as const, message: `The WebGPU device was lost (${lost}), so the run stopped; its curves so far are kept. Start it again to train on a new device (no reload needed).` }
    : describeError(error);
  return {
    type: 'run_error',
    runId,
    ...described,
    ...(described.kind === 'out_of_memory' && profile ? { memoryBreakdown: { ...profile.memory.analytic.peak.bytes } } : {}),
  };
}
