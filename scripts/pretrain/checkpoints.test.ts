// The shipped base checkpoints (public/checkpoints): each one the manifest lists is intact, loads
// into the model its options build, every model × task is there, and the default one classifies
// as the manifest says.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MODEL_IDS } from '../../src/core/ids';
import { buildModelSpec } from '../../src/core/models/registry';
import { createModel, disposeModel } from '../../src/core/nn/model';
import { PRETRAIN_TASKS } from '../../src/core/train/pretrainTasks';
import { loadTorchvisionSafetensors } from '../../src/core/weights/load';
import { useCpuBackend } from '../cli/tfjs';
import { useWasmBackend } from '../cli/wasm';
import { CHECKPOINT_DIRECTORY, CHECKPOINT_MODELS, checkpointModelOptions, checkpointTestSet, evaluateDataset, MANIFEST_FILE, type Manifest } from './checkpoints';

const directory = resolve(dirname(fileURLToPath(import.meta.url)), '../..', CHECKPOINT_DIRECTORY);
const manifest = JSON.parse(readFileSync(join(directory, MANIFEST_FILE), 'utf8')) as Manifest;

describe('shipped checkpoints', () => {
  it('are the CNNs’, at the lab’s size; the ViT’s size is the lab’s ViT size', () => {
    expect(CHECKPOINT_MODELS).toEqual(MODEL_IDS.filter((model) => model !== 'vit_tiny'));
    expect(checkpointModelOptions('vit_tiny', 'source')).toEqual({ model: 'vit_tiny', width: 0.25, depth: 4, resolution: 32, stem: 'cifar', numClasses: 10 });
    expect(checkpointModelOptions('mobilenet_v2', 'source')).toEqual({ model: 'mobilenet_v2', width: 0.35, resolution: 32, stem: 'cifar', numClasses: 10 });
  });

  it('the manifest lists every model pretrained on the source and on classes 0–4, once each', () => {
    const listed = manifest.checkpoints.map((entry) => `${entry.model}/${entry.task}`);
    const expected = CHECKPOINT_MODELS.flatMap((model) => PRETRAIN_TASKS.map((task) => `${model}/${task}`));
    expect(listed.sort()).toEqual(expected.sort());
  });

  it.each(manifest.checkpoints.map((entry) => [entry.file, entry] as const))('%s: size and sha256 as listed, loads into its model', async (file, entry) => {
    await useCpuBackend();
    const bytes = readFileSync(join(directory, file));
    expect(bytes.length).toBe(entry.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
    // The lab's default size, with the task's head.
    expect(entry.options).toEqual(checkpointModelOptions(entry.model, entry.task));
    const model = createModel(buildModelSpec(entry.options), { seed: 0 });
    try {
      const loaded = loadTorchvisionSafetensors(model, bytes, { source: file });
      expect(loaded.notLoaded).toEqual([]);
    } finally {
      disposeModel(model);
    }
  });

  it('mobilenet_v2 (source) on its whole test split: exactly as accurate as the manifest says', async () => {
    // The wasm backend: ~10× faster than the CPU one here, and what the manifest was measured on,
    // with the same split (seed 0, `testImages` images) and chunking (evaluateDataset). Evaluation
    // is deterministic, so the count of correct images must be the manifest's to the image and the
    // loss the manifest's to float32 summation (1e-6); a 200-image subset would have needed a
    // ±7.5-point band (4 binomial standard errors) that no deterministic result needs.
    await useWasmBackend();
    const entry = manifest.checkpoints.find((e) => e.model === 'mobilenet_v2' && e.task === 'source');
    if (!entry) throw new Error('manifest lists no mobilenet_v2 source checkpoint');
    const model = createModel(buildModelSpec(entry.options), { seed: 0 });
    try {
      loadTorchvisionSafetensors(model, readFileSync(join(directory, entry.file)), { source: entry.file });
      const test = checkpointTestSet('source', entry.testImages);
      expect(test.labels.length).toBe(entry.testImages);
      const { accuracy, loss } = await evaluateDataset(model, test);
      expect(Math.round(accuracy * entry.testImages)).toBe(Math.round(entry.cleanTestAccuracy * entry.testImages));
      expect(Math.abs(loss / entry.cleanTestLoss - 1)).toBeLessThan(1e-6);
      // Far above chance (10 classes): the checkpoint is a trained one.
      expect(accuracy).toBeGreaterThan(0.5);
    } finally {
      disposeModel(model);
      await useCpuBackend();
    }
  });
});
