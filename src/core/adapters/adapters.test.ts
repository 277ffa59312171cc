import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import { METHOD_IDS } from '../ids';
import { SpecBuilder } from '../models/builder';
import { countParams } from '../models/count';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { createModel, disposeModel } from '../nn/model';
import { galoreMatrices } from '../optim/galore';
import { optimizerCostOfMethod, profileSpec } from '../profile/profile';
import { adapterCostByLayer, applyMethod, galoreProjectionSpec, METHOD_DEFINITIONS, methodOptions, METHODS, unloadAdapters } from './index';

/** input 8×8×8 → conv 3×3 8→16 → BN → ReLU → depthwise 3×3 → BN → pool → flatten → linear 16→10. */
function tinySpec(): ModelSpec {
  const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: 8, numClasses: 10, stem: 'imagenet' });
  // The builder's input has 3 channels; a 1×1 conv lifts it to the 8 the hand counts use.
  let x = b.conv('stem', b.input, { outChannels: 8, kernel: 1 });
  x = b.conv('features.0', x, { outChannels: 16, kernel: 3 });
  x = b.batchNorm('features.1', x, { eps: 1e-5, momentum: 0.1 });
  x = b.activation('features.2', x, 'relu');
  x = b.conv('features.3', x, { outChannels: 16, kernel: 3, groups: 'depthwise' });
  x = b.batchNorm('features.4', x, { eps: 1e-5, momentum: 0.1 });
  x = b.globalAvgPool('pool', x);
  x = b.flatten('flatten', x);
  x = b.linear('classifier', x, { outFeatures: 10, weightInit: { kind: 'normal', std: 0.01 }, biasInit: { kind: 'zeros' } });
  return b.build(x);
}

const STEM = 3 * 8; // the 1×1 lifting conv
const CONV = 9 * 8 * 16;
const DEPTHWISE = 9 * 16;
const BN_AFFINE = 2 * (2 * 16);
const CLASSIFIER = 16 * 10 + 10;
// LoRA, r = 4: conv A = 4·8·9, B = 16·4; stem A = 4·3, B = 8·4; classifier A = 16·4, B = 4·10.
const LORA_CONV = 4 * 8 * 9 + 16 * 4;
const LORA_STEM = 4 * 3 + 8 * 4;
const LORA_CLASSIFIER = 16 * 4 + 4 * 10;

describe('trainable parameter counts (r = 4, α = 4) on a tiny spec', () => {
  const spec = tinySpec();
  const trainable = (id: (typeof METHOD_IDS)[number], overrides = {}) => countParams(applyMethod(spec, id, methodOptions(overrides))).trainable;

  it('fft and galore train everything; bn_head BN affine + classifier', () => {
    expect(trainable('fft')).toBe(STEM + CONV + DEPTHWISE + BN_AFFINE + CLASSIFIER);
    expect(trainable('galore')).toBe(STEM + CONV + DEPTHWISE + BN_AFFINE + CLASSIFIER);
    expect(trainable('bn_head')).toBe(BN_AFFINE + CLASSIFIER);
  });

  it('lora: A and B of every dense conv and the classifier, nothing else', () => {
    expect(LORA_CONV).toBe(352);
    expect(trainable('lora')).toBe(LORA_STEM + LORA_CONV + LORA_CLASSIFIER);
    expect(trainable('lora', { trainBatchNorm: true })).toBe(LORA_STEM + LORA_CONV + LORA_CLASSIFIER + BN_AFFINE);
    // Depthwise on request: A = 4·16·9, B = 16·4 — more than the conv's own 144.
    expect(trainable('lora', { targets: { depthwise: true } })).toBe(LORA_STEM + LORA_CONV + LORA_CLASSIFIER + 4 * 16 * 9 + 16 * 4);
    expect(trainable('lora', { targets: { depthwise: false, layers: ['features.0'] } })).toBe(LORA_CONV);
  });

  it('dora: LoRA plus one magnitude per output channel', () => {
    expect(trainable('dora')).toBe(LORA_STEM + LORA_CONV + LORA_CLASSIFIER + 8 + 16 + 10);
    expect(() => applyMethod(spec, 'dora', methodOptions({ targets: { depthwise: true } }))).toThrow(/depthwise/);
  });

  it('adapterCostByLayer shows that a depthwise adapter outweighs the conv', () => {
    const costs = adapterCostByLayer(spec, methodOptions({ targets: { depthwise: true } }), false);
    expect(costs.map((c) => [c.layer, c.kind, c.baseParams, c.adapterParams])).toEqual([
      ['stem', 'conv', STEM, LORA_STEM],
      ['features.0', 'conv', CONV, LORA_CONV],
      ['features.3', 'depthwise', DEPTHWISE, 4 * 16 * 9 + 16 * 4],
      ['classifier', 'linear', CLASSIFIER, LORA_CLASSIFIER],
    ]);
  });
});

describe('trainHead: a new classifier trains fully under every method (PEFT modules_to_save)', () => {
  const spec = tinySpec();
  const withHead = (overrides = {}) => methodOptions({ trainHead: true, ...overrides });
  const trainable = (id: (typeof METHOD_IDS)[number], overrides = {}) => countParams(applyMethod(spec, id, withHead(overrides))).trainable;
  const trainableNames = (id: (typeof METHOD_IDS)[number]) =>
    Object.values(applyMethod(spec, id, withHead()).params).filter((p) => p.trainable).map((p) => p.name);

  it('is off by default', () => {
    expect(methodOptions().trainHead).toBe(false);
    expect(() => applyMethod(spec, 'lora', methodOptions({ trainHead: 'yes' as unknown as boolean }))).toThrow(/trainHead must be true or false/);
  });

  it('fft, bn_head and galore already train the classifier: same counts', () => {
    expect(trainable('fft')).toBe(STEM + CONV + DEPTHWISE + BN_AFFINE + CLASSIFIER);
    expect(trainable('bn_head')).toBe(BN_AFFINE + CLASSIFIER);
    expect(trainable('galore')).toBe(STEM + CONV + DEPTHWISE + BN_AFFINE + CLASSIFIER);
  });

  it('lora: adapters on the dense convs, the classifier (weight and bias) in full, no adapter on it', () => {
    expect(trainable('lora')).toBe(LORA_STEM + LORA_CONV + CLASSIFIER);
    expect(trainable('lora')).toBe(44 + 352 + 170);
    expect(trainable('lora', { trainBatchNorm: true })).toBe(LORA_STEM + LORA_CONV + CLASSIFIER + BN_AFFINE);
    expect(trainable('lora', { targets: { depthwise: true } })).toBe(LORA_STEM + LORA_CONV + CLASSIFIER + 4 * 16 * 9 + 16 * 4);
    expect(trainableNames('lora')).toEqual([
      'stem.lora_A.weight',
      'stem.lora_B.weight',
      'features.0.lora_A.weight',
      'features.0.lora_B.weight',
      'classifier.weight',
      'classifier.bias',
    ]);
    const adapted = applyMethod(spec, 'lora', withHead());
    expect(adapted.nodes.filter((node) => node.adapterOf === 'classifier')).toEqual([]);
    expect(adapted.output).toBe('classifier');
  });

  it('dora: LoRA’s, plus magnitudes of the adapted convs only', () => {
    expect(trainable('dora')).toBe(LORA_STEM + LORA_CONV + 8 + 16 + CLASSIFIER);
    const adapted = applyMethod(spec, 'dora', withHead());
    // The classifier keeps its bias (no dora_combine takes it over).
    expect(adapted.nodes.find((n) => n.id === 'classifier')).toMatchObject({ op: 'linear', bias: 'classifier.bias' });
    expect(adapted.params['classifier.lora_magnitude_vector']).toBeUndefined();
  });

  it('the classifier is no adapter target: excluded from the cost table, an error when named', () => {
    expect(adapterCostByLayer(spec, withHead(), false).map((c) => c.layer)).toEqual(['stem', 'features.0']);
    expect(() => applyMethod(spec, 'lora', withHead({ targets: { depthwise: false, layers: ['features.0', 'classifier'] } }))).toThrow(
      /classifier is the classifier, which trains fully with trainHead/,
    );
    expect(trainable('lora', { targets: { depthwise: false, layers: ['features.0'] } })).toBe(LORA_CONV + CLASSIFIER);
  });

  it('galore: the classifier weight goes to plain Adam, every other ≥2-D weight is projected', () => {
    const adapted = applyMethod(spec, 'galore', withHead());
    expect([...galoreMatrices(galoreProjectionSpec(adapted, { trainHead: true })).keys()]).toEqual(['stem.weight', 'features.0.weight', 'features.3.weight']);
    expect([...galoreMatrices(galoreProjectionSpec(adapted, { trainHead: false })).keys()]).toContain('classifier.weight');
    // The projection spec only hides the classifier from the projector: the method's spec is untouched.
    expect(adapted.params['classifier.weight'].trainable).toBe(true);
  });

  it('on MobileNetV2 (width 1, 224, 1000 classes): LoRA/DoRA trade the classifier adapter for the classifier', () => {
    const mobilenet = buildModelSpec({ model: 'mobilenet_v2', width: 1, resolution: 224, numClasses: 1000, stem: 'imagenet' });
    const counts = Object.fromEntries(METHOD_IDS.map((id) => [id, countParams(applyMethod(mobilenet, id, withHead())).trainable]));
    // LoRA: 83 468 − r·(1280 + 1000) + 1280·1000 + 1000; DoRA: 94 388 − r·(1280 + 1000) − 1000 + 1 281 000.
    expect(counts).toEqual({ fft: 3504872, bn_head: 1315112, lora: 1355348, dora: 1365268, galore: 3504872 });
  });
});

describe('trainHead: the optimizer each method creates holds the state the profiler charts', () => {
  const spec = tinySpec();
  for (const id of METHOD_IDS) {
    it(id, async () => {
      await tf.setBackend('cpu');
      const options = methodOptions({ trainHead: true, galore: { rank: 2, updateProjGap: 200, scale: 1 } });
      const adapted = applyMethod(spec, id, options);
      const model = createModel(adapted, { seed: 1 });
      const optimizer = METHODS[id].createOptimizer(model, { lr: 1e-3 }, options);
      const trainableNames = Object.values(adapted.params).filter((p) => p.trainable).map((p) => p.name);
      const grads = new Map(trainableNames.map((name, i) => [name, tf.randomNormal(adapted.params[name].shape, 0, 1, 'float32', i + 1)]));
      try {
        await optimizer.prepareStep?.(grads);
        tf.tidy(() => optimizer.step(grads));
        const profile = profileSpec(adapted, { batch: 1, optimizer: optimizerCostOfMethod(id, options) });
        expect(optimizer.stateBytes()).toBe(profile.memory.analytic.maxBytesByGroup.opt);
        expect(profile.memory.analytic.maxBytesByGroup.grad).toBe(4 * countParams(adapted).trainable);
        // The classifier weight's state is two full-size Adam moments, whatever the method.
        const headState = optimizer.stateEntries().filter((entry) => entry.param === 'classifier.weight');
        expect(headState.map((entry) => entry.shape)).toEqual([
          [16, 10],
          [16, 10],
        ]);
      } finally {
        tf.dispose([...grads.values()]);
        optimizer.dispose();
        disposeModel(model);
      }
    });
  }
});

describe('the LoRA / DoRA spec rewrite', () => {
  const spec = tinySpec();

  it('adds PEFT-named parameters after their layer and reroutes consumers', () => {
    const adapted = applyMethod(spec, 'lora', methodOptions({ rank: 2, alpha: 8 }));
    const names = Object.keys(adapted.params);
    const at = names.indexOf('features.0.weight');
    expect(names.slice(at, at + 3)).toEqual(['features.0.weight', 'features.0.lora_A.weight', 'features.0.lora_B.weight']);
    expect(adapted.params['features.0.lora_A.weight']).toMatchObject({ shape: [3, 3, 8, 2], role: 'adapter_a', trainable: true, fanIn: 72 });
    expect(adapted.params['features.0.lora_A.weight'].init).toEqual({ kind: 'kaiming_uniform', a: Math.sqrt(5) });
    expect(adapted.params['features.0.lora_B.weight']).toMatchObject({ shape: [1, 1, 2, 16], init: { kind: 'zeros' } });
    expect(adapted.params['classifier.lora_A.weight'].shape).toEqual([16, 2]);
    expect(adapted.params['classifier.bias'].trainable).toBe(false);
    const bn = adapted.nodes.find((n) => n.id === 'features.1');
    expect(bn?.inputs).toEqual(['features.0.lora_add']);
    const add = adapted.nodes.find((n) => n.id === 'features.0.lora_add');
    expect(add).toMatchObject({ op: 'lora_add', inputs: ['features.0', 'features.0.lora_B'], scaling: 4, adapterOf: 'features.0' });
    expect(adapted.output).toBe('classifier.lora_add');
    // Topological order holds.
    const seen = new Set<string>();
    for (const node of adapted.nodes) {
      for (const input of node.inputs) expect(seen.has(input)).toBe(true);
      seen.add(node.id);
    }
  });

  it('DoRA moves the base bias into the combine node; unloading restores the base spec', () => {
    const adapted = applyMethod(spec, 'dora', methodOptions());
    const classifier = adapted.nodes.find((n) => n.id === 'classifier');
    expect(classifier && 'bias' in classifier ? classifier.bias : undefined).toBeUndefined();
    expect(adapted.nodes.find((n) => n.id === 'classifier.dora')).toMatchObject({
      op: 'dora_combine',
      bias: 'classifier.bias',
      magnitude: 'classifier.lora_magnitude_vector',
    });
    const restored = unloadAdapters(adapted);
    expect(restored.nodes).toEqual(spec.nodes);
    expect(Object.keys(restored.params)).toEqual(Object.keys(spec.params));
    expect(restored.output).toBe(spec.output);
  });

  it('is pure and rejects bad options and double application', () => {
    const before = JSON.stringify(spec);
    const adapted = applyMethod(spec, 'lora', methodOptions());
    expect(JSON.stringify(spec)).toBe(before);
    expect(() => applyMethod(adapted, 'lora', methodOptions())).toThrow(/already has adapters/);
    expect(() => applyMethod(spec, 'lora', methodOptions({ rank: 0 }))).toThrow(/rank must be a positive integer/);
    expect(() => applyMethod(spec, 'lora', methodOptions({ targets: { depthwise: false, layers: ['nope'] } }))).toThrow(/nope/);
  });

  it('every method is registered under its id, its trainer under the same definition', () => {
    for (const id of METHOD_IDS) {
      expect(METHODS[id].id).toBe(id);
      expect(METHODS[id].apply).toBe(METHOD_DEFINITIONS[id].apply);
    }
    // Only DoRA prepares a loaded model (its magnitudes): no method special-cases it elsewhere.
    expect(METHOD_IDS.filter((id) => METHODS[id].prepare)).toEqual(['dora']);
  });
});

describe('MobileNetV2 (width 1, 224, 1000 classes), r = 4', () => {
  it('trainable counts per method', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 1, resolution: 224, numClasses: 1000, stem: 'imagenet' });
    const counts = Object.fromEntries(METHOD_IDS.map((id) => [id, countParams(applyMethod(spec, id, methodOptions())).trainable]));
    // Checked against torchvision (3 504 872 parameters) and a hand sum over its 35 dense convs:
    // LoRA = Σ r·(C_in·k² + C_out) + r·(1280 + 1000); DoRA adds Σ C_out + 1000.
    expect(counts).toEqual({ fft: 3504872, bn_head: 1315112, lora: 83468, dora: 94388, galore: 3504872 });
  });
});
