// The charts' profiles follow what the run trains: the unseen-classes task's new classifier trains
// fully under every method (trainHead), and the configured optimizer is costed for the others.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, methodOptionsOf, type LabConfig } from './config';
import { profileRequestOf } from './profileMethods';
import { profileMethods } from './profileMethods';

const profilesOf = (config: LabConfig) => {
  const { profiles, failures } = profileMethods(profileRequestOf(config));
  expect(failures).toEqual({});
  return profiles;
};

describe('profiles of the configuration', () => {
  const shift: LabConfig = { ...DEFAULT_CONFIG, task: 'shift' };
  const unseen: LabConfig = { ...DEFAULT_CONFIG, task: 'unseen_classes' };

  it('train the head fully on the unseen-classes task only', () => {
    expect(methodOptionsOf(shift).trainHead).toBe(false);
    expect(methodOptionsOf(unseen).trainHead).toBe(true);
    expect(profileRequestOf(unseen).methodOptions.trainHead).toBe(true);
  });

  it('count the new classifier in place of its adapter (MobileNetV2 ×0.35, 1280 → 5, r = 4)', () => {
    // The same model (the unseen-classes task's 5-way head) without and with trainHead.
    const before = profilesOf({ ...shift, numClasses: 5 });
    const after = profilesOf(unseen);
    const classifier = 1280 * 5 + 5;
    const loraOnClassifier = 4 * (1280 + 5);
    expect(after.lora!.params.trainable - before.lora!.params.trainable).toBe(classifier - loraOnClassifier);
    // DoRA also drops the classifier's 5 magnitudes.
    expect(after.dora!.params.trainable - before.dora!.params.trainable).toBe(classifier - loraOnClassifier - 5);
    for (const method of ['fft', 'bn_head', 'galore'] as const) {
      expect(after[method]!.params.trainable).toBe(before[method]!.params.trainable);
    }
    // GaLore: the classifier weight's two full-size Adam moments replace its projector (5 × 4) and
    // projected moments (2 × 4 × 1280).
    const galoreOpt = (profiles: typeof before) => profiles.galore!.memory.analytic.maxBytesByGroup.opt;
    expect(galoreOpt(after) - galoreOpt(before)).toBe(4 * (2 * 1280 * 5 - (5 * 4 + 2 * 4 * 1280)));
  });

  it('cost the configured optimizer for the non-GaLore methods', () => {
    const profiles = profilesOf({ ...unseen, optimizer: 'sgd' });
    expect(profiles.lora!.memory.analytic.maxBytesByGroup.opt).toBe(0);
    expect(profiles.galore!.memory.analytic.maxBytesByGroup.opt).toBeGreaterThan(0);
  });
});

describe('profiles on a quantized frozen base', () => {
  it('cost LoRA, DoRA and BN+head on the int8 / NF4 base, and FFT and GaLore (which update it) at fp32', () => {
    const fp32 = profilesOf(DEFAULT_CONFIG);
    for (const frozenWeights of ['int8', 'nf4'] as const) {
      expect(profileRequestOf({ ...DEFAULT_CONFIG, frozenWeights }).frozenWeights).toBe(frozenWeights);
      const quantized = profilesOf({ ...DEFAULT_CONFIG, frozenWeights });
      for (const method of ['bn_head', 'lora', 'dora'] as const) {
        const param = (p: typeof fp32) => p[method]!.memory.analytic.maxBytesByGroup.param;
        expect(param(quantized), method).toBeLessThan(param(fp32));
      }
      for (const method of ['fft', 'galore'] as const) expect(quantized[method], method).toEqual(fp32[method]);
    }
  });
});
