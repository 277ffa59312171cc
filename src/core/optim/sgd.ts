// torch.optim.SGD: d = g + λ·p; with momentum μ the buffer is b = d on the first step, then
// b = μ·b + (1 − dampening)·d (dampening 0 here); the step uses d + μ·b (nesterov) or b.
import * as tf from '@tensorflow/tfjs';
import { SlotOptimizer } from './optimizer';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class Sgd extends SlotOptimizer {
  readonly id = 'sgd';
  lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(params: ReadonlyMap<string, tf.Variable>, options: SgdOptions) {
    super(params);
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.lr >= 0)) throw new Error(`sgd: lr must be ≥ 0, got ${this.lr}`);
    if (!(this.momentum >= 0)) throw new Error(`sgd: momentum must be ≥ 0, got ${this.momentum}`);
    if (!(this.weightDecay >= 0)) throw new Error(`sgd: weight decay must be ≥ 0, got ${this.weightDecay}`);
    if (this.nesterov && this.momentum <= 0) throw new Error('sgd: nesterov needs momentum > 0');
  }

  step(grads: ReadonlyMap<string, tf.Tensor>): void {
    // One tidy per parameter, so the update's temporaries never pile up across parameters.
    for (const [name, grad] of grads) {
      tf.tidy(() => {
        const param = this.param(name);
        let direction = this.weightDecay !== 0 ? tf.add(grad, tf.mul(param, this.weightDecay)) : grad;
        if (this.momentum !== 0) {
          let buffer = this.slot(name, 'momentum_buffer');
          if (!buffer) buffer = this.createSlot(name, 'momentum_buffer', direction);
          else buffer.assign(tf.add(tf.mul(buffer, this.momentum), direction));
          direction = this.nesterov ? tf.add(direction, tf.mul(buffer, this.momentum)) : buffer;
        }
        param.assign(tf.sub(param, tf.mul(direction, this.lr)));
      });
    }
  }
}
