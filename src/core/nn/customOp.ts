// Ops that control exactly what the gradient tape keeps.
//
// tfjs records no kernel while a custom-gradient op computes its value (the tape is off inside a
// kernel), so a body run through customOp leaves on the tape one node whose inputs are exactly the
// tensors passed as `differentiable` and whose saved tensors are exactly what it hands to `save`.
// Tensors it reads without declaring them (a frozen weight, an input that needs no gradient) get
// no gradient, and nothing is kept for them unless saved.
//
// tfjs's backward pass keeps every saved tensor and every activation gradient until the whole
// pass ends (and a custom gradient's intermediates too: it runs outside any tidy). A custom op's
// saved tensors and output gradient are read by nothing once its own gradients exist, so customOp
// computes them in a tidy and then frees both: the backward pass releases activations and their
// gradients as it goes, as PyTorch's autograd does.
import * as tf from '@tensorflow/tfjs';

export interface CustomOpResult {
  value: tf.Tensor;
  /** One gradient per `differentiable` tensor, in order; `saved` is what `save` received. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

export function customOp(
  differentiable: readonly tf.Tensor[],
  body: (save: tf.GradSaveFunc) => CustomOpResult,
): tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const { value, gradFunc } = body(args[args.length - 1] as tf.GradSaveFunc);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const grads = tf.tidy(() => gradFunc(dy, saved));
        tf.dispose([dy, ...saved]);
        return grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...differentiable);
}

/** Runs `f` off the tape: nothing it computes is recorded or kept, and no gradient flows through
 * its result (the frozen region below the gradient frontier). `f` must return a new tensor. */
export function offTape(f: () => tf.Tensor): tf.Tensor {
  return customOp([], () => ({ value: f(), gradFunc: () => [] }));
}
