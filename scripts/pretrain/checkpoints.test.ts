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
import { CHECKPOINT_DIRECTORY, checkpointModelOptions, checkpointTestSet, evaluateDataset, MANIFEST_FILE, type Manifest } from './checkpoints';

const directory = resolve(dirname(fileURLToPath(import.meta.url)), '../..', CHECKPOINT_DIRECTORY);
const manifest = JSON.parse(readFileSync(join(directory, MANIFEST_FILE), 'utf8')) as Manifest;

describe('shipped checkpoints', () => {
  it('the manifest lists every model pretrained on the source and on classes 0–4, once each', () => {
    const listed = manifest.checkpoints.map((entry) => `${entry.model}/${entry.task}`);
    const expected = MODEL_IDS.flatMap((model) => PRETRAIN_TASKS.map((task) => `${model}/${task}`));
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

  it('mobilenet_v2 (source) on 200 test images: well above chance, and as accurate as the manifest says', async () => {
    // The wasm backend: ~10× faster than the CPU one here, and what the manifest was measured on.
    await useWasmBackend();
    const entry = manifest.checkpoints.find((e) => e.model === 'mobilenet_v2' && e.task === 'source');
    if (!entry) throw new Error('manifest lists no mobilenet_v2 source checkpoint');
    const model = createModel(buildModelSpec(entry.options), { seed: 0 });
    try {
      loadTorchvisionSafetensors(model, readFileSync(join(directory, entry.file)), { source: entry.file });
      // The first 200 images of the manifest's test split (images depend on their index only).
      const count = 200;
      const { accuracy } = await evaluateDataset(model, checkpointTestSet('source', count));
      // A 200-image subset's accuracy has a binomial standard error √(p(1 − p)/200) (≤ 3.5 points):
      // above chance by 4 of chance's, and within 4 of the manifest's accuracy.
      const standardError = (p: number) => Math.sqrt((p * (1 - p)) / count);
      const chance = 1 / entry.classes.length;
      expect(accuracy).toBeGreaterThan(chance + 4 * standardError(chance));
      expect(Math.abs(accuracy - entry.cleanTestAccuracy)).toBeLessThanOrEqual(4 * standardError(entry.cleanTestAccuracy));
    } finally {
      disposeModel(model);
      await useCpuBackend();
    }
  });
});
