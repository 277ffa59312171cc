// Optimizer construction by id, for the trainer, the CLI and permalinks.
import type * as tf from '@tensorflow/tfjs';
import { Adam, type AdamOptions } from './adam';
import type { Optimizer } from './optimizer';
import { Sgd, type SgdOptions } from './sgd';

export { Adam, type AdamOptions } from './adam';
export { OPTIMIZER_IDS, SlotOptimizer, type Optimizer, type OptimizerId, type OptimizerStateEntry } from './optimizer';
export { Sgd, type SgdOptions } from './sgd';

export type OptimizerConfig =
  | ({ id: 'sgd' } & SgdOptions)
  | ({ id: 'adam' } & AdamOptions)
  | ({ id: 'adamw' } & AdamOptions);

export function createOptimizer(config: OptimizerConfig, params: ReadonlyMap<string, tf.Variable>): Optimizer {
  switch (config.id) {
    case 'sgd':
      return new Sgd(params, config);
    case 'adam':
      return new Adam(params, config);
    case 'adamw':
      return new Adam(params, config, true);
  }
}
