// ModelSpec: a network (the CNNs, and a vision transformer) as pure data. Built by src/core/models, rewritten by src/core/adapters, read by
// both the analytic profiler (src/core/profile) and the tfjs interpreter (src/core/nn), so what is
// charted is what runs. No tensors here.
//
// Conventions:
// - Activations are NHWC; shapes below are per example ([H, W, C], [features], or a ViT's tokens
//   [T, D]), batch excluded.
// - Parameter names are torchvision `state_dict` keys ("features.0.0.weight"); adapter params use
//   Hugging Face PEFT's names ("features.0.0.lora_A.weight"), so import/export is a layout change only.
// - Parameter shapes are in the lab's (tfjs) layout: conv HWIO [kh, kw, cin/groups, cout], depthwise
//   [kh, kw, c, 1], linear [in, out]. torchvision layouts (OIHW, [out, in]) are derived in weights/.
import type { FrozenWeightFormat, ModelId, StemId } from '../ids';

export interface ModelOptions {
  model: ModelId;
  /** Channel width multiplier (torchvision's `width_mult`; ResNet scales its base widths likewise). */
  width: number;
  /** Square input side in pixels. */
  resolution: number;
  numClasses: number;
  stem: StemId;
  /** Transformer blocks (vit_tiny only; default the reference's 12). The CNNs take none. */
  depth?: number;
}

export type ParamRole =
  | 'conv_weight'
  | 'conv_bias'
  | 'linear_weight'
  | 'linear_bias'
  | 'bn_gamma'
  | 'bn_beta'
  | 'bn_running_mean'
  | 'bn_running_var'
  | 'ln_gamma'
  | 'ln_beta'
  /** ViT's class token ([1, D]) and learned position embedding ([T + 1, D]). */
  | 'class_token'
  | 'position_embedding'
  | 'adapter_a'
  | 'adapter_b'
  | 'adapter_magnitude';

/** How a parameter is initialised (torchvision's / PEFT's schemes), seeded by the interpreter. */
export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  /** kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2 / fan_out). */
  | { kind: 'kaiming_normal_fan_out' }
  /** kaiming_uniform_(a): bound = sqrt(6 / ((1 + a²) · fan_in)). nn.Conv2d/nn.Linear default uses a = √5. */
  | { kind: 'kaiming_uniform'; a: number }
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number };

export interface ParamSpec {
  name: string;
  /** Lab (tfjs) layout, see header. */
  shape: number[];
  role: ParamRole;
  /** Receives a gradient and an optimizer update. Running statistics are never trainable. */
  trainable: boolean;
  init: InitSpec;
  /** fan_in / fan_out as torch computes them (needed by kaiming inits). */
  fanIn: number;
  fanOut: number;
  /** How a frozen base weight is stored (src/core/quant): absent = float32. Set only by
   * quantizeFrozenBase, only on frozen conv/linear weights. */
  storage?: QuantizedFormat;
}

/** A quantized storage of a frozen weight: block-wise absmax, block 64 (src/core/quant/blockwise.ts). */
export type QuantizedFormat = Exclude<FrozenWeightFormat, 'fp32'>;

/** gelu: the exact form x·Φ(x) (torch's nn.GELU(), timm's ViT default). */
export type ActivationFn = 'relu' | 'relu6' | 'hardswish' | 'hardsigmoid' | 'gelu';

/** Affine parameters of a normalisation layer (batch norm or layer norm): what BN+head (LN+head on
 * a ViT) and LoRA's `trainBatchNorm` train. */
export function isNormAffine(role: ParamRole): boolean {
  return role === 'bn_gamma' || role === 'bn_beta' || role === 'ln_gamma' || role === 'ln_beta';
}

interface NodeBase {
  /** Unique node id (also the torchvision module path where one exists, e.g. "features.1.conv.0.0"). */
  id: string;
  /** Ids of the nodes feeding this one, in order. */
  inputs: string[];
  /** Output shape per example. */
  outShape: number[];
  /** For adapter nodes (added by src/core/adapters): the id of the base conv/linear they adapt. */
  adapterOf?: string;
}

export interface InputNode extends NodeBase { op: 'input' }

export interface Conv2dNode extends NodeBase {
  op: 'conv2d';
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Symmetric zero padding, as torch's `padding=p` (not tfjs 'same', which pads asymmetrically). */
  padding: number;
  /** 1 for a dense conv, inChannels (= outChannels) for a depthwise conv. */
  groups: number;
  weight: string;
  bias?: string;
}

export interface BatchNormNode extends NodeBase {
  op: 'batchnorm';
  channels: number;
  gamma: string;
  beta: string;
  runningMean: string;
  runningVar: string;
  eps: number;
  /** torch convention: running = (1 - momentum) · running + momentum · batch (unbiased var). */
  momentum: number;
}

export interface ActivationNode extends NodeBase { op: 'activation'; fn: ActivationFn }

/** Elementwise sum of two equal shapes (residual connections). */
export interface AddNode extends NodeBase { op: 'add' }

/** Channel-wise scaling: inputs [x ([H,W,C]), s ([1,1,C])] → x · s (squeeze-and-excitation). */
export interface ScaleChannelsNode extends NodeBase { op: 'scale_channels' }

/** Mean over H and W, keeping [1, 1, C] (torch's AdaptiveAvgPool2d(1)). */
export interface GlobalAvgPoolNode extends NodeBase { op: 'global_avg_pool' }

export interface MaxPoolNode extends NodeBase { op: 'maxpool'; kernel: number; stride: number; padding: number }

/** [1, 1, C] or [H, W, C] → [H·W·C]. */
export interface FlattenNode extends NodeBase { op: 'flatten' }

/** A linear layer over the last dimension: a vector [in] → [out], or each token of [T, in] → [T, out]. */
export interface LinearNode extends NodeBase {
  op: 'linear';
  inFeatures: number;
  outFeatures: number;
  weight: string;
  bias?: string;
}

/** Layer norm over the last dimension (nn.LayerNorm(features)): [..., D] → [..., D]. */
export interface LayerNormNode extends NodeBase {
  op: 'layernorm';
  features: number;
  gamma: string;
  beta: string;
  eps: number;
}

/** [H, W, C] → [H·W, C]: a feature map as a sequence of tokens, row-major (timm's PatchEmbed
 * `flatten(2).transpose(1, 2)`). A view. */
export interface ToTokensNode extends NodeBase { op: 'to_tokens' }

/** ViT's embedding (timm's `_pos_embed`): [T, D] → [T + 1, D], the class token prepended, then the
 * position embedding added. */
export interface TokenEmbedNode extends NodeBase {
  op: 'token_embed';
  classToken: string;
  positionEmbedding: string;
}

/**
 * Multi-head self-attention after its qkv projection (timm's Attention without its two linears):
 * input [T, 3·D], the qkv linear's output, columns [q | k | v], each head-major (column
 * s·D + h·headDim + d); output [T, D], the heads' results side by side (column h·headDim + d):
 *   out_h = softmax(q_h·k_hᵀ · scale) · v_h,  scale = headDim^−½.
 */
export interface AttentionNode extends NodeBase {
  op: 'attention';
  heads: number;
  headDim: number;
  scale: number;
}

/** [T, D] → [D]: the class token's features (timm's global_pool='token'). */
export interface ClassTokenNode extends NodeBase { op: 'class_token' }

/** Inverted dropout in training mode, identity in eval mode. */
export interface DropoutNode extends NodeBase { op: 'dropout'; p: number }

/**
 * LoRA's sum: y = inputs[0] + scaling · inputs[1], where inputs[0] is the base layer's output and
 * inputs[1] is B(A(x)); scaling = α / r.
 */
export interface LoraAddNode extends NodeBase { op: 'lora_add'; scaling: number }

/**
 * DoRA's recombination (Hugging Face PEFT's formulation, base layer computed once):
 *   y = (m / ‖W + s·BA‖) ⊙ (inputs[0] + s · inputs[1]) + bias
 * inputs[0]: base conv/linear output *without* its bias; inputs[1]: B(A(x)); the norm is per
 * output channel over (C_in, kh, kw) and is treated as a constant in the backward pass.
 */
export interface DoraCombineNode extends NodeBase {
  op: 'dora_combine';
  scaling: number;
  magnitude: string;
  baseWeight: string;
  loraA: string;
  loraB: string;
  bias?: string;
}

export type NodeSpec =
  | InputNode
  | Conv2dNode
  | BatchNormNode
  | ActivationNode
  | AddNode
  | ScaleChannelsNode
  | GlobalAvgPoolNode
  | MaxPoolNode
  | FlattenNode
  | LinearNode
  | DropoutNode
  | LoraAddNode
  | DoraCombineNode
  | LayerNormNode
  | ToTokensNode
  | TokenEmbedNode
  | AttentionNode
  | ClassTokenNode;

export type NodeOp = NodeSpec['op'];

export interface ModelSpec {
  options: ModelOptions;
  /** Topologically ordered: every node's inputs come before it. The first node is the input. */
  nodes: NodeSpec[];
  /** Every parameter and buffer by name, in torchvision `state_dict` order. */
  params: Record<string, ParamSpec>;
  /** Id of the node producing the logits ([numClasses]). */
  output: string;
  /** Ids of the classifier's linear layers (the head: what BN+head, `trainHead` and GaLore's plain
   * head mean), in spec order. */
  classifier: string[];
}
