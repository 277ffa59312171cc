// Activations with torch's gradients, written as custom ops (customOp.ts) so each keeps only what its
// backward needs: relu, relu6 and hardsigmoid keep their OUTPUT (which the next layer keeps anyway,
// so it costs no extra memory), hardswish and gelu keep their input. The gradients (kernels/fused.ts, one
// kernel on WebGPU) take torch's values at the kinks:
//   relu        1 for x > 0, else 0
//   relu6       1 for 0 < x < 6, else 0 (tfjs's own Relu6 gradient is 1 at x = 6)
//   hardsigmoid 1/6 for −3 < x < 3, else 0
//   hardswish   0 for x < −3, 1 for x > 3, (2x + 3)/6 for −3 ≤ x ≤ 3
//   gelu        torch's exact form x·Φ(x) = x·(1 + erf(x/√2))/2, gradient Φ(x) + x·φ(x)
import * as tf from '@tensorflow/tfjs';
import type { FusedActivation } from '../models/fusion';
import type { ActivationFn } from '../models/spec';
import { activationForward, activationGrad } from '../kernels/fused';
import { customOp } from './customOp';

type UnaryGradFn = (x: tf.Tensor, save: tf.GradSaveFunc) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor;
};

function unaryWithGrad(f: UnaryGradFn): (x: tf.Tensor) => tf.Tensor {
  return (x) =>
    customOp([x], (save) => {
      const { value, gradFunc } = f(x, save);
      return { value, gradFunc: (dy, saved) => [gradFunc(dy, saved)] };
    });
}

/** An activation that keeps its output (`keeps: 'output'`) or its input for the backward. */
function activation(fn: ActivationFn, compute: (x: tf.Tensor) => tf.Tensor, keeps: 'output' | 'input'): (x: tf.Tensor) => tf.Tensor {
  return unaryWithGrad((x, save) => {
    const y = compute(x);
    save([keeps === 'output' ? y : x]);
    return { value: y, gradFunc: (dy, [saved]) => activationGrad(fn, dy, saved) };
  });
}

const relu = activation('relu', (x) => tf.relu(x), 'output');
const relu6 = activation('relu6', (x) => tf.relu6(x), 'output');
const hardsigmoid = activation('hardsigmoid', (x) => activationForward('hardsigmoid', x), 'output');
const hardswish = activation('hardswish', (x) => activationForward('hardswish', x), 'input');

const gelu = activation('gelu', (x) => activationForward('gelu', x), 'input');

export const ACTIVATIONS: Record<ActivationFn, (x: tf.Tensor) => tf.Tensor> = { relu, relu6, hardsigmoid, hardswish, gelu };

/** relu and relu6 whose batch norm already applied them (models/fusion.ts): the forward passes its
 * input on (the same buffer), the backward is the activation's own, from the kept output. */
export const APPLIED_ACTIVATIONS: Record<FusedActivation, (x: tf.Tensor) => tf.Tensor> = {
  relu: activation('relu', (x) => tf.clone(x), 'output'),
  relu6: activation('relu6', (x) => tf.clone(x), 'output'),
};

/** A relu or relu6 whose batch norm applied it and applies its mask in its backward too
 * (models/fusion.ts, recomputedActivations): the same buffer forward, the same gradient backward;
 * it keeps nothing. */
export function passedThrough(x: tf.Tensor): tf.Tensor {
  // New tensor objects sharing the buffers: the caller and the tape each dispose their own.
  return customOp([x], () => ({ value: tf.clone(x), gradFunc: (dy) => [tf.clone(dy)] }));
}
