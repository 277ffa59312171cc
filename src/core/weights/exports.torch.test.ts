// The lab's exports against PyTorch and PEFT (fixtures/exports, made by
// scripts/fixtures/check_exports.py, which loads the merged file with load_state_dict(strict=True)
// and the adapter with PeftModel.from_pretrained): the files rebuilt here must be the very bytes
// PyTorch loaded (SHA-256), and the lab's logits must equal PyTorch's. Also the round trip: the
// merged file loaded back into the lab's base model gives the adapted model's logits.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildExportFixture,
  EXPORT_ALPHA,
  EXPORT_FILES,
  EXPORT_INPUT_SHAPE,
  EXPORT_VARIANTS,
  exportFileBytes,
  exportFixtureInput,
  exportFixtureSpec,
  exportFixtureValues,
  loadExportFixture,
  sha256,
} from '../../../scripts/fixtures/exportFixtures';
import { applyMethod, methodOptions } from '../adapters/definitions';
import { unloadAdapters } from '../adapters/lowRank';
import { buildModelSpec } from '../models/registry';
import { forward } from '../nn/forward';
import { assignParams, createModel, disposeModel } from '../nn/model';
import { mergeProblem, peftProblem } from './exportable';
import { loadTorchvisionSafetensors } from './load';
import { exportMergedSafetensors } from './merged';
import { exportPeftAdapter } from './peft';
import { readSafetensors } from './safetensors';
import { importTorchStateDict } from './torchvision';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** max|a − b| / max|b|, as check_exports.py measures. */
function relativeError(a: number[][], b: number[][]): number {
  const flatA = a.flat();
  const flatB = b.flat();
  expect(flatA.length).toBe(flatB.length);
  const diff = Math.max(...flatA.map((value, i) => Math.abs(value - flatB[i])));
  return diff / Math.max(...flatB.map(Math.abs));
}

async function evalLogits(spec: Parameters<typeof createModel>[0], load: (model: ReturnType<typeof createModel>) => void): Promise<number[][]> {
  const model = createModel(spec, { seed: 5 });
  try {
    load(model);
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(exportFixtureInput(), [...EXPORT_INPUT_SHAPE]), [0, 2, 3, 1]) as tf.Tensor4D);
    const logits = tf.tidy(() => forward(model, x, { training: false }));
    x.dispose();
    const values = await logits.array();
    logits.dispose();
    return values;
  } finally {
    disposeModel(model);
  }
}

describe.each(EXPORT_VARIANTS)('%s exports against PyTorch and PEFT', (variant) => {
  const fixture = loadExportFixture(variant);
  const spec = exportFixtureSpec(variant);
  const values = exportFixtureValues(spec);

  it('rebuilds the very files PyTorch and PEFT loaded', () => {
    const bytes = exportFileBytes(buildExportFixture(variant));
    for (const key of Object.keys(EXPORT_FILES) as (keyof typeof EXPORT_FILES)[]) {
      expect(sha256(bytes[key]), fixture.files[key].path).toBe(fixture.files[key].sha256);
    }
  });

  it("the adapted model's logits are PyTorch's from the merged file and PEFT's from the adapter", async () => {
    const tensors = tf.memory().numTensors;
    const lab = await evalLogits(spec, (model) => assignParams(model, values));
    expect(relativeError(lab, fixture.logits_merged)).toBeLessThan(1e-4);
    expect(relativeError(lab, fixture.logits_peft)).toBeLessThan(1e-4);
    // The adapters matter: without them (the base weights alone) the logits are far off.
    const baseSpec = unloadAdapters(spec);
    const base = await evalLogits(baseSpec, (model) => assignParams(model, Object.fromEntries(Object.keys(baseSpec.params).map((name) => [name, values[name]]))));
    expect(relativeError(base, fixture.logits_peft)).toBeGreaterThan(1e-2);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('round trip: the merged file loaded into the base model gives the adapted logits', async () => {
    const adapted = await evalLogits(spec, (model) => assignParams(model, values));
    const merged = exportMergedSafetensors(spec, values);
    const reloaded = await evalLogits(unloadAdapters(spec), (model) => {
      const result = loadTorchvisionSafetensors(model, merged, { source: 'merged.safetensors' });
      expect(result.notLoaded).toEqual([]);
    });
    expect(relativeError(reloaded, adapted)).toBeLessThan(1e-5);
  });

  it("writes PEFT's names, layouts and config", () => {
    const files = exportPeftAdapter(spec, values, { alpha: EXPORT_ALPHA });
    const config = JSON.parse(files.adapterConfig) as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, use_dora: variant === 'dora', bias: 'none', lora_dropout: 0 });
    expect(config.target_modules).toContain('features.0.0');
    expect(config.target_modules).toContain('classifier.1');
    // BatchNorms train (and their running statistics move): PEFT keeps them whole.
    expect(config.modules_to_save).toContain('features.0.1');
    const { tensors } = readSafetensors(files.adapterModel);
    expect(tensors['base_model.model.features.0.0.lora_A.weight'].shape).toEqual([4, 3, 3, 3]);
    expect(tensors['base_model.model.features.0.0.lora_B.weight'].shape).toEqual([16, 4, 1, 1]);
    expect(tensors['base_model.model.classifier.1.lora_A.weight'].shape).toEqual([4, 1280]);
    expect(tensors['base_model.model.classifier.1.lora_B.weight'].shape).toEqual([10, 4]);
    expect(tensors['base_model.model.features.0.1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
    if (variant === 'dora') {
      expect(tensors['base_model.model.features.0.0.lora_magnitude_vector'].shape).toEqual([1, 16, 1, 1]);
      expect(tensors['base_model.model.classifier.1.lora_magnitude_vector'].shape).toEqual([10]);
    } else {
      expect(Object.keys(tensors).some((key) => key.includes('magnitude'))).toBe(false);
    }
    // No frozen base weight travels in the adapter.
    expect(tensors['base_model.model.features.0.0.weight']).toBeUndefined();
  });
});

describe('what cannot be exported is refused, with the reason', () => {
  const base = () => buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' });

  it('LoRA on depthwise convs has neither a torchvision state_dict nor a PEFT adapter', () => {
    const spec = applyMethod(base(), 'lora', methodOptions({ targets: { depthwise: true } }));
    expect(mergeProblem(spec)).toMatch(/depthwise convs \(features\.1\.conv\.0\.0/);
    expect(peftProblem(spec)).toMatch(/grouped lora_B/);
    const values = exportFixtureValues(spec);
    expect(() => exportMergedSafetensors(spec, values)).toThrow(/merge: LoRA adapts depthwise convs/);
    expect(() => exportPeftAdapter(spec, values, { alpha: 4 })).toThrow(/PEFT adapter: LoRA adapts depthwise convs/);
  });

  it('methods without adapters merge as they are and have no PEFT adapter', () => {
    const spec = applyMethod(base(), 'fft', methodOptions());
    expect(mergeProblem(spec)).toBeNull();
    expect(peftProblem(spec)).toBe('only LoRA and DoRA have a PEFT adapter');
    const values = exportFixtureValues(spec);
    const { tensors } = readSafetensors(exportMergedSafetensors(spec, values));
    const back = importTorchStateDict(spec, tensors).values;
    for (const name of Object.keys(spec.params)) expect(back[name], name).toEqual(values[name]);
  });
});
