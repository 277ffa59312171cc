import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { generateSyntheticDataset } from '../../src/core/data/synthetic';
import { buildModelSpec } from '../../src/core/models/registry';
import type { ModelOptions } from '../../src/core/models/spec';
import { createModel, disposeModel } from '../../src/core/nn/model';
import { exportTorchvisionSafetensors } from '../../src/core/weights/load';
import { MANIFEST_FILE } from '../pretrain/checkpoints';
import { evaluateCommand, evaluateOptionsFromFlags, runEvaluate } from './evaluate';
import { CliUsageError, parseFlags } from './flags';
import { useCpuBackend } from './tfjs';

const dir = mkdtempSync(join(tmpdir(), 'cli-evaluate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Tiny seeded-init checkpoints (MobileNetV3-small at width 0.25): one listed in a manifest with a
// 5-way head on classes 0–4, one not listed, and one listed with a 5-way head on classes
// 3, 1, 4, 0, 2 (in that head order) whose classifier answers the same logits for every image.
const listedOptions: ModelOptions = { model: 'mobilenet_v3_small', width: 0.25, resolution: 32, stem: 'cifar', numClasses: 5 };
const listed = join(dir, 'listed.safetensors');
const unlisted = join(dir, 'unlisted.safetensors');
const constant = join(dir, 'constant.safetensors');
const CONSTANT_CLASSES = [3, 1, 4, 0, 2];
/** The constant checkpoint's logits, by head position: it always answers head position 1 (class 1). */
const CONSTANT_LOGITS = [0.5, 2, -1, 0, 1.25];

beforeAll(async () => {
  await useCpuBackend();
  for (const [file, numClasses] of [[listed, 5], [unlisted, 10]] as const) {
    const model = createModel(buildModelSpec({ ...listedOptions, numClasses }), { seed: 1 });
    writeFileSync(file, await exportTorchvisionSafetensors(model));
    disposeModel(model);
  }
  // Last layer's weight zero and bias = CONSTANT_LOGITS: logits independent of the image.
  const model = createModel(buildModelSpec(listedOptions), { seed: 2 });
  const weight = model.variables.get('classifier.3.weight') as tf.Variable;
  weight.assign(tf.zerosLike(weight));
  (model.variables.get('classifier.3.bias') as tf.Variable).assign(tf.tensor1d(CONSTANT_LOGITS));
  writeFileSync(constant, await exportTorchvisionSafetensors(model));
  disposeModel(model);
  const entry = { file: 'listed.safetensors', model: listedOptions.model, options: listedOptions, task: 'source_0_4', classes: [0, 1, 2, 3, 4] };
  const constantEntry = { ...entry, file: 'constant.safetensors', classes: CONSTANT_CLASSES };
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ description: 'test', checkpoints: [entry, constantEntry] }));
});

const optionsOf = (argv: string[]) => evaluateOptionsFromFlags(parseFlags(argv, evaluateCommand.flags));

describe('cli evaluate', () => {
  it('takes model options and classes from the manifest beside the checkpoint, or from the flags', () => {
    const fromManifest = optionsOf(['--checkpoint', listed]);
    expect(fromManifest.modelOptions).toEqual(listedOptions);
    expect(fromManifest.classes).toEqual([0, 1, 2, 3, 4]);
    expect(fromManifest.corruptions).toEqual([]);
    const fromFlags = optionsOf(['--checkpoint', unlisted, '--model', 'mobilenet_v3_small', '--width', '0.25', '--corruption', 'fog,contrast']);
    expect(fromFlags.modelOptions).toEqual({ ...listedOptions, numClasses: 10 });
    expect(fromFlags.corruptions).toEqual(['fog', 'contrast']);
    expect(optionsOf(['--checkpoint', listed, '--corruption', 'all']).corruptions.length).toBeGreaterThanOrEqual(14);
  });

  it('rejects a missing file, an unlisted file without --model and an unknown corruption as usage errors', () => {
    expect(() => optionsOf(['--checkpoint', join(dir, 'none.safetensors')])).toThrow(CliUsageError);
    expect(() => optionsOf(['--checkpoint', unlisted])).toThrow(/is not listed in .*manifest\.json: give --model/);
    expect(() => optionsOf(['--checkpoint', listed, '--corruption', 'brightness,snow'])).toThrow(/unknown "snow" \(valid: all, .*brightness/);
  });

  it("evaluates the clean split restricted to the head's classes, then each corruption: accuracy and loss as counted from the labels", async () => {
    await useCpuBackend();
    // The constant checkpoint answers head position 1 (class 1) with the same logits b for every
    // image, so its accuracy is the share of class-1 images among those of its classes and its loss
    // the mean of logsumexp(b) − b[position of the label], counted here from the split's raw labels;
    // a corruption changes the images, not the labels, so it must give the same two numbers. The
    // split's labels cycle through the classes: 13 images hold classes 0–2 twice and 3–4 once, so a
    // wrong class-to-head mapping changes both numbers.
    const count = 13;
    const raw = generateSyntheticDataset({ split: 'test', count }).labels.filter((label) => CONSTANT_CLASSES.includes(label));
    const logSumExp = Math.log(CONSTANT_LOGITS.reduce((sum, b) => sum + Math.exp(b), 0));
    const expected = {
      images: raw.length,
      accuracy: raw.filter((label) => label === 1).length / raw.length,
      loss: raw.reduce((sum, label) => sum + logSumExp - CONSTANT_LOGITS[CONSTANT_CLASSES.indexOf(label)], 0) / raw.length,
    };
    expect(expected.accuracy).toBeGreaterThan(0);
    expect(expected.accuracy).toBeLessThan(1);
    const results = await runEvaluate({ ...optionsOf(['--checkpoint', constant, '--corruption', 'impulse_noise,fog', '--count', String(count)]) });
    expect(results.map((r) => [r.corruption, r.severity])).toEqual([
      [null, null],
      ['impulse_noise', 5],
      ['fog', 5],
    ]);
    for (const r of results) {
      expect(r.images).toBe(expected.images);
      expect(r.accuracy).toBe(expected.accuracy);
      expect(Math.abs(r.loss - expected.loss)).toBeLessThan(1e-5);
    }
  });

  it('evaluates the seeded-init checkpoint on as many images of classes 0–4 as the split holds', async () => {
    await useCpuBackend();
    const results = await runEvaluate({ ...optionsOf(['--checkpoint', listed, '--corruption', 'impulse_noise', '--count', '20']) });
    const images = generateSyntheticDataset({ split: 'test', count: 20 }).labels.filter((label) => label < 5).length;
    expect(results.map((r) => [r.corruption, r.severity, r.images])).toEqual([
      [null, null, images],
      ['impulse_noise', 5, images],
    ]);
    for (const r of results) expect(Number.isFinite(r.loss)).toBe(true);
  });

  it('names the checkpoint when its weights do not fit the model', async () => {
    await useCpuBackend();
    const options = optionsOf(['--checkpoint', unlisted, '--model', 'mobilenet_v3_small', '--width', '0.5', '--count', '10']);
    await expect(runEvaluate(options)).rejects.toThrow(/unlisted\.safetensors/);
  });
});
