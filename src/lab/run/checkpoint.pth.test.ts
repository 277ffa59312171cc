// Base weights 'imported' with a torch.save .pth (fixtures/pth, written by Debian's torch): the
// format is told by content (the name says nothing), the run's model (adapters included) gets the
// file's weights, and a hostile or cut file is refused with its own reason (one of another model
// with the size hint), the model untouched.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { pretrainedKeyOf } from '../baseWeights';
import { DEFAULT_CONFIG, methodOptionsOf, modelOptionsOf, type LabConfig } from '../config';
import { applyMethod } from '../../core/adapters';
import { DataError } from '../../core/data/types';
import { buildModelSpec } from '../../core/models/registry';
import { createModel, disposeModel, readParams } from '../../core/nn/model';
import { readPth } from '../../core/weights/pth';
import { paramLayouts, torchToLab } from '../../core/weights/torchvision';
import { loadBaseWeights, type BaseWeightsSource } from './checkpoint';
import { nothingServed, plainEnvironment } from './environment';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pth');
const fixture = (name: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(join(DIR, name)));
/** The size of fixtures/pth/mobilenet_v3_small_w005_cifar.pth, fine-tuned with LoRA. */
const CONFIG: LabConfig = { ...DEFAULT_CONFIG, model: 'mobilenet_v3_small', width: 0.05, stem: 'cifar', method: 'lora', rank: 2 };

/** Fields other base weights need (none for an imported file). */
const UNUSED = { hubUrl: 'http://127.0.0.1:9/' };

const source = (file: File): BaseWeightsSource => ({
  ...UNUSED,
  choice: 'imported',
  pretrainTask: 'source',
  environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed, pretrainedBases: { get: () => Promise.resolve(null) } }),
  freshHead: false,
  pretrainedKey: pretrainedKeyOf(CONFIG),
  importedFile: file,
});

describe("loadBaseWeights 'imported' with a .pth", () => {
  it('loads every base weight of the run model from the file torch wrote, whatever its name', async () => {
    const model = createModel(applyMethod(buildModelSpec(modelOptionsOf(CONFIG)), CONFIG.method, methodOptionsOf(CONFIG)), { seed: 5 });
    try {
      const status = await loadBaseWeights(model, model.spec, source(new File([fixture('mobilenet_v3_small_w005_cifar.pth')], 'base.weights')));
      expect(status).toEqual({ kind: 'loaded', origin: 'imported', file: 'base.weights', cleanTestAccuracy: null, headSkipped: false });
      const file = await readPth(fixture('mobilenet_v3_small_w005_cifar.pth'));
      const layouts = paramLayouts(model.spec);
      const loaded = await readParams(model);
      for (const name of ['features.0.0.weight', 'features.1.block.0.0.weight', 'classifier.3.weight', 'classifier.3.bias']) {
        expect(Array.from(loaded[name]), name).toEqual(Array.from(torchToLab(file[name].data, file[name].shape, layouts[name])));
      }
    } finally {
      disposeModel(model);
    }
  });

  it('a hostile or cut file is refused with its own reason, and the model keeps its weights', async () => {
    const model = createModel(buildModelSpec(modelOptionsOf(CONFIG)), { seed: 5 });
    try {
      const before = await readParams(model);
      const hostile = loadBaseWeights(model, model.spec, source(new File([fixture('tampered_system.pth')], 'tampered.pth')));
      await expect(hostile).rejects.toBeInstanceOf(DataError);
      await expect(hostile).rejects.toThrow(/^Base weights: tampered\.pth \(data\.pkl\): forbidden global posix\.system: .*nothing was run.*\(torch\.save\(model\.state_dict\(\), path\)\), not a whole model or other objects\.$/);
      // A legacy-format file is read, and refused as any state_dict of another model is.
      await expect(loadBaseWeights(model, model.spec, source(new File([fixture('legacy.pth')], 'old.pth')))).rejects.toThrow(
        /^Base weights: old\.pth does not match mobilenet_v3_small \(\d+ unexpected, \d+ missing; nothing was loaded\):\n {2}unexpected key "0\.weight" \(shape \[3, 2, 1, 1\]\)[^]*\nChoose weights of mobilenet_v3_small/,
      );
      const cut = fixture('mobilenet_v3_small_w005_cifar.pth').slice(0, 50_000);
      await expect(loadBaseWeights(model, model.spec, source(new File([cut], 'cut.pth')))).rejects.toThrow(/^Base weights: cut\.pth: is truncated/);
      const after = await readParams(model);
      for (const name of Object.keys(before)) expect(Array.from(after[name]), name).toEqual(Array.from(before[name]));
    } finally {
      disposeModel(model);
    }
  });
});
