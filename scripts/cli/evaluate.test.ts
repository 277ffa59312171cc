import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
// 5-way head on classes 0–4, one not listed.
const listedOptions: ModelOptions = { model: 'mobilenet_v3_small', width: 0.25, resolution: 32, stem: 'cifar', numClasses: 5 };
const listed = join(dir, 'listed.safetensors');
const unlisted = join(dir, 'unlisted.safetensors');

beforeAll(async () => {
  await useCpuBackend();
  for (const [file, numClasses] of [[listed, 5], [unlisted, 10]] as const) {
    const model = createModel(buildModelSpec({ ...listedOptions, numClasses }), { seed: 1 });
    writeFileSync(file, await exportTorchvisionSafetensors(model));
    disposeModel(model);
  }
  const entry = { file: 'listed.safetensors', model: listedOptions.model, options: listedOptions, task: 'source_0_4', classes: [0, 1, 2, 3, 4] };
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ description: 'test', checkpoints: [entry] }));
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

  it('evaluates the clean split restricted to the head\'s classes, then each corruption', async () => {
    await useCpuBackend();
    const results = await runEvaluate({ ...optionsOf(['--checkpoint', listed, '--corruption', 'impulse_noise', '--count', '20']) });
    expect(results.map((r) => [r.corruption, r.severity, r.images])).toEqual([
      [null, null, 10],
      ['impulse_noise', 5, 10],
    ]);
    for (const r of results) {
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.loss)).toBe(true);
    }
  });

  it('names the checkpoint when its weights do not fit the model', async () => {
    await useCpuBackend();
    const options = optionsOf(['--checkpoint', unlisted, '--model', 'mobilenet_v3_small', '--width', '0.5', '--count', '10']);
    await expect(runEvaluate(options)).rejects.toThrow(/unlisted\.safetensors/);
  });
});
