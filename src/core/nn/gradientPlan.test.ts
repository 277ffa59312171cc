// The gradient plan and the lean backward it drives: which nodes run on the tape, and the same
// gradients whatever the trainable set (frozen prefixes off the tape, frozen convs that only pass
// dX on, convs that compute dW but no dX) as the full pass that differentiates everything.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import { buildModelSpec } from '../models/registry';
import type { ModelId } from '../ids';
import { isNormAffine, type ModelSpec } from '../models/spec';
import { runSpec } from './forward';
import { planGradients, type GradientTargets } from './gradientPlan';
import { createModel, disposeModel } from './model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)), shape);
}

/** Trainable sets that exercise every case of the plan, by parameter name (state_dict order). */
function trainableSets(spec: ModelSpec): Record<string, Set<string>> {
  const trainable = Object.values(spec.params).filter((p) => p.trainable);
  const names = trainable.map((p) => p.name);
  const isHead = (name: string) => spec.classifier.some((id) => name.startsWith(`${id}.`));
  return {
    // BN (LN) affine + classifier: the stem conv runs off the tape, frozen convs pass dX on and keep no activation.
    bn_head: new Set(trainable.filter((p) => isNormAffine(p.role) || isHead(p.name)).map((p) => p.name)),
    // The first parameter only (the CNNs' first conv, the ViT's class token): everything above it
    // is frozen and still backpropagates dX.
    first_conv: new Set(names.slice(0, 1)),
    // A frozen prefix: only the deepest quarter of the parameters train.
    tail: new Set(names.slice(Math.floor((names.length * 3) / 4))),
    head: new Set(names.filter(isHead)),
  };
}

describe('gradient plan', () => {
  it('puts on the tape exactly the nodes downstream of a wanted gradient', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 8, numClasses: 5, stem: 'cifar' });
    const sets = trainableSets(spec);
    const bnHead = planGradients(spec, { params: sets.bn_head, input: false });
    // The stem conv reads only the image; its BN trains, so from there on everything is on the tape.
    expect(bnHead.needsGrad('features.0.0')).toBe(false);
    expect(bnHead.needsGrad('features.0.1')).toBe(true);
    expect(bnHead.needsGrad('features.1.conv.0.0')).toBe(true);

    const head = planGradients(spec, { params: sets.head, input: false });
    expect(spec.nodes.filter((node) => head.needsGrad(node.id)).map((node) => node.id)).toEqual(['classifier.1']);

    const inputOnly = planGradients(spec, { params: new Set(), input: true });
    expect(spec.nodes.every((node) => inputOnly.needsGrad(node.id))).toBe(true);
  });

  it('a ViT: LN+head keeps the patch embedding and token ops off the tape; the embeddings put them on', () => {
    const spec = buildModelSpec({ model: 'vit_tiny', width: 0.25, depth: 2, resolution: 16, numClasses: 5, stem: 'cifar' });
    const lnHead = planGradients(spec, { params: trainableSets(spec).bn_head, input: false });
    expect(['patch_embed.proj', 'patch_embed.flatten', 'pos_embed'].map((id) => lnHead.needsGrad(id))).toEqual([false, false, false]);
    expect(['blocks.0.norm1', 'blocks.0.attn.qkv', 'blocks.0.attn', 'blocks.0.mlp.act', 'pool', 'head'].every((id) => lnHead.needsGrad(id))).toBe(true);
    const embeddings = planGradients(spec, { params: new Set(['cls_token', 'pos_embed']), input: false });
    expect(['patch_embed.proj', 'patch_embed.flatten'].map((id) => embeddings.needsGrad(id))).toEqual([false, false]);
    expect(embeddings.needsGrad('pos_embed')).toBe(true);
  });
});

describe('lean backward = the full backward, for any trainable set', () => {
  const models: { id: ModelId; resolution: number; batch: number; depth?: number }[] = [
    { id: 'mobilenet_v2', resolution: 8, batch: 2 },
    { id: 'mobilenet_v3_small', resolution: 16, batch: 3 },
    { id: 'resnet18', resolution: 8, batch: 2 },
    { id: 'vit_tiny', resolution: 16, batch: 2, depth: 2 },
  ];
  for (const { id, resolution, batch, depth } of models) {
    it(`${id}: bn_head (LN+head), first parameter only, a frozen prefix, head only`, async () => {
      const spec = buildModelSpec({ model: id, width: 0.25, resolution, numClasses: 5, stem: 'cifar', ...(depth ? { depth } : {}) });
      const model = createModel(spec, { seed: 5 });
      const x = randomTensor([batch, resolution, resolution, 3], 6);
      const r = randomTensor([batch, 5], 7);
      const gradientsOf = (names: string[], targets?: GradientTargets) =>
        tf.tidy(() => {
          const variables = names.map((n) => model.variables.get(n) as tf.Variable);
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(runSpec(model, x, { training: true, gradients: targets }), r)), variables);
          return variables.map((v) => grads[v.name]);
        });
      try {
        for (const [subset, params] of Object.entries(trainableSets(spec))) {
          const names = [...params];
          expect(names.length, subset).toBeGreaterThan(0);
          // Lean: only these parameters, no input gradient. Full: every parameter and the input.
          const lean = gradientsOf(names, { params, input: false });
          const full = gradientsOf(names);
          for (const [i, name] of names.entries()) {
            const [a, b] = [await lean[i].data(), await full[i].data()];
            let worst = 0;
            let scale = 1e-12;
            b.forEach((value, j) => {
              scale = Math.max(scale, Math.abs(value));
              worst = Math.max(worst, Math.abs(a[j] - value));
            });
            expect(worst / scale, `${subset} ${name}`).toBeLessThan(1e-5);
          }
          tf.dispose([...lean, ...full]);
        }
      } finally {
        tf.dispose([x, r]);
        disposeModel(model);
      }
    });
  }
});
