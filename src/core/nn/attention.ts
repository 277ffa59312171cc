// Multi-head self-attention after the qkv projection (AttentionNode: input [N, T, 3·D], columns
// [q | k | v], each head-major), with a hand-written backward that keeps exactly what the lab's ACT
// view counts (profile/memory.ts): the qkv input and the softmax probabilities P [N, heads, T, T].
// tfjs's auto-diff would also keep the scores, the transposed heads and the softmax's own copies.
// Per head, with S = q·kᵀ·scale, P = softmax(S), O = P·v:
//   dP = dO·vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq = dS·k·scale,  dk = dSᵀ·q·scale,  dv = Pᵀ·dO,
// assembled back into the qkv layout. The batched matmuls run on [N·heads, T, headDim].
import * as tf from '@tensorflow/tfjs';
import { batchMatMul, scaledSoftmax, scaledSoftmaxGrad } from '../kernels/fused';
import type { AttentionNode } from '../models/spec';
import { customOp } from './customOp';

/** [N, T, 3·D] → q, k, v, each [N·heads, T, headDim]. */
function splitHeads(qkv: tf.Tensor, node: AttentionNode): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  const [n, t] = qkv.shape;
  const { heads, headDim } = node;
  // [N, T, 3, H, hd] → [3, N, H, T, hd]
  const split = tf.transpose(tf.reshape(qkv, [n, t, 3, heads, headDim]), [2, 0, 3, 1, 4]);
  const [q, k, v] = tf.unstack(split, 0).map((part) => tf.reshape(part, [n * heads, t, headDim]) as tf.Tensor3D);
  return [q, k, v];
}

/** [N·heads, T, headDim] per head → [N, T, heads·headDim], the heads side by side. */
function mergeHeads(o: tf.Tensor, n: number, t: number, node: AttentionNode): tf.Tensor3D {
  const { heads, headDim } = node;
  return tf.reshape(tf.transpose(tf.reshape(o, [n, heads, t, headDim]), [0, 2, 1, 3]), [n, t, heads * headDim]);
}

export function attention(node: AttentionNode, qkv: tf.Tensor, inputWanted: boolean): tf.Tensor {
  const { heads, headDim, scale } = node;
  if (qkv.rank !== 3 || qkv.shape[2] !== 3 * heads * headDim) {
    throw new Error(`forward: attention ${node.id} needs qkv [N, T, ${3 * heads * headDim}], got [${qkv.shape.join(', ')}]`);
  }
  const [n, t] = qkv.shape;
  return customOp(inputWanted ? [qkv] : [], (save) => {
    const [q, k, v] = splitHeads(qkv, node);
    const probs = scaledSoftmax(batchMatMul(q, k, false, true), scale);
    if (inputWanted) save([qkv, probs]);
    return {
      value: mergeHeads(batchMatMul(probs, v), n, t, node),
      gradFunc: (dy, [savedQkv, p]) => {
        const [sq, sk, sv] = splitHeads(savedQkv, node);
        const dOut = tf.reshape(tf.transpose(tf.reshape(dy, [n, t, heads, headDim]), [0, 2, 1, 3]), [n * heads, t, headDim]);
        const dP = batchMatMul(dOut, sv, false, true);
        // dS with the score scale folded in: dq = dS·k, dk = dSᵀ·q.
        const dS = scaledSoftmaxGrad(p, dP, scale);
        const dq = batchMatMul(dS, sk);
        const dk = batchMatMul(dS, sq, true, false);
        const dv = batchMatMul(p, dOut, true, false);
        // [3, N, H, T, hd] → [N, T, 3, H, hd] → [N, T, 3·D]
        const stacked = tf.reshape(tf.stack([dq, dk, dv]), [3, n, heads, t, headDim]);
        return [tf.reshape(tf.transpose(stacked, [1, 3, 0, 2, 4]), [n, t, 3 * heads * headDim])];
      },
    };
  });
}
