// The timm mapping against timm itself (fixtures/timm, made by scripts/fixtures/make_timm_fixtures.py
// with pip's timm 1.0.29, no download): timm's state_dict of each architecture filled with the hash
// formula by timm's names, and its eval-mode logits in float64. Here the same state_dict is rebuilt
// from the lab's spec through the mapping (its SHA-256 pins every timm name, shape and layout), loaded
// into the lab's model and run: logits must agree to 1e-4, relative error max|lab − timm| / max|timm|.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORMULA_KIND_OF_ROLE, formulaValues, type FormulaKind } from '../../../scripts/fixtures/torchFixtures';
import { applyMethod, methodOptions } from '../adapters';
import { MODEL_IDS, type ModelId } from '../ids';
import { countParams } from '../models/count';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec, ParamRole } from '../models/spec';
import { forward } from '../nn/forward';
import { createModel, disposeModel, readParams } from '../nn/model';
import { loadTimmSafetensors } from './load';
import { readSafetensors, writeSafetensors } from './safetensors';
import { TIMM_ARCHITECTURES, TIMM_BN_EPS, timmKeys, timmToTorchvision, torchvisionToTimm, type TypedStateDictTensor } from './timm';
import { headParamNames } from './torchvision';

const FIXTURE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/timm');

interface TimmFixture {
  resolution: number;
  num_classes: number;
  input: { name: string; kind: 'unit'; shape: number[]; layout: 'NCHW' };
  logits_file: string;
  models: Record<Exclude<ModelId, 'vit_tiny'>, {
    architecture: string;
    params: number;
    bn_eps: number[];
    state_dict: { keys: number; file_sha256: string; file_bytes: number };
    torch_float32_rel_err: number;
  }>;
}

/** The CNNs of fixtures/timm/timm.json; vit_tiny has fixtures and a test of its own (vit.timm.test.ts). */
const CNN_IDS = MODEL_IDS.filter((model) => model !== 'vit_tiny');

const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, 'timm.json'), 'utf8')) as TimmFixture;
const timmLogits = readSafetensors(readFileSync(join(FIXTURE_DIR, fixture.logits_file))).tensors;

const FORMULA_KIND: Partial<Record<ParamRole, Exclude<FormulaKind, 'unit' | 'num_batches_tracked'>>> = FORMULA_KIND_OF_ROLE;

const timmSpec = (model: ModelId, options: { resolution?: number; numClasses?: number; width?: number } = {}): ModelSpec =>
  buildModelSpec({ model, width: options.width ?? 1, resolution: options.resolution ?? fixture.resolution, numClasses: options.numClasses ?? 1000, stem: 'imagenet' });

/** timm's state_dict of the spec's model with the fixtures' formula keyed by timm's names, as the script builds it. */
function formulaTimmStateDict(spec: ModelSpec): Record<string, TypedStateDictTensor> {
  const out: Record<string, TypedStateDictTensor> = {};
  for (const key of timmKeys(spec)) {
    if (key.counter) {
      out[key.timm] = { dtype: 'I64', shape: [], data: [0] };
      continue;
    }
    const kind = FORMULA_KIND[spec.params[key.torchvision].role];
    if (!kind) throw new Error(`no formula kind for ${key.torchvision}`);
    out[key.timm] = { dtype: 'F32', shape: key.timmShape, data: formulaValues(key.timm, kind, key.timmShape) };
  }
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** max|a − b| / max|b|; NaN counts as the worst. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('timm → the lab, against timm (eval-mode logits, fixtures/timm)', () => {
  it('covers every model with the architecture the mapping names', () => {
    expect(Object.keys(fixture.models).sort()).toEqual([...CNN_IDS].sort());
    for (const model of CNN_IDS) {
      expect(fixture.models[model].architecture).toBe(TIMM_ARCHITECTURES[model]);
      expect(fixture.models[model].bn_eps).toEqual([TIMM_BN_EPS]);
    }
  });

  for (const model of CNN_IDS) {
    it(`${model} (${TIMM_ARCHITECTURES[model]}): same state_dict, parameter count and logits as timm`, async () => {
      const expected = fixture.models[model];
      const spec = timmSpec(model);
      expect(countParams(spec).total).toBe(expected.params);

      const timmStateDict = formulaTimmStateDict(spec);
      expect(Object.keys(timmStateDict)).toHaveLength(expected.state_dict.keys);
      const bytes = writeSafetensors(timmStateDict);
      expect(bytes.length).toBe(expected.state_dict.file_bytes);
      expect(sha256(bytes)).toBe(expected.state_dict.file_sha256);

      // The inverse gives timm's file back (running variances up to float32 rounding of the eps fold).
      const roundTrip = torchvisionToTimm(spec, timmToTorchvision(spec, timmStateDict));
      expect(Object.keys(roundTrip).sort()).toEqual(Object.keys(timmStateDict).sort());
      for (const [name, t] of Object.entries(timmStateDict)) {
        expect(roundTrip[name].shape, name).toEqual(t.shape);
        expect(roundTrip[name].dtype, name).toBe(t.dtype);
        const back = roundTrip[name].data;
        let maxDiff = back.length === t.data.length ? 0 : Infinity;
        for (let i = 0; i < t.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(back[i] - t.data[i]));
        // Running variances are 0.5–1.5 here: the fold (± ~1e-3) rounds within one float32 ulp (1.2e-7).
        expect(maxDiff, name).toBeLessThanOrEqual(name.endsWith('running_var') ? 1.2e-7 : 0);
      }

      const lab = createModel(spec, { seed: 1 });
      try {
        const result = loadTimmSafetensors(lab, bytes, { source: `${TIMM_ARCHITECTURES[model]}.safetensors` });
        expect(result.notLoaded).toEqual([]);
        const logits = tf.tidy(() => {
          const nchw = tf.tensor4d(formulaValues(fixture.input.name, fixture.input.kind, fixture.input.shape), fixture.input.shape as [number, number, number, number]);
          return forward(lab, tf.transpose(nchw, [0, 2, 3, 1]), { training: false });
        });
        const values = await logits.data();
        logits.dispose();
        const reference = timmLogits[model];
        expect(reference.shape).toEqual([fixture.input.shape[0], fixture.num_classes]);
        expect(relativeError(values, reference.data)).toBeLessThanOrEqual(1e-4);
      } finally {
        disposeModel(lab);
      }
    });
  }
});

describe('timm mapping: bad input and the new head', () => {
  it('names every wrong, unknown and missing timm key, and loads nothing', async () => {
    const spec = timmSpec('mobilenet_v3_small', { resolution: 32 });
    const file = formulaTimmStateDict(spec);
    file['blocks.0.0.se.fc1.weight'] = file['blocks.0.0.se.conv_reduce.weight'];
    delete file['blocks.0.0.se.conv_reduce.weight'];
    file['conv_head.weight'] = { ...file['conv_head.weight'], shape: [1024, 576] }; // torchvision's Linear shape
    const model = createModel(spec, { seed: 2 });
    try {
      const before = await readParams(model);
      const tensors = tf.memory().numTensors;
      let message = '';
      try {
        loadTimmSafetensors(model, writeSafetensors(file), { source: 'bad.safetensors' });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toBe(
        "bad.safetensors does not match timm's mobilenetv3_small_100 as the lab's mobilenet_v3_small (1 wrong shape/dtype, 1 unexpected, 1 missing; nothing was loaded):\n" +
          '  key "conv_head.weight": shape [1024, 576] in the file, expected [1024, 576, 1, 1]\n' +
          '  unexpected key "blocks.0.0.se.fc1.weight" (shape [8, 16, 1, 1]): timm\'s mobilenetv3_small_100 has no such key\n' +
          '  missing key "blocks.0.0.se.conv_reduce.weight" (expected shape [8, 16, 1, 1])',
      );
      expect(tf.memory().numTensors).toBe(tensors);
      const after = await readParams(model);
      for (const name of Object.keys(before)) expect(after[name].every((v, i) => v === before[name][i]), name).toBe(true);
    } finally {
      disposeModel(model);
    }
  });

  it('a non-float tensor and a width timm has no weights for are refused by name', () => {
    const spec = timmSpec('resnet18', { resolution: 32 });
    const file = formulaTimmStateDict(spec);
    file['fc.bias'] = { dtype: 'I64', shape: [1000], data: new Array<number>(1000).fill(0) };
    expect(() => timmToTorchvision(spec, file, { source: 'r.safetensors' })).toThrow(
      /^r\.safetensors does not match timm's resnet18 as the lab's resnet18 \(1 wrong shape\/dtype; nothing was loaded\):\n {2}key "fc\.bias": dtype I64, expected a float dtype/,
    );
    expect(() => timmKeys(timmSpec('mobilenet_v2', { width: 0.5 }))).toThrow(/timm's mobilenetv2_100 is mobilenet_v2 at width 1; this model has width 0\.5/);
  });

  it('folds the eps difference into the running variance (MobileNetV3 only) and maps the 1×1 conv head', () => {
    for (const model of CNN_IDS) {
      const spec = timmSpec(model, { resolution: 32 });
      const file = formulaTimmStateDict(spec);
      const torchvision = timmToTorchvision(spec, file);
      const fold = model.startsWith('mobilenet_v3') ? TIMM_BN_EPS - 1e-3 : 0;
      const [bnVar, timmBnVar] = model === 'resnet18' ? ['bn1.running_var', 'bn1.running_var'] : ['features.0.1.running_var', 'bn1.running_var'];
      const folded = torchvision[bnVar].data;
      const timmValues = file[timmBnVar].data;
      for (let i = 0; i < folded.length; i++) expect(folded[i]).toBe(Math.fround(timmValues[i] + fold));
    }
    const spec = timmSpec('mobilenet_v3_large', { resolution: 32 });
    const torchvision = timmToTorchvision(spec, formulaTimmStateDict(spec));
    expect(torchvision['classifier.0.weight'].shape).toEqual([1280, 960]);
    expect(torchvision['classifier.3.weight'].shape).toEqual([1000, 1280]);
  });

  it('a 1000-class timm file gives the task a new head when the head is skipped', async () => {
    const spec = timmSpec('mobilenet_v2', { resolution: 32, numClasses: 10 });
    // Without the num_batches_tracked counters, which a timm file need not have.
    const file = formulaTimmStateDict(timmSpec('mobilenet_v2', { resolution: 32 }));
    const bytes = writeSafetensors(Object.fromEntries(Object.entries(file).filter(([name]) => !name.endsWith('.num_batches_tracked'))));
    const model = createModel(spec, { seed: 3 });
    try {
      expect(() => loadTimmSafetensors(model, bytes)).toThrow(/key "classifier\.weight": shape \[1000, 1280\] in the file, expected \[10, 1280\]/);
      const before = await readParams(model);
      const result = loadTimmSafetensors(model, bytes, { skip: headParamNames(spec) });
      expect(result.notLoaded).toEqual(['classifier.1.weight', 'classifier.1.bias']);
      const after = await readParams(model);
      expect(Array.from(after['classifier.1.weight'])).toEqual(Array.from(before['classifier.1.weight']));
      expect(Array.from(after['features.0.0.weight'])).not.toEqual(Array.from(before['features.0.0.weight']));
    } finally {
      disposeModel(model);
    }
  });

  it('maps the same keys for a model with adapters (which a timm file has not)', () => {
    const spec = timmSpec('mobilenet_v3_small', { resolution: 32 });
    for (const method of ['lora', 'dora'] as const) {
      const adapted = applyMethod(spec, method, methodOptions());
      expect(timmKeys(adapted)).toEqual(timmKeys(spec));
    }
  });
});
