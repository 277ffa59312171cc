// The interpreter's side of the adapter nodes that src/core/adapters adds to a spec.
import * as tf from '@tensorflow/tfjs';
import type { DoraCombineNode, LoraAddNode } from '../models/spec';

/** LoRA: base + scaling · B(A(x)). */
export function loraAdd(node: LoraAddNode, base: tf.Tensor, delta: tf.Tensor): tf.Tensor {
  return tf.add(base, tf.mul(delta, node.scaling));
}

/** Identity forward, zero gradient (torch's `.detach()`). */
const detach = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/** DoRA (PEFT): (m / ‖W + s·BA‖) ⊙ (base + s·delta) + bias, the norm per output channel over all
 * other axes of the composite weight and detached from the gradient, as PEFT does. Weights are in
 * the lab layout: W [kh, kw, cin, cout] or [in, out]; A [kh, kw, cin, r] or [in, r]; B [1, 1, r, cout]
 * or [r, out]. */
export function doraCombine(
  node: DoraCombineNode,
  base: tf.Tensor,
  delta: tf.Tensor,
  param: (name: string) => tf.Tensor,
): tf.Tensor {
  const weight = param(node.baseWeight);
  const loraA = param(node.loraA);
  const loraB = param(node.loraB);
  const magnitude = param(node.magnitude);
  const outChannels = magnitude.size;
  const rank = loraA.shape[loraA.rank - 1];
  if (weight.shape[weight.rank - 1] !== outChannels || loraB.size !== rank * outChannels) {
    throw new Error(
      `forward: DoRA node ${node.id} needs W [..., ${outChannels}] and B of ${rank}×${outChannels} values ` +
        `(got W [${weight.shape.join(', ')}], B [${loraB.shape.join(', ')}]; depthwise bases are not supported)`,
    );
  }
  const composite = tf.add(
    tf.reshape(weight, [-1, outChannels]),
    tf.mul(tf.matMul(tf.reshape(loraA, [-1, rank]), tf.reshape(loraB, [rank, outChannels])), node.scaling),
  );
  const norm = detach(tf.sqrt(tf.sum(tf.square(composite), 0)));
  const y = tf.mul(tf.add(base, tf.mul(delta, node.scaling)), tf.div(magnitude, norm));
  return node.bias ? tf.add(y, param(node.bias)) : y;
}
