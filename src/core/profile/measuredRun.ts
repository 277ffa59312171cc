// A measured step of a method on a fresh model, end to end: the CLI's `profile --measure`, the unit
// tests and the browser harness use it. The model is seeded, the batch a seeded N(0, 1) one; a
// first, unmeasured step creates the optimizer's state (Adam's moments, GaLore's projectors), so
// the measured step shows the steady state the analytic profile describes.
import * as tf from '@tensorflow/tfjs';

import type { MethodOptions } from '../adapters/method';
import type { MethodId } from '../ids';
import type { ModelSpec } from '../models/spec';
import { createModel, disposeModel } from '../nn/model';
import type { Batch } from '../train/step';
import { createTrainer, type Trainer } from '../train/trainer';
import { measureTrainingStep, type MeasuredStep } from './measured';

export interface MeasureMethodOptions {
  /** Images per step. */
  batch: number;
  /** Seed of the model's initialisation and of the batch. */
  seed?: number;
  /** Unmeasured steps before the measured one (default 1). */
  warmupSteps?: number;
  /** Per-kernel times (default true). */
  kernelTimes?: boolean;
}

/** Measures a training step of `spec` (already rewritten by `method`) with the method's optimizer. */
export async function measureMethodStep(
  spec: ModelSpec,
  method: MethodId,
  methodOptions: MethodOptions,
  { batch: batchSize, seed = 0, warmupSteps = 1, kernelTimes = true }: MeasureMethodOptions,
): Promise<MeasuredStep> {
  const model = createModel(spec, { seed });
  let trainer: Trainer | undefined;
  const [height, width, channels] = spec.nodes[0].outShape;
  const classes = spec.nodes.find((n) => n.id === spec.output)?.outShape.at(-1) ?? 1;
  const batch: Batch = {
    x: tf.randomNormal([batchSize, height, width, channels], 0, 1, 'float32', seed),
    y: tf.tensor1d(Array.from({ length: batchSize }, (_, i) => i % classes), 'int32'),
  };
  try {
    trainer = createTrainer(model, { method, methodOptions, learningRate: 1e-3 });
    for (let i = 0; i < warmupSteps; i++) await trainer.step(batch);
    return await measureTrainingStep(model, trainer.optimizer, batch, trainer.trainable, { kernelTimes });
  } finally {
    trainer?.dispose();
    disposeModel(model);
    tf.dispose([batch.x, batch.y]);
  }
}
