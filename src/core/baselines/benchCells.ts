// What `npm run bench` runs inside the page (through e2e/harness.ts): one cell at a time, each on
// its own seeded synthetic batch, everything it allocates disposed before it returns.
import * as tf from '@tensorflow/tfjs';

import { applyMethod, methodOptions } from '../adapters/definitions';
import type { MethodOptions } from '../adapters/method';
import type { FrozenWeightFormat, MethodId } from '../ids';
import { quantizeFrozenBase } from '../quant/quantizeBase';
import { buildModelSpec } from '../models/registry';
import type { ModelOptions, ModelSpec } from '../models/spec';
import { createModel, disposeModel, parameterTensors } from '../nn/model';
import { summariseDispatches, type DispatchSummary } from '../profile/dispatches';
import { measureTrainingStep, summariseMeasured, type MeasuredSummary } from '../profile/measured';
import { optimizerCostOfMethod, profileSpec, summariseProfile, type ProfileSummary } from '../profile/profile';
import { createRng } from '../rng';
import type { Batch } from '../train/step';
import { createTrainer, type Trainer } from '../train/trainer';
import { engineMemory, profileStep, timeSteps, timeStepsAlternately, type EngineMemory, type ProfiledStep, type StepTiming, type TrainingStep } from './stepTiming';
import { buildTfLayersMobileNetV2, countTfLayersParams, createTfLayersTrainer, type TfLayersParamCount } from './tfLayersMobilenetV2';

export { measureMatmulRate, type MatmulRate, type MatmulRateOptions } from './matmulRate';

/** How a cell's step is measured: warm-up steps, timed steps, seeds, Adam's learning rate. */
export interface StepProtocol {
  warmup: number;
  steps: number;
  seed: number;
  learningRate: number;
}

/** Called after every step (warm-up, timed and profiled), for the runner's progress bar. */
export type StepCallback = () => void;

export interface SyntheticBatch {
  /** NHWC images, standard normal. */
  x: tf.Tensor4D;
  /** Class indices, int32. */
  y: tf.Tensor1D;
}

/** A seeded batch of Gaussian images and uniform labels (speed and memory do not depend on content). */
export function syntheticBatch(batch: number, resolution: number, numClasses: number, seed: number): SyntheticBatch {
  const rng = createRng(seed);
  const labels = Int32Array.from({ length: batch }, () => rng.int(numClasses));
  return {
    x: tf.randomNormal([batch, resolution, resolution, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.tensor1d(labels, 'int32'),
  };
}

export interface TfLayersBaselineResult {
  params: TfLayersParamCount;
  timing: StepTiming;
  /** The lab core's steps (the `core` request), timed alternately with tf.layers' in the same
   * loop, so a change in the machine's load hits both sides alike; null without a core request. */
  coreTiming: StepTiming | null;
  /** One extra step under tf.profile, after the timed ones (the core's model already freed). */
  profile: ProfiledStep;
  /** Engine memory with the model, Adam's moments (after the first step) and the batch alive. */
  memoryAfterSteps: EngineMemory;
}

/** Trains the tf.layers MobileNetV2 at `options` with Adam (the naive tfjs way) and measures it;
 * with `core`, times the lab core's step for that request alternately with it (ABBA order). */
export async function runTfLayersBaselineCell(
  options: Omit<ModelOptions, 'model'>,
  batchSize: number,
  protocol: StepProtocol,
  onStep?: StepCallback,
  core?: CoreCellRequest,
): Promise<TfLayersBaselineResult> {
  const trainer = createTfLayersTrainer(buildTfLayersMobileNetV2(options, protocol.seed), protocol.learningRate);
  const batch = syntheticBatch(batchSize, options.resolution, options.numClasses, protocol.seed);
  const oneHot = tf.oneHot(batch.y, options.numClasses) as tf.Tensor2D;
  const coreStep = core ? createCoreStep(core) : null;
  try {
    const step = async () => {
      const loss = trainer.step(batch.x, oneHot);
      try {
        return (await loss.data())[0];
      } finally {
        loss.dispose();
      }
    };
    let timing: StepTiming;
    let coreTiming: StepTiming | null = null;
    if (coreStep) [timing, coreTiming] = await timeStepsAlternately(step, coreStep.step, protocol, onStep);
    else timing = await timeSteps(step, protocol, onStep);
    coreStep?.dispose();
    const memoryAfterSteps = engineMemory();
    const profile = await profileStep(step);
    onStep?.();
    return { params: countTfLayersParams(trainer.model), timing, coreTiming, profile, memoryAfterSteps };
  } finally {
    coreStep?.dispose();
    oneHot.dispose();
    batch.x.dispose();
    batch.y.dispose();
    trainer.dispose();
  }
}

export interface CoreCellRequest {
  model: ModelOptions;
  method: MethodId;
  /** LoRA/DoRA rank and GaLore's projection rank; null for fft and bn_head (the defaults apply). */
  rank: number | null;
  batch: number;
  protocol: StepProtocol;
  /** How the frozen base is stored (absent: fp32). */
  frozenWeights?: FrozenWeightFormat;
}

/** PARAM, GRAD and OPT bytes read off the live tensors of a step (not from the spec). */
export interface StaticBytes {
  /** Every model variable: weights, adapters, BN running statistics. */
  param: number;
  /** The gradient tensors the step computed. */
  grad: number;
  /** The optimizer's state tensors after the step (Adam moments, GaLore projectors). */
  opt: number;
}

export interface CoreCellResult {
  /** The analytic profiler's numbers for the same spec, batch and optimizer. */
  analytic: ProfileSummary;
  measured: {
    staticBytes: StaticBytes;
    profile: ProfiledStep;
    memoryAfterSteps: EngineMemory;
    /** The measured tracker's bytes by group (live tensors attributed to PARAM, GRAD, ACT, OPT,
     * TEMP after every kernel of one more step), simultaneous peak and sum of group maxima. */
    tracker: MeasuredSummary;
    /** That step's compute dispatches by phase and layer kind. */
    dispatches: DispatchSummary;
  };
  timing: StepTiming;
}

/** The method options of a bench cell: the study's defaults, with the cell's rank where it has one. */
export function benchMethodOptions(rank: number | null): MethodOptions {
  if (rank === null) return methodOptions();
  return methodOptions({ rank, galore: { ...methodOptions().galore, rank } });
}

/** A ready-to-run training step of the lab core for a cell's model, method and batch. */
interface CoreStep {
  spec: ModelSpec;
  trainer: Trainer;
  step: TrainingStep;
  batch: Batch;
  /** Bytes of the gradients of the last step. */
  gradBytes: () => number;
  /** Frees the model, optimizer and batch (idempotent). */
  dispose: () => void;
}

function createCoreStep({ model: modelOptions, method, rank, batch: batchSize, protocol, frozenWeights = 'fp32' }: CoreCellRequest): CoreStep {
  const options = benchMethodOptions(rank);
  const spec = quantizeFrozenBase(applyMethod(buildModelSpec(modelOptions), method, options), method, frozenWeights);
  const model = createModel(spec, { seed: protocol.seed });
  const batch = syntheticBatch(batchSize, modelOptions.resolution, modelOptions.numClasses, protocol.seed);
  let trainer: Trainer | undefined;
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    trainer?.dispose();
    disposeModel(model);
    batch.x.dispose();
    batch.y.dispose();
  };
  try {
    trainer = createTrainer(model, { method, methodOptions: options, learningRate: protocol.learningRate });
  } catch (error) {
    dispose();
    throw error;
  }
  const ready = trainer;
  let gradBytes = 0;
  // The trainer's step; the observer reads the gradients' size for the bench's GRAD row.
  const observer = { gradients: (_loss: tf.Scalar, grads: ReadonlyMap<string, tf.Tensor>) => (gradBytes = [...grads.values()].reduce((sum, grad) => sum + grad.size * 4, 0)) };
  const step = () => ready.step(batch, { observer });
  return { spec, trainer: ready, step, batch, gradBytes: () => gradBytes, dispose };
}

/** Profiles (analytically) and trains the lab's model for one cell, measuring time and memory. */
export async function runCoreCell(request: CoreCellRequest, onStep?: StepCallback): Promise<CoreCellResult> {
  const { method, rank, batch: batchSize } = request;
  const options = benchMethodOptions(rank);
  const core = createCoreStep(request);
  try {
    const analytic = summariseProfile(profileSpec(core.spec, { batch: batchSize, optimizer: optimizerCostOfMethod(method, options) }));
    const timing = await timeSteps(core.step, request.protocol, onStep);
    const memoryAfterSteps = engineMemory();
    const profile = await profileStep(core.step);
    onStep?.();
    const measuredStep = await measureTrainingStep(core.trainer.model, core.trainer.optimizer, core.batch, core.trainer.trainable, { kernelTimes: false });
    const tracker = summariseMeasured(measuredStep);
    onStep?.();
    const paramBytes = parameterTensors(core.trainer.model).reduce((sum, tensor) => sum + tensor.size * 4, 0);
    return {
      analytic,
      measured: {
        staticBytes: { param: paramBytes, grad: core.gradBytes(), opt: core.trainer.optimizer.stateBytes() },
        profile,
        memoryAfterSteps,
        tracker,
        dispatches: summariseDispatches(measuredStep.kernels, core.spec),
      },
      timing,
    };
  } finally {
    core.dispose();
  }
}
