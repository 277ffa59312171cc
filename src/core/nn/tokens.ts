// The ViT's shape ops (timm's PatchEmbed flatten, _pos_embed, token pooling), as custom ops that
// keep nothing for the backward pass (it needs shapes only; tfjs's own Reshape/Concat/Slice keep
// their inputs):
//   to_tokens    [N, H, W, C] → [N, H·W, C], row-major (a reshape);
//   token_embed  [N, T, D] → [N, T + 1, D]: the class token prepended, the position embedding added;
//                d(class token) = Σ_N dy[:, 0], d(pos_embed) = Σ_N dy, dx = dy[:, 1:];
//   class_token  [N, T, D] → [N, D], token 0; dx is dy in token 0 and zeros elsewhere.
import * as tf from '@tensorflow/tfjs';
import { channelSum } from '../kernels/fused';
import { customOp } from './customOp';

export function toTokens(x: tf.Tensor): tf.Tensor {
  const [n, h, w, c] = x.shape;
  return customOp([x], () => ({
    value: tf.reshape(x, [n, h * w, c]),
    gradFunc: (dy) => [tf.reshape(dy, x.shape)],
  }));
}

/** Which of a token embedding's gradients are wanted (see gradientPlan.ts). */
export interface TokenEmbedGradients {
  input: boolean;
  classToken: boolean;
  positionEmbedding: boolean;
}

/** classToken [1, D], positionEmbedding [T + 1, D] (the lab's layouts of timm's [1, 1, D] and [1, T + 1, D]). */
export function tokenEmbed(x: tf.Tensor, classToken: tf.Tensor, positionEmbedding: tf.Tensor, wanted: TokenEmbedGradients): tf.Tensor {
  const [n, t, d] = x.shape;
  if (classToken.size !== d || positionEmbedding.shape.join() !== [t + 1, d].join()) {
    throw new Error(`forward: token embedding of [${x.shape.join(', ')}] needs a class token of ${d} and a position embedding [${t + 1}, ${d}], got [${classToken.shape.join(', ')}] and [${positionEmbedding.shape.join(', ')}]`);
  }
  const differentiable = [
    ...(wanted.input ? [x] : []),
    ...(wanted.classToken ? [classToken] : []),
    ...(wanted.positionEmbedding ? [positionEmbedding] : []),
  ];
  return customOp(differentiable, () => ({
    value: tf.add(tf.concat([tf.broadcastTo(tf.reshape(classToken, [1, 1, d]), [n, 1, d]), x], 1), positionEmbedding),
    gradFunc: (dy) => [
      ...(wanted.input ? [tf.slice(dy, [0, 1, 0], [n, t, d])] : []),
      // Σ over the batch, as per-channel sums of [N, ·] rows (one reduction each on WebGPU).
      ...(wanted.classToken ? [tf.reshape(channelSum(tf.reshape(tf.slice(dy, [0, 0, 0], [n, 1, d]), [n, d])), classToken.shape)] : []),
      ...(wanted.positionEmbedding ? [tf.reshape(channelSum(tf.reshape(dy, [n, -1])), positionEmbedding.shape)] : []),
    ],
  }));
}

export function classTokenOf(x: tf.Tensor): tf.Tensor {
  const [n, t, d] = x.shape;
  return customOp([x], () => ({
    value: tf.reshape(tf.slice(x, [0, 0, 0], [n, 1, d]), [n, d]),
    gradFunc: (dy) => [tf.pad(tf.reshape(dy, [n, 1, d]), [[0, 0], [0, t - 1], [0, 0]])],
  }));
}
