// torch.optim.Adam and AdamW (amsgrad off):
//   Adam:  g ← g + λ·p (L2 added to the gradient);  AdamW: p ← p·(1 − lr·λ) (decoupled)
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  t ← t + 1
//   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)      (ε outside the square root)
// The moments of all parameters live in one arena updated in place by one multi-tensor kernel
// (kernels/fused.ts adamMulti); the step count t is a plain number (PyTorch keeps a scalar tensor
// per parameter).
import * as tf from '@tensorflow/tfjs';
import { adamMulti } from '../kernels/fused';
import { SlotOptimizer, type OptimizerStateEntry } from './optimizer';

/** Both moments of every parameter in one buffer, [exp_avg of all | exp_avg_sq of all], each
 * parameter at its offset in either half. */
interface MomentArena {
  moments: tf.Variable;
  offsets: Map<string, number>;
  shapes: Map<string, number[]>;
}

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends SlotOptimizer {
  readonly id: 'adam' | 'adamw';
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken (PyTorch keeps one count per parameter; here every step updates them all). */
  private t = 0;
  private arena: MomentArena | null = null;

  /** `decoupledWeightDecay`: AdamW (weight decay default 0.01, as PyTorch) instead of Adam (0). */
  constructor(params: ReadonlyMap<string, tf.Variable>, options: AdamOptions, decoupledWeightDecay = false) {
    super(params);
    this.id = decoupledWeightDecay ? 'adamw' : 'adam';
    this.lr = options.lr;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? (decoupledWeightDecay ? 0.01 : 0);
    const [beta1, beta2] = this.betas;
    if (!(this.lr >= 0)) throw new Error(`${this.id}: lr must be ≥ 0, got ${this.lr}`);
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new Error(`${this.id}: betas must be in [0, 1), got ${this.betas}`);
    if (!(this.eps >= 0)) throw new Error(`${this.id}: eps must be ≥ 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new Error(`${this.id}: weight decay must be ≥ 0, got ${this.weightDecay}`);
  }

  step(grads: ReadonlyMap<string, tf.Tensor>): void {
    const [beta1, beta2] = this.betas;
    const adamW = this.id === 'adamw';
    const arena = this.arenaFor(grads);
    this.t++;
    // One multi-tensor update, in place (kernels/fused.ts): on WebGPU a dispatch per few
    // parameters instead of three kernels and a new buffer per parameter.
    adamMulti(
      arena.moments,
      [...grads].map(([name, grad]) => ({ param: this.param(name), grad, offset: arena.offsets.get(name) as number })),
      {
        beta1,
        beta2,
        l2: adamW ? 0 : this.weightDecay,
        stepSize: this.lr / (1 - beta1 ** this.t),
        biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** this.t),
        eps: this.eps,
        decay: adamW ? 1 - this.lr * this.weightDecay : 1,
      },
    );
  }

  /** The moment arena, created (zeros) on the first step as PyTorch creates its state; every later
   * step must update the same parameters (the lab's trainable set is fixed for a run). */
  private arenaFor(grads: ReadonlyMap<string, tf.Tensor>): MomentArena {
    if (this.arena) {
      const { offsets } = this.arena;
      if (grads.size !== offsets.size || [...grads.keys()].some((name) => !offsets.has(name))) {
        throw new Error(`${this.id}: a step must update the parameters of the first step (${[...offsets.keys()].join(', ')})`);
      }
      return this.arena;
    }
    const offsets = new Map<string, number>();
    const shapes = new Map<string, number[]>();
    let half = 0;
    for (const name of grads.keys()) {
      const param = this.param(name);
      offsets.set(name, half);
      shapes.set(name, [...param.shape]);
      half += param.size;
    }
    const zeros = tf.zeros([2 * half]);
    this.arena = { moments: tf.variable(zeros, false), offsets, shapes };
    zeros.dispose();
    return this.arena;
  }

  /** exp_avg and exp_avg_sq of each parameter (PyTorch's names), slices of the arena. */
  override stateEntries(): OptimizerStateEntry[] {
    if (!this.arena) return [];
    return [...this.arena.shapes].flatMap(([param, shape]) => {
      const bytes = shape.reduce((a, b) => a * b, 1) * 4;
      return ['exp_avg', 'exp_avg_sq'].map((slot) => ({ param, slot, shape, bytes }));
    });
  }

  override dispose(): void {
    super.dispose();
    this.arena?.moments.dispose();
    this.arena = null;
  }
}
