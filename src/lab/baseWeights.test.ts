// Which base a configuration starts from: the shipped checkpoint the manifest lists for its size,
// the key of the base pretrained in this browser, and the choice in a permalink (an imported file
// cannot travel in one).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pretrainedKeyOf, pretrainModelOptionsOf, pretrainTaskOf, shippedCheckpointOf, type ShippedCheckpoint } from './baseWeights';
import { DEFAULT_CONFIG, type LabConfig } from './config';
import { decodePermalink, encodePermalink } from './permalink';

const manifest = JSON.parse(readFileSync(new URL('../../public/checkpoints/manifest.json', import.meta.url), 'utf8')) as { checkpoints: ShippedCheckpoint[] };

describe('base weights of a configuration', () => {
  it('the shipped checkpoint: the default size has one per task; another size has none', () => {
    expect(shippedCheckpointOf(manifest.checkpoints, DEFAULT_CONFIG)?.file).toBe('mobilenet_v2_source.safetensors');
    expect(shippedCheckpointOf(manifest.checkpoints, { ...DEFAULT_CONFIG, task: 'unseen_classes' })?.file).toBe('mobilenet_v2_source_0_4.safetensors');
    // The user's images train a new head: the 10-class checkpoint serves whatever the class count.
    expect(shippedCheckpointOf(manifest.checkpoints, { ...DEFAULT_CONFIG, task: 'custom', numClasses: 3 })?.file).toBe('mobilenet_v2_source.safetensors');
    expect(shippedCheckpointOf(manifest.checkpoints, { ...DEFAULT_CONFIG, width: 0.25 })).toBeUndefined();
    expect(shippedCheckpointOf(manifest.checkpoints, { ...DEFAULT_CONFIG, numClasses: 12 })).toBeUndefined();
  });

  it('the base pretrained in this browser: one key per size and task, the head of the pretraining task where the task trains a new one', () => {
    const tiny: LabConfig = { ...DEFAULT_CONFIG, width: 0.25 };
    expect(pretrainedKeyOf(tiny)).toBe('pretrained/mobilenet_v2/w0.25/r32/cifar/c10/source');
    expect(pretrainTaskOf({ task: 'unseen_classes' })).toBe('source_0_4');
    expect(pretrainedKeyOf({ ...tiny, task: 'unseen_classes' })).toBe('pretrained/mobilenet_v2/w0.25/r32/cifar/c5/source_0_4');
    // The user's images: a 10-class source base whatever the images' class count.
    expect(pretrainModelOptionsOf({ ...tiny, task: 'custom', numClasses: 3 })).toEqual({ model: 'mobilenet_v2', width: 0.25, resolution: 32, stem: 'cifar', numClasses: 10 });
    expect(pretrainedKeyOf({ ...tiny, task: 'custom', numClasses: 3 })).toBe(pretrainedKeyOf(tiny));
    // A shift keeps the configured head.
    expect(pretrainedKeyOf({ ...tiny, numClasses: 12 })).toBe('pretrained/mobilenet_v2/w0.25/r32/cifar/c12/source');
    // Settings that do not change the model share the base.
    expect(pretrainedKeyOf({ ...tiny, method: 'galore', learningRate: 0.01, corruption: 'impulse_noise' })).toBe(pretrainedKeyOf(tiny));
    expect(pretrainedKeyOf({ ...tiny, resolution: 64 })).not.toBe(pretrainedKeyOf(tiny));
  });

  it('a permalink keeps the choice, except an imported file, which falls back with a message', () => {
    for (const baseWeights of ['shipped', 'browser', 'random'] as const) {
      const decoded = decodePermalink(encodePermalink({ config: { ...DEFAULT_CONFIG, baseWeights } }));
      expect(decoded.config.baseWeights).toBe(baseWeights);
      expect(decoded.ignored).toEqual([]);
    }
    const imported = decodePermalink(encodePermalink({ config: { ...DEFAULT_CONFIG, width: 0.25, baseWeights: 'imported' } }));
    expect(imported.config).toEqual({ ...DEFAULT_CONFIG, width: 0.25, baseWeights: 'shipped' });
    expect(imported.ignored).toEqual([expect.stringMatching(/^Base weights: the link was made with an imported weights file, which cannot travel in a link; used the default \(shipped\)/)]);
  });
});
