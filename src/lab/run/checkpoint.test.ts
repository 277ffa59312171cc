// The base weights of a run in Node (tfjs CPU backend, no IndexedDB): an imported torchvision file
// that fits loads (its classifier skipped for a task with a new head), one that does not is refused
// with the key named and the model untouched; a base pretrained in this browser is found by its
// key (here in the session fallback, as where IndexedDB is unavailable); random init is said so.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pretrainedKeyOf, type PretrainedWeightsInfo } from '../baseWeights';
import { DEFAULT_CONFIG, methodOptionsOf, modelOptionsOf, type LabConfig } from '../config';
import { applyMethod } from '../../core/adapters';
import { DataError } from '../../core/data/types';
import { buildModelSpec } from '../../core/models/registry';
import type { ModelOptions } from '../../core/models/spec';
import { createModel, disposeModel, readParams, type Model } from '../../core/nn/model';
import { exportTorchvisionSafetensors } from '../../core/weights/load';
import { loadBaseWeights, type BaseWeightsSource } from './checkpoint';
import { getPretrainedWeights, storePretrainedWeights } from '../storage/pretrainedStore';
import { nothingServed, plainEnvironment } from './environment';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2 };

/** The model a run of `config` builds (the method's adapters included). */
function runModel(config: LabConfig, seed = 5): Model {
  return createModel(applyMethod(buildModelSpec(modelOptionsOf(config)), config.method, methodOptionsOf(config)), { seed });
}

/** A torchvision safetensors file of a plain model of `options`. */
async function weightsFile(options: ModelOptions, name: string): Promise<{ file: File; values: Record<string, Float32Array> }> {
  const model = createModel(buildModelSpec(options), { seed: 11 });
  try {
    const bytes = await exportTorchvisionSafetensors(model);
    return { file: new File([bytes as Uint8Array<ArrayBuffer>], name), values: await readParams(model) };
  } finally {
    disposeModel(model);
  }
}

const source = (config: LabConfig, choice: BaseWeightsSource['choice'], importedFile?: File): BaseWeightsSource => ({
  choice,
  pretrainTask: config.task === 'unseen_classes' ? 'source_0_4' : 'source',
  environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed, pretrainedBases: { get: getPretrainedWeights } }),
  freshHead: config.task === 'unseen_classes' || config.task === 'custom',
  pretrainedKey: pretrainedKeyOf(config),
  importedFile,
});

describe('loadBaseWeights', () => {
  it('an imported file of the model loads every base weight', async () => {
    const { file, values } = await weightsFile(modelOptionsOf(TINY), 'mine.safetensors');
    const model = runModel(TINY);
    try {
      const status = await loadBaseWeights(model, model.spec, source(TINY, 'imported', file));
      expect(status).toEqual({ kind: 'loaded', origin: 'imported', file: 'mine.safetensors', cleanTestAccuracy: null, headSkipped: false });
      const loaded = await readParams(model);
      expect(Array.from(loaded['features.0.0.weight'])).toEqual(Array.from(values['features.0.0.weight']));
      expect(Array.from(loaded['classifier.1.weight'])).toEqual(Array.from(values['classifier.1.weight']));
    } finally {
      disposeModel(model);
    }
  });

  it('a file of another size is refused naming the key, and nothing is loaded', async () => {
    const { file } = await weightsFile({ ...modelOptionsOf(TINY), width: 0.35 }, 'wide.safetensors');
    const model = runModel(TINY);
    try {
      const before = await readParams(model);
      const tensors = tf.memory().numTensors;
      const failure = loadBaseWeights(model, model.spec, source(TINY, 'imported', file));
      await expect(failure).rejects.toBeInstanceOf(DataError);
      await expect(failure).rejects.toThrow(/^Base weights: wide\.safetensors does not match mobilenet_v2 \(\d+ wrong shape\/dtype; nothing was loaded\):\n {2}key "features\.0\.0\.weight": shape \[16, 3, 3, 3\] in the file, expected \[8, 3, 3, 3\]/);
      expect(tf.memory().numTensors).toBe(tensors);
      const after = await readParams(model);
      for (const name of Object.keys(before)) expect(Array.from(after[name]), name).toEqual(Array.from(before[name]));
    } finally {
      disposeModel(model);
    }
  });

  it('the classifier of another class count: refused for the shift task, skipped for a new head', async () => {
    const { file, values } = await weightsFile({ ...modelOptionsOf(TINY), numClasses: 7 }, 'seven.safetensors');
    const shift = runModel(TINY);
    const unseen: LabConfig = { ...TINY, task: 'unseen_classes' };
    const fresh = runModel(unseen);
    try {
      await expect(loadBaseWeights(shift, shift.spec, source(TINY, 'imported', file))).rejects.toThrow(/key "classifier\.1\.weight": shape \[7, \d+\] in the file, expected \[10, \d+\]/);
      const headBefore = Array.from((await readParams(fresh))['classifier.1.weight']);
      const status = await loadBaseWeights(fresh, fresh.spec, source(unseen, 'imported', file));
      expect(status).toMatchObject({ kind: 'loaded', origin: 'imported', headSkipped: true });
      const loaded = await readParams(fresh);
      expect(Array.from(loaded['classifier.1.weight'])).toEqual(headBefore);
      expect(Array.from(loaded['features.0.0.weight'])).toEqual(Array.from(values['features.0.0.weight']));
    } finally {
      disposeModel(shift);
      disposeModel(fresh);
    }
  });

  it('without a file, or a base pretrained for this size, the run is refused with what to do', async () => {
    const model = runModel(TINY);
    try {
      await expect(loadBaseWeights(model, model.spec, source(TINY, 'imported'))).rejects.toThrow(/^Base weights: no weights file is chosen/);
      await expect(loadBaseWeights(model, model.spec, source(TINY, 'browser'))).rejects.toThrow(/^Base weights: no base model of this size is pretrained in this browser \(mobilenet_v2 at width 0\.25, 32×32, cifar stem, 10 classes\)/);
      expect(await loadBaseWeights(model, model.spec, source(TINY, 'random'))).toMatchObject({ kind: 'none', chosen: true });
    } finally {
      disposeModel(model);
    }
  });

  it('finds the base pretrained in this browser by its key (kept in memory where IndexedDB is missing)', async () => {
    const { file, values } = await weightsFile(modelOptionsOf(TINY), 'pretrained.safetensors');
    const info: PretrainedWeightsInfo = {
      key: pretrainedKeyOf(TINY),
      options: modelOptionsOf(TINY),
      task: 'source',
      cleanTestAccuracy: 0.25,
      cleanTestLoss: 2,
      testImages: 100,
      trainImages: 8,
      epochs: 1,
      steps: 1,
      batchSize: 8,
      peakLr: 2e-3,
      seed: 0,
      backend: 'cpu',
      trainSeconds: 1,
      storedAt: 0,
      bytes: file.size,
    };
    // Node has no IndexedDB: the store says it could not persist, and keeps it for the session.
    expect(await storePretrainedWeights(info, new Uint8Array(await file.arrayBuffer()))).toBe(false);
    const model = runModel(TINY);
    try {
      const status = await loadBaseWeights(model, model.spec, source(TINY, 'browser'));
      expect(status).toMatchObject({ kind: 'loaded', origin: 'browser', cleanTestAccuracy: 0.25, headSkipped: false });
      expect(Array.from((await readParams(model))['features.0.0.weight'])).toEqual(Array.from(values['features.0.0.weight']));
    } finally {
      disposeModel(model);
    }
  });
});
