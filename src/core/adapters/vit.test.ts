// The methods on vit_tiny: which parameters each trains, which layers LoRA/DoRA adapt (PEFT's
// target_modules suffix semantics; checked against PEFT itself in
// src/core/profile/torchReference.test.ts) and which weights GaLore projects.
import { describe, expect, it } from 'vitest';
import { buildModelSpec } from '../models/registry';
import { galoreMatrices } from '../optim/galore';
import { applyMethod, galoreProjectionSpec, methodOptions, selectTargets } from './index';

const vit = buildModelSpec({ model: 'vit_tiny', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar', depth: 2 });
const trainable = (spec: typeof vit) => Object.values(spec.params).filter((p) => p.trainable).map((p) => p.name);
const block = (i: number) => [`blocks.${i}.attn.qkv`, `blocks.${i}.attn.proj`, `blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc2`];

describe('methods on vit_tiny', () => {
  it("LoRA/DoRA's default targets: the patch embedding's conv, qkv, proj, fc1, fc2 of every block and the head", () => {
    expect(selectTargets(vit, methodOptions()).map((node) => node.id)).toEqual(['patch_embed.proj', ...block(0), ...block(1), 'head']);
    // With trainHead the head trains fully instead.
    expect(selectTargets(vit, methodOptions({ trainHead: true })).map((node) => node.id)).not.toContain('head');
    for (const method of ['lora', 'dora'] as const) {
      const spec = applyMethod(vit, method, methodOptions());
      expect(trainable(spec).every((name) => /lora_(A|B)\.weight$|lora_magnitude_vector$/.test(name))).toBe(true);
      // A over tokens maps each token: [T, r] (65 tokens at 32×32 with 4-pixel patches).
      expect(spec.nodes.find((n) => n.id === 'blocks.0.attn.qkv.lora_A')?.outShape).toEqual([65, 4]);
    }
  });

  it("'bn_head' on a ViT is LN+head: every layer norm's γ and β and the head", () => {
    const norms = [0, 1].flatMap((i) => [`blocks.${i}.norm1`, `blocks.${i}.norm2`]).concat('norm');
    expect(trainable(applyMethod(vit, 'bn_head', methodOptions())).sort()).toEqual(
      [...norms.flatMap((n) => [`${n}.weight`, `${n}.bias`]), 'head.weight', 'head.bias'].sort(),
    );
  });

  it('GaLore trains everything and projects the conv and linear weights only (not cls_token, pos_embed, norms, biases)', () => {
    const spec = applyMethod(vit, 'galore', methodOptions());
    expect(trainable(spec)).toEqual(Object.keys(vit.params));
    const projected = [...galoreMatrices(spec).keys()];
    expect(projected).toEqual(['patch_embed.proj', ...block(0), ...block(1), 'head'].map((layer) => `${layer}.weight`));
    // The patch conv [4, 4, 3, 48] is torch's (48, 3·4·4) matrix; qkv [48, 144] its (144, 48).
    expect(galoreMatrices(spec).get('patch_embed.proj.weight')).toEqual({ rows: 48, cols: 48, side: 'rows' });
    expect(galoreMatrices(spec).get('blocks.0.attn.qkv.weight')).toEqual({ rows: 48, cols: 144, side: 'rows' });
    // With trainHead the head goes to plain Adam.
    expect([...galoreMatrices(galoreProjectionSpec(spec, { trainHead: true })).keys()]).not.toContain('head.weight');
  });
});
