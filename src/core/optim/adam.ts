// torch.optim.Adam and AdamW (amsgrad off):
//   Adam:  g ← g + λ·p (L2 added to the gradient);  AdamW: p ← p·(1 − lr·λ) (decoupled)
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  t ← t + 1
//   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)      (ε outside the square root)
// The step count t is kept per parameter as a plain number (PyTorch keeps a scalar tensor).
import * as tf from '@tensorflow/tfjs';
import { adamMoment, adamParam } from '../kernels/fused';
import { SlotOptimizer } from './optimizer';

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
  private readonly steps = new Map<string, number>();

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
    // Three fused kernels per parameter where the backend has them (kernels/fused.ts): the
    // optimizer phase then holds one new buffer per updated tensor instead of ~10 temporaries.
    for (const [name, grad] of grads) {
      tf.tidy(() => {
        const param = this.param(name);
        const expAvg = this.slot(name, 'exp_avg') ?? this.createSlot(name, 'exp_avg', tf.zerosLike(param));
        const expAvgSq = this.slot(name, 'exp_avg_sq') ?? this.createSlot(name, 'exp_avg_sq', tf.zerosLike(param));
        const t = (this.steps.get(name) ?? 0) + 1;
        this.steps.set(name, t);
        const l2 = adamW ? 0 : this.weightDecay;
        expAvg.assign(adamMoment(expAvg, grad, param, beta1, l2, false));
        expAvgSq.assign(adamMoment(expAvgSq, grad, param, beta2, l2, true));
        param.assign(
          adamParam(param, expAvg, expAvgSq, {
            stepSize: this.lr / (1 - beta1 ** t),
            biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** t),
            eps: this.eps,
            decay: adamW ? 1 - this.lr * this.weightDecay : 1,
          }),
        );
      });
    }
  }

  override dispose(): void {
    super.dispose();
    this.steps.clear();
  }
}
