// The lab view's kept tensors for the ViT's ops, the contract the engine (src/core/nn) keeps too:
// layer norm its input and per-token mean and 1/σ when its input's gradient is needed or γ trains;
// attention its input qkv and the softmax P when its input needs a gradient; GELU its input; the
// token ops nothing. vit_tiny at width 0.25 (D = 48, 3 heads), 32×32 with 4-pixel patches
// (T = 65 tokens), 2 blocks, batch 2. (PyTorch's view: torchReference.test.ts.)
import { describe, expect, it } from 'vitest';
import { applyMethod, methodOptions } from '../adapters';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { profileSpec } from './profile';

const BATCH = 2;
const T = 65;
const D = 48;
const vit = buildModelSpec({ model: 'vit_tiny', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar', depth: 2 });

function kept(spec: ModelSpec): Record<string, number> {
  const profile = profileSpec(spec, { batch: BATCH, optimizer: { kind: 'adam' } });
  return Object.fromEntries(profile.nodes.map((n) => [n.nodeId, n.keptBytes.analytic]));
}

const layerNorm = 4 * BATCH * (T * D + 2 * T);
const attention = 4 * BATCH * (T * 3 * D + 3 * T * T);

describe("the lab's kept tensors on vit_tiny", () => {
  it('full fine-tuning: layer norm x + mean + 1/σ, attention qkv + P, GELU its input, token ops nothing', () => {
    const bytes = kept(applyMethod(vit, 'fft', methodOptions()));
    expect(bytes['blocks.0.norm1']).toBe(layerNorm);
    expect(bytes['blocks.1.attn']).toBe(attention);
    expect(bytes['blocks.0.mlp.act']).toBe(4 * BATCH * T * 4 * D);
    expect(bytes['blocks.0.attn.qkv']).toBe(4 * BATCH * T * D); // its input, the weight trains
    for (const id of ['patch_embed.flatten', 'pos_embed', 'pool', 'blocks.0.add1']) expect(bytes[id]).toBe(0);
  });

  it('LN+head: norms keep (γ trains), frozen linears keep nothing, attention still keeps (its input needs a gradient)', () => {
    const bytes = kept(applyMethod(vit, 'bn_head', methodOptions()));
    expect(bytes['blocks.0.norm1']).toBe(layerNorm);
    expect(bytes['blocks.0.attn.qkv']).toBe(0);
    expect(bytes['blocks.0.attn']).toBe(attention);
    expect(bytes.head).toBe(4 * BATCH * D); // the class token's features
  });

  it('only β of the first layer norm training: it keeps nothing, and nothing runs below it', () => {
    const spec = applyMethod(vit, 'fft', methodOptions());
    for (const p of Object.values(spec.params)) p.trainable = p.name === 'blocks.0.norm1.bias';
    const bytes = kept(spec);
    expect(bytes['blocks.0.norm1']).toBe(0);
    expect(bytes['blocks.0.attn']).toBe(attention); // above it, gradients flow
    expect(bytes['patch_embed.proj']).toBe(0);
  });
});
