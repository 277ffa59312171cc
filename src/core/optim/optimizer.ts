// The optimizer interface the trainer drives and the profiler reads (OPT group). SGD and Adam
// implement it here; GaLore (projected Adam) will implement it too, adding its projection matrices
// as state slots.
import * as tf from '@tensorflow/tfjs';

export const OPTIMIZER_IDS = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerId = (typeof OPTIMIZER_IDS)[number];

/** One state tensor, e.g. { param: 'fc.weight', slot: 'exp_avg' } (PyTorch's slot names). */
export interface OptimizerStateEntry {
  param: string;
  slot: string;
  shape: number[];
  bytes: number;
}

export interface Optimizer {
  readonly id: string;
  /** Learning rate of the next step (schedulers may change it between steps). */
  lr: number;
  /** Updates each parameter named in `grads` (keyed by parameter name). State is created on a
   * parameter's first update, as in PyTorch. Does not dispose the gradients. */
  step(grads: ReadonlyMap<string, tf.Tensor>): void;
  /** Work that must happen before `step(grads)` with the same gradients but cannot be synchronous:
   * GaLore recomputes its projectors there (an SVD that reads a small matrix back). */
  prepareStep?(grads: ReadonlyMap<string, tf.Tensor>): Promise<void>;
  /** Every state tensor alive now, for the profiler's OPT group. */
  stateEntries(): OptimizerStateEntry[];
  stateBytes(): number;
  dispose(): void;
}

/** Shared bookkeeping: parameters by name and lazily created state slots held in tf.Variables. */
export abstract class SlotOptimizer implements Optimizer {
  abstract readonly id: string;
  abstract lr: number;
  private readonly slots = new Map<string, Map<string, tf.Variable>>();

  constructor(protected readonly params: ReadonlyMap<string, tf.Variable>) {}

  abstract step(grads: ReadonlyMap<string, tf.Tensor>): void;

  protected param(name: string): tf.Variable {
    const variable = this.params.get(name);
    if (!variable) throw new Error(`${this.id}: gradient for unknown parameter ${name}`);
    return variable;
  }

  protected slot(param: string, slot: string): tf.Variable | undefined {
    return this.slots.get(param)?.get(slot);
  }

  /** Creates a state slot holding a copy of `initial` (a new variable; `initial` is not consumed). */
  protected createSlot(param: string, slot: string, initial: tf.Tensor): tf.Variable {
    let bySlot = this.slots.get(param);
    if (!bySlot) this.slots.set(param, (bySlot = new Map()));
    if (bySlot.has(slot)) throw new Error(`${this.id}: slot ${slot} of ${param} exists`);
    const variable = tf.variable(initial, false);
    bySlot.set(slot, variable);
    return variable;
  }

  stateEntries(): OptimizerStateEntry[] {
    const entries: OptimizerStateEntry[] = [];
    for (const [param, bySlot] of this.slots) {
      for (const [slot, variable] of bySlot) {
        entries.push({ param, slot, shape: [...variable.shape], bytes: variable.size * 4 });
      }
    }
    return entries;
  }

  stateBytes(): number {
    return this.stateEntries().reduce((sum, entry) => sum + entry.bytes, 0);
  }

  dispose(): void {
    for (const bySlot of this.slots.values()) for (const variable of bySlot.values()) variable.dispose();
    this.slots.clear();
  }
}
