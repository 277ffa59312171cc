import { describe, expect, it } from 'vitest';
import { fusedActivations, recomputedActivations } from './fusion';
import { buildModelSpec } from './registry';

describe('activations the engine recomputes instead of keeping (models/fusion.ts)', () => {
  it('MobileNetV2: every relu6 its batch norm applies, but the last, which global pooling reads', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' });
    const fused = fusedActivations(spec);
    const recomputed = recomputedActivations(spec, () => true);
    expect(fused.size).toBe(35);
    expect(recomputed.size).toBe(34);
    const nodes = new Map(spec.nodes.map((node) => [node.id, node]));
    for (const [activationId, batchNormId] of recomputed) {
      expect(nodes.get(activationId)?.inputs).toEqual([batchNormId]);
      expect(fused.has(batchNormId)).toBe(true);
      for (const reader of spec.nodes.filter((node) => node.inputs.includes(activationId))) expect(reader.op).toBe('conv2d');
    }
    expect(spec.nodes.find((node) => node.op === 'global_avg_pool')?.inputs[0]).toBe('features.18.2');
    expect(recomputed.has('features.18.2')).toBe(false);
  });

  it('ResNet-18: each block’s first relu, not the stem’s (max pooling keeps its input) nor those after a residual sum', () => {
    const spec = buildModelSpec({ model: 'resnet18', width: 0.25, resolution: 32, numClasses: 10, stem: 'imagenet' });
    const recomputed = recomputedActivations(spec, () => true);
    expect([...recomputed.keys()]).toEqual(['layer1', 'layer2', 'layer3', 'layer4'].flatMap((layer) => [`${layer}.0.relu`, `${layer}.1.relu`]));
    expect(recomputed.values().next().value).toBe('layer1.0.bn1');
    expect(recomputed.has('relu')).toBe(false);
  });

  it('none where the batch norm keeps no input (β alone training, no input gradient)', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' });
    expect(recomputedActivations(spec, () => false).size).toBe(0);
  });
});
