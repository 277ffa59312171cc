// Parameter and multiply-accumulate counts read off a spec (no tensors).
import type { AttentionNode, ModelSpec, ParamRole } from './spec';

const BUFFER_ROLES: ReadonlySet<ParamRole> = new Set(['bn_running_mean', 'bn_running_var']);

export interface ParamCount {
  /** Elements of every parameter (torch's `model.parameters()`: BN running statistics excluded). */
  total: number;
  /** Elements of the parameters marked trainable. */
  trainable: number;
}

export function countParams(spec: ModelSpec): ParamCount {
  let total = 0;
  let trainable = 0;
  for (const p of Object.values(spec.params)) {
    if (BUFFER_ROLES.has(p.role)) continue;
    const size = p.shape.reduce((a, b) => a * b, 1);
    total += size;
    if (p.trainable) trainable += size;
  }
  return { total, trainable };
}

/** Forward multiply-accumulates of ONE image, by kind of layer (bias additions not counted). */
export interface MacCount {
  /** Convs with groups = channels: k² · C · H' · W'. */
  depthwise: number;
  /** 1×1 dense convs, squeeze-and-excitation's fc1/fc2 (on 1×1 maps) included. */
  pointwise: number;
  /** Every other conv (k > 1, dense): k² · Cin · Cout · H' · W'. */
  other_conv: number;
  /** Linear layers, over every token of a ViT (in · out per token). */
  linear: number;
  /** A ViT's attention, per block: q·kᵀ and P·v, heads · T² · headDim each. */
  attention: number;
  total: number;
}

export function countMacs(spec: ModelSpec): MacCount {
  const macs: MacCount = { depthwise: 0, pointwise: 0, other_conv: 0, linear: 0, attention: 0, total: 0 };
  for (const node of spec.nodes) {
    if (node.op === 'conv2d') {
      const [outH, outW] = node.outShape;
      const perPosition = node.kernel * node.kernel * (node.inChannels / node.groups) * node.outChannels;
      const count = perPosition * outH * outW;
      if (node.groups > 1) macs.depthwise += count;
      else if (node.kernel === 1) macs.pointwise += count;
      else macs.other_conv += count;
    } else if (node.op === 'linear') {
      // outShape is [out] or [T, out]: in · out per token.
      macs.linear += (node.outShape.reduce((a, b) => a * b, 1) / node.outFeatures) * node.inFeatures * node.outFeatures;
    } else if (node.op === 'attention') {
      macs.attention += attentionMacs(node);
    }
  }
  macs.total = macs.depthwise + macs.pointwise + macs.other_conv + macs.linear + macs.attention;
  return macs;
}

/** One image's multiply-accumulates of attention's two batched matmuls (q·kᵀ, then P·v), each
 * heads · T · T · headDim; the softmax and the scaling are no MACs. */
export function attentionMacs(node: AttentionNode): number {
  const tokens = node.outShape[0];
  return 2 * node.heads * tokens * tokens * node.headDim;
}
