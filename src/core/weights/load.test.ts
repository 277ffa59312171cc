import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModelSpec } from '../models/registry';
import { createModel, disposeModel, readParams } from '../nn/model';
import { loadTorchvisionSafetensors, exportTorchvisionSafetensors } from './load';
import { readSafetensors, writeSafetensors } from './safetensors';

const spec = () => buildModelSpec({ model: 'mobilenet_v3_small', width: 0.25, resolution: 32, numClasses: 4, stem: 'imagenet' });

describe('torchvision safetensors ⇄ a tfjs model', () => {
  it('export then import into a differently seeded model reproduces every parameter', async () => {
    const a = createModel(spec(), { seed: 1 });
    const b = createModel(spec(), { seed: 2 });
    try {
      const bytes = await exportTorchvisionSafetensors(a, { note: 'test' });
      const file = readSafetensors(bytes);
      expect(file.metadata).toEqual({ format: 'pt', note: 'test' });
      expect(file.tensors['features.0.0.weight'].shape).toEqual([8, 3, 3, 3]); // OIHW
      expect(file.tensors['features.0.1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
      const before = await readParams(b);
      const result = loadTorchvisionSafetensors(b, bytes, { source: 'a.safetensors' });
      expect(result.notLoaded).toEqual([]);
      const pa = await readParams(a);
      const pb = await readParams(b);
      for (const name of Object.keys(pa)) expect(Array.from(pb[name]), name).toEqual(Array.from(pa[name]));
      expect(Array.from(before['features.0.0.weight'])).not.toEqual(Array.from(pa['features.0.0.weight']));
    } finally {
      disposeModel(a);
      disposeModel(b);
    }
  });

  it('a bad file leaves the model untouched and leaks no tensor', async () => {
    const model = createModel(spec(), { seed: 3 });
    try {
      const good = readSafetensors(await exportTorchvisionSafetensors(model)).tensors;
      const bad: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      for (const [name, t] of Object.entries(good)) {
        if (t.dtype === 'F32') bad[name] = { dtype: 'F32', shape: t.shape, data: new Float32Array(t.data.length).fill(0.5) };
      }
      bad['classifier.3.weight'] = { dtype: 'F32', shape: [5, 1024], data: new Float32Array(5 * 1024) };
      const before = await readParams(model);
      const tensors = tf.memory().numTensors;
      expect(() => loadTorchvisionSafetensors(model, writeSafetensors(bad), { source: 'bad.safetensors' })).toThrow(
        /bad\.safetensors does not match mobilenet_v3_small \(1 wrong shape\/dtype; nothing was loaded\):\n {2}key "classifier\.3\.weight": shape \[5, 1024\] in the file, expected \[4, \d+\]/,
      );
      expect(tf.memory().numTensors).toBe(tensors);
      const after = await readParams(model);
      for (const name of Object.keys(before)) expect(Array.from(after[name]), name).toEqual(Array.from(before[name]));
    } finally {
      disposeModel(model);
    }
  });
});
