import { describe, expect, it } from 'vitest';
import { applyMethod, methodOptions } from '../adapters';
import { METHOD_IDS } from '../ids';
import { buildModelSpec } from '../models/registry';
import { storedParamBytes } from './blockwise';
import { frozenWeightsOf, frozenWeightsProblem, quantizeFrozenBase, withoutQuantizedStorage } from './quantizeBase';

const base = buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' });

describe('quantizeFrozenBase', () => {
  it('LoRA: every frozen conv and linear weight (depthwise included) is stored quantized; nothing else', () => {
    const spec = applyMethod(base, 'lora', methodOptions());
    const quantized = quantizeFrozenBase(spec, 'lora', 'int8');
    const stored = Object.values(quantized.params).filter((p) => p.storage);
    expect(stored.length).toBeGreaterThan(0);
    for (const param of Object.values(quantized.params)) {
      const expected = !param.trainable && (param.role === 'conv_weight' || param.role === 'linear_weight');
      expect(param.storage === 'int8', param.name).toBe(expected);
    }
    // Depthwise convs, the stem and the (frozen) classifier are among them; adapters, BN and biases are not.
    expect(quantized.params['features.2.conv.1.0.weight'].storage).toBe('int8');
    expect(quantized.params['features.0.0.weight'].storage).toBe('int8');
    expect(quantized.params['classifier.1.weight'].storage).toBe('int8');
    expect(quantized.params['classifier.1.bias'].storage).toBeUndefined();
    expect(Object.values(quantized.params).some((p) => p.role === 'adapter_a' && p.storage)).toBe(false);
    expect(Object.values(quantized.params).some((p) => p.role.startsWith('bn_') && p.storage)).toBe(false);
    // Pure: the input spec is untouched; nodes and shapes are the same.
    expect(Object.values(spec.params).some((p) => p.storage)).toBe(false);
    expect(quantized.nodes).toEqual(spec.nodes);
    expect(frozenWeightsOf(quantized)).toBe('int8');
    expect(frozenWeightsOf(withoutQuantizedStorage(quantized))).toBe('fp32');
  });

  it('a trainable head (trainHead) and BN+head\'s classifier stay float32', () => {
    const lora = quantizeFrozenBase(applyMethod(base, 'lora', methodOptions({ trainHead: true })), 'lora', 'nf4');
    expect(lora.params['classifier.1.weight'].storage).toBeUndefined();
    const bnHead = quantizeFrozenBase(applyMethod(base, 'bn_head', methodOptions()), 'bn_head', 'nf4');
    expect(bnHead.params['classifier.1.weight'].storage).toBeUndefined();
    expect(bnHead.params['features.1.conv.0.0.weight'].storage).toBe('nf4');
  });

  it('refuses full fine-tuning and GaLore (they update the base weights); fp32 is the spec itself', () => {
    for (const method of METHOD_IDS) {
      const spec = applyMethod(base, method, methodOptions());
      expect(quantizeFrozenBase(spec, method, 'fp32')).toBe(spec);
      expect(frozenWeightsProblem(method, 'fp32')).toBeNull();
      for (const format of ['int8', 'nf4'] as const) {
        if (method === 'fft' || method === 'galore') {
          expect(frozenWeightsProblem(method, format)).toMatch(/updates the base weights/);
          expect(() => quantizeFrozenBase(spec, method, format)).toThrow(/must be fp32/);
        } else {
          expect(frozenWeightsProblem(method, format)).toBeNull();
        }
      }
    }
  });

  it('stores LoRA\'s frozen base at about ¼ (int8) and ⅛ (NF4) of float32, plus scales', () => {
    const spec = applyMethod(base, 'lora', methodOptions());
    const bytes = (format: 'fp32' | 'int8' | 'nf4') =>
      Object.values(quantizeFrozenBase(spec, 'lora', format).params)
        .filter((p) => !p.trainable && (p.role === 'conv_weight' || p.role === 'linear_weight'))
        .reduce((sum, p) => sum + storedParamBytes(p), 0);
    const fp32 = bytes('fp32');
    expect(bytes('int8') / fp32).toBeGreaterThan(0.25 + 1 / 64 - 0.001);
    expect(bytes('int8') / fp32).toBeLessThan(0.3);
    expect(bytes('nf4') / fp32).toBeGreaterThan(0.125 + 1 / 64 - 0.001);
    expect(bytes('nf4') / fp32).toBeLessThan(0.16);
  });
});
