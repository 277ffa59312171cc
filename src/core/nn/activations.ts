// Activations with torch's gradients, written as custom ops (customOp.ts) so each keeps only what its
// backward needs: relu, relu6 and hardsigmoid keep their OUTPUT (which the next layer keeps anyway,
// so it costs no extra memory), hardswish keeps its input. torch's gradients at the kinks:
//   relu        1 for x > 0, else 0
//   relu6       1 for 0 < x < 6, else 0 (tfjs's own Relu6 gradient is 1 at x = 6)
//   hardsigmoid 1/6 for −3 < x < 3, else 0
//   hardswish   0 for x < −3, 1 for x > 3, (2x + 3)/6 for −3 ≤ x ≤ 3
import * as tf from '@tensorflow/tfjs';
import type { ActivationFn } from '../models/spec';
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

const relu = unaryWithGrad((x, save) => {
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy, [saved]) => tf.mul(dy, tf.cast(tf.greater(saved, 0), 'float32')) };
});

const relu6 = unaryWithGrad((x, save) => {
  const y = tf.relu6(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy, [saved]) => tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(saved, 0), tf.less(saved, 6)), 'float32')),
  };
});

const hardsigmoid = unaryWithGrad((x, save) => {
  const y = tf.div(tf.relu6(tf.add(x, 3)), 6);
  save([y]);
  return {
    value: y,
    gradFunc: (dy, [saved]) =>
      tf.mul(dy, tf.div(tf.cast(tf.logicalAnd(tf.greater(saved, 0), tf.less(saved, 1)), 'float32'), 6)),
  };
});

const hardswish = unaryWithGrad((x, save) => {
  save([x]);
  return {
    value: tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)),
    gradFunc: (dy, [input]) => {
      const inRamp = tf.cast(tf.logicalAnd(tf.greaterEqual(input, -3), tf.lessEqual(input, 3)), 'float32');
      const above = tf.cast(tf.greater(input, 3), 'float32');
      const slope = tf.add(tf.mul(inRamp, tf.add(tf.div(input, 3), 0.5)), above);
      return tf.mul(dy, slope);
    },
  };
});

export const ACTIVATIONS: Record<ActivationFn, (x: tf.Tensor) => tf.Tensor> = { relu, relu6, hardsigmoid, hardswish };
