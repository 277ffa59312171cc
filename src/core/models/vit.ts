// timm's vit_tiny_patch16_224 (VisionTransformer: embed_dim 192, depth 12, num_heads 3, mlp_ratio 4,
// qkv_bias, class token, learned position embedding, pre-norm blocks, LayerNorm eps 1e-6, exact
// GELU, global_pool='token'), with the lab's options. Module paths, and so parameter names, are
// timm's.
//
// Options, as the CNNs have them:
// - stem `imagenet`: 16×16 patches (224×224 → 14×14 = 196 tokens); `cifar`: 4×4 patches (32×32 →
//   8×8 = 64 tokens), the usual ViT-on-CIFAR patch size.
// - width scales the embedding dimension, rounded to a multiple of 8 per head (so the 3 heads keep
//   equal, even widths): width 1 is 192, 0.25 is 48. The MLP is 4× the embedding.
// - depth: the number of blocks, default 12.
// Dropout and drop-path are 0 in vit_tiny, so there are no dropout nodes.
import { makeDivisible, ModelOptionsError, SpecBuilder } from './builder';
import type { InitSpec, ModelOptions, ModelSpec } from './spec';

export const VIT_TINY = {
  embedDim: 192,
  depth: 12,
  heads: 3,
  mlpRatio: 4,
  layerNormEps: 1e-6,
  /** Patch side by stem. */
  patch: { imagenet: 16, cifar: 4 },
} as const;

/** timm's init_weights_vit_timm: Linear trunc_normal_(std=.02) (truncated at ±2, i.e. 100σ: a
 * normal), bias 0; pos_embed trunc_normal_(std=.02); cls_token normal_(std=1e-6). */
const LINEAR_INIT: InitSpec = { kind: 'normal', std: 0.02 };
const ZEROS: InitSpec = { kind: 'zeros' };

export function vitEmbedDim(width: number): number {
  return makeDivisible(VIT_TINY.embedDim * width, 8 * VIT_TINY.heads);
}

export function buildVitTiny(options: ModelOptions): ModelSpec {
  const b = new SpecBuilder(options);
  const patch = VIT_TINY.patch[options.stem];
  if (options.resolution % patch !== 0) {
    throw new ModelOptionsError(`resolution ${options.resolution} is no multiple of vit_tiny's ${patch}-pixel patches (stem ${options.stem})`);
  }
  const dim = vitEmbedDim(options.width);
  const depth = options.depth ?? VIT_TINY.depth;
  const linear = (id: string, input: string, outFeatures: number) =>
    b.linear(id, input, { outFeatures, weightInit: LINEAR_INIT, biasInit: ZEROS });

  // PatchEmbed's conv keeps nn.Conv2d's default init (timm's init touches Linear layers only).
  const fanIn = 3 * patch * patch;
  let x = b.conv('patch_embed.proj', b.input, {
    outChannels: dim,
    kernel: patch,
    stride: patch,
    padding: 0,
    bias: true,
    weightInit: { kind: 'kaiming_uniform', a: Math.sqrt(5) },
    biasInit: { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) },
  });
  x = b.toTokens('patch_embed.flatten', x);
  x = b.tokenEmbed('pos_embed', x, { classToken: { kind: 'normal', std: 1e-6 }, positionEmbedding: LINEAR_INIT });
  for (let i = 0; i < depth; i++) {
    const id = `blocks.${i}`;
    let h = b.layerNorm(`${id}.norm1`, x, VIT_TINY.layerNormEps);
    h = linear(`${id}.attn.qkv`, h, 3 * dim);
    h = b.attention(`${id}.attn`, h, VIT_TINY.heads);
    h = linear(`${id}.attn.proj`, h, dim);
    x = b.add(`${id}.add1`, x, h);
    h = b.layerNorm(`${id}.norm2`, x, VIT_TINY.layerNormEps);
    h = linear(`${id}.mlp.fc1`, h, VIT_TINY.mlpRatio * dim);
    h = b.activation(`${id}.mlp.act`, h, 'gelu');
    h = linear(`${id}.mlp.fc2`, h, dim);
    x = b.add(`${id}.add2`, x, h);
  }
  x = b.layerNorm('norm', x, VIT_TINY.layerNormEps);
  x = b.classToken('pool', x);
  x = linear('head', x, options.numClasses);
  return b.build(x, ['head']);
}
