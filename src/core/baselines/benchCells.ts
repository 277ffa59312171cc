// What `npm run bench` runs inside the page (through e2e/harness.ts): one cell at a time, each on
// its own seeded synthetic batch, everything it allocates disposed before it returns.
import * as tf from '@tensorflow/tfjs';

import { initializeDoraMagnitudes, methodOptions, METHODS, type MethodOptimizer, type MethodOptions } from '../adapters';
import type { MethodId } from '../ids';
import { buildModelSpec } from '../models/registry';
import type { ModelOptions, ModelSpec } from '../models/spec';
import { createModel, disposeModel, type Model } from '../nn/model';
import { measureTrainingStep, summariseMeasured, type MeasuredSummary } from '../profile/measured';
import { optimizerCostOfMethod, profileSpec, summariseProfile, type ProfileSummary } from '../profile/profile';
import { createRng } from '../rng';
import { computeGradients, type Batch } from '../train/step';
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
  model: Model;
  optimizer: MethodOptimizer;
  step: TrainingStep;
  batch: Batch;
  trainable: ReadonlySet<string>;
  /** Bytes of the gradients of the last step. */
  gradBytes: () => number;
  /** Frees the model, optimizer and batch (idempotent). */
  dispose: () => void;
}

function createCoreStep({ model: modelOptions, method, rank, batch: batchSize, protocol }: CoreCellRequest): CoreStep {
  const options = benchMethodOptions(rank);
  const spec = METHODS[method].apply(buildModelSpec(modelOptions), options);
  const trainable = new Set(Object.values(spec.params).filter((param) => param.trainable).map((param) => param.name));
  const model = createModel(spec, { seed: protocol.seed });
  const batch = syntheticBatch(batchSize, modelOptions.resolution, modelOptions.numClasses, protocol.seed);
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    optimizer?.dispose();
    disposeModel(model);
    batch.x.dispose();
    batch.y.dispose();
  };
  let optimizer: MethodOptimizer | undefined;
  try {
    if (method === 'dora') initializeDoraMagnitudes(model);
    optimizer = METHODS[method].createOptimizer(model, { lr: protocol.learningRate }, options);
  } catch (error) {
    dispose();
    throw error;
  }
  const methodOptimizer = optimizer;
  let gradBytes = 0;
  const step = async () => {
    const result = await methodStep(model, methodOptimizer, batch, trainable);
    gradBytes = result.gradBytes;
    return result.loss;
  };
  return { spec, model, optimizer: methodOptimizer, step, batch, trainable, gradBytes: () => gradBytes, dispose };
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
    const tracker = summariseMeasured(
      await measureTrainingStep(core.model, core.optimizer, core.batch, core.trainable, { kernelTimes: false }),
    );
    onStep?.();
    const paramBytes = [...core.model.variables.values()].reduce((sum, variable) => sum + variable.size * 4, 0);
    return {
      analytic,
      measured: {
        staticBytes: { param: paramBytes, grad: core.gradBytes(), opt: core.optimizer.stateBytes() },
        profile,
        memoryAfterSteps,
        tracker,
      },
      timing,
    };
  } finally {
    core.dispose();
  }
}

/** One training step as the trainer runs it for any method (GaLore's async projector refresh
 * included); also reports the bytes of the gradients it computed. */
async function methodStep(
  model: Model,
  optimizer: MethodOptimizer,
  batch: Batch,
  trainable: ReadonlySet<string>,
): Promise<{ loss: number; gradBytes: number }> {
  const dropoutSeed = Math.floor(model.dropoutRng.next() * 4294967296);
  const { loss, grads } = computeGradients(model, batch, trainable, dropoutSeed);
  try {
    await optimizer.prepareStep?.(grads);
    tf.tidy(() => optimizer.step(grads));
    const gradBytes = [...grads.values()].reduce((sum, grad) => sum + grad.size * 4, 0);
    return { loss: (await loss.data())[0], gradBytes };
  } finally {
    tf.dispose([loss, ...grads.values()]);
  }
}
