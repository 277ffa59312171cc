// A model ready to fine-tune with a method: the method's preparation of the loaded model (DoRA's
// magnitudes), its optimizer, the trainable set, and the step. The one place these are put
// together, for the lab's run loop, the measured profiler and the bench alike.
import { METHODS, type MethodOptimizer, type MethodOptions } from '../adapters';
import type { MethodId } from '../ids';
import type { Model } from '../nn/model';
import { Sgd } from '../optim/sgd';
import { trainableNames, trainStep, type Batch, type StepOptions } from './step';

export interface TrainerOptions {
  method: MethodId;
  methodOptions: MethodOptions;
  learningRate: number;
  /** The optimizer of every method but GaLore, which always runs its projected Adam (default adam). */
  optimizer?: 'adam' | 'sgd';
}

export interface Trainer {
  readonly model: Model;
  readonly optimizer: MethodOptimizer;
  readonly trainable: ReadonlySet<string>;
  /** One training step (trainStep) on `batch`, resolving to its mean loss. */
  step(batch: Batch, options?: StepOptions): Promise<number>;
  /** Frees the optimizer's state (the model stays the caller's). */
  dispose(): void;
}

/** Prepares `model` (built from the method's spec, base weights already loaded) for training. */
export function createTrainer(model: Model, { method, methodOptions, learningRate, optimizer = 'adam' }: TrainerOptions): Trainer {
  const definition = METHODS[method];
  definition.prepare?.(model);
  const methodOptimizer: MethodOptimizer =
    method === 'galore' || optimizer === 'adam'
      ? definition.createOptimizer(model, { lr: learningRate }, methodOptions)
      : new Sgd(model.variables, { lr: learningRate });
  const trainable = trainableNames(model);
  return {
    model,
    optimizer: methodOptimizer,
    trainable,
    step: (batch, options) => trainStep(model, methodOptimizer, batch, trainable, options),
    dispose: () => methodOptimizer.dispose(),
  };
}
