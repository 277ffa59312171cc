// The lab's vit_tiny against timm's own vit_tiny_patch16_224 (fixtures/timm/vit_tiny.json, made by
// scripts/fixtures/make_vit_fixtures.py with timm 1.0.29, no download), at 224×224 as timm builds
// it and at the lab's width 0.25 / depth 2 / cifar stem at 32×32: the spec's parameter names are
// timm's state_dict keys in timm's order, the count is exact, the formula state_dict written from
// the lab's spec is timm's file byte for byte (its SHA-256), and the lab's eval-mode logits on the
// formula input equal timm's float64 logits to 1e-4 (max|lab − timm| / max|timm|). Import and
// export round-trip exactly (Linear [out, in] ⇄ [in, out], Conv OIHW ⇄ HWIO, cls_token
// [1, 1, D] ⇄ [1, D], pos_embed [1, T + 1, D] ⇄ [T + 1, D]).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORMULA_KIND_OF_ROLE, formulaValues, type FormulaKind } from '../../../scripts/fixtures/torchFixtures';
import type { StemId } from '../ids';
import { countParams } from '../models/count';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec, ParamRole } from '../models/spec';
import { forward } from '../nn/forward';
import { createModel, disposeModel, readParams } from '../nn/model';
import { loadTimmSafetensors, loadTorchvisionSafetensors } from './load';
import { readSafetensors, writeSafetensors } from './safetensors';
import { timmKeys, torchvisionToTimm, timmToTorchvision, type TypedStateDictTensor } from './timm';
import { exportTorchStateDict, paramLayouts, torchShapeOf } from './torchvision';

const FIXTURE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/timm');

interface VitConfig {
  lab_options: { width: number; depth: number; stem: StemId; resolution: number; num_classes: number };
  params: number;
  state_dict: { names: string[]; shapes: number[][]; file_sha256: string; file_bytes: number };
  input: { name: string; kind: 'unit'; shape: [number, number, number, number]; layout: 'NCHW' };
  torch_float32_rel_err: number;
}

const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, 'vit_tiny.json'), 'utf8')) as { architecture: string; logits_file: string; configs: Record<string, VitConfig> };
const timmLogits = readSafetensors(readFileSync(join(FIXTURE_DIR, fixture.logits_file))).tensors;

const FORMULA_KIND: Partial<Record<ParamRole, Exclude<FormulaKind, 'unit' | 'num_batches_tracked'>>> = FORMULA_KIND_OF_ROLE;

const specOf = ({ lab_options: o }: VitConfig): ModelSpec =>
  buildModelSpec({ model: 'vit_tiny', width: o.width, depth: o.depth, stem: o.stem, resolution: o.resolution, numClasses: o.num_classes });

/** The formula state_dict by the spec's (= timm's) names, in torch layouts, as the script builds it. */
function formulaStateDict(spec: ModelSpec): Record<string, TypedStateDictTensor> {
  const layouts = paramLayouts(spec);
  const out: Record<string, TypedStateDictTensor> = {};
  for (const [name, p] of Object.entries(spec.params)) {
    const kind = FORMULA_KIND[p.role];
    if (!kind) throw new Error(`no formula kind for ${name}`);
    const shape = torchShapeOf(p.shape, layouts[name]);
    out[name] = { dtype: 'F32', shape, data: formulaValues(name, kind, shape) };
  }
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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

describe('vit_tiny = timm vit_tiny_patch16_224 (fixtures/timm/vit_tiny.json)', () => {
  it('has both configurations, timm’s at 224×224 with 5,717,416 parameters', () => {
    expect(fixture.architecture).toBe('vit_tiny_patch16_224');
    expect(Object.keys(fixture.configs).sort()).toEqual(['cifar_32_w025_d2', 'imagenet_224']);
    expect(fixture.configs.imagenet_224.params).toBe(5_717_416);
  });

  for (const [name, config] of Object.entries(fixture.configs)) {
    it(`${name}: timm’s names in timm’s order and shapes, exact count, the same file and logits; import/export round-trip`, async () => {
      const spec = specOf(config);
      expect(Object.keys(spec.params)).toEqual(config.state_dict.names);
      const layouts = paramLayouts(spec);
      expect(Object.values(spec.params).map((p) => torchShapeOf(p.shape, layouts[p.name]))).toEqual(config.state_dict.shapes);
      expect(countParams(spec).total).toBe(config.params);

      const stateDict = formulaStateDict(spec);
      const bytes = writeSafetensors(stateDict);
      expect(bytes.length).toBe(config.state_dict.file_bytes);
      expect(sha256(bytes)).toBe(config.state_dict.file_sha256);

      const lab = createModel(spec, { seed: 1 });
      try {
        const result = config.lab_options.width === 1 ? loadTimmSafetensors(lab, bytes, { source: 'vit.safetensors' }) : loadTorchvisionSafetensors(lab, bytes);
        expect(result.notLoaded).toEqual([]);
        const logits = tf.tidy(() => {
          const nchw = tf.tensor4d(formulaValues(config.input.name, config.input.kind, config.input.shape), config.input.shape);
          return forward(lab, tf.transpose(nchw, [0, 2, 3, 1]), { training: false });
        });
        const values = await logits.data();
        logits.dispose();
        const reference = timmLogits[name];
        expect(reference.shape).toEqual([config.input.shape[0], config.lab_options.num_classes]);
        const error = relativeError(values, reference.data);
        console.log(`${name}: lab vs timm float64 logits, relative error ${error.toExponential(2)} (torch float32: ${config.torch_float32_rel_err.toExponential(2)})`);
        expect(error).toBeLessThanOrEqual(1e-4);

        // Export gives the file's tensors back, value for value (a layout change only).
        const exported = exportTorchStateDict(spec, await readParams(lab));
        expect(Object.keys(exported)).toEqual(Object.keys(stateDict));
        for (const [key, t] of Object.entries(stateDict)) {
          expect(exported[key].shape, key).toEqual(t.shape);
          expect(Array.from(exported[key].data).every((v, i) => v === t.data[i]), key).toBe(true);
        }
      } finally {
        disposeModel(lab);
      }
    });
  }

  it('the timm mapping is the identity on names and refuses what timm has no weights for', () => {
    const spec = specOf(fixture.configs.imagenet_224);
    const keys = timmKeys(spec);
    expect(keys.every((k) => k.timm === k.torchvision && !k.counter)).toBe(true);
    expect(keys.find((k) => k.timm === 'pos_embed')?.timmShape).toEqual([1, 197, 192]);
    const file = formulaStateDict(spec);
    expect(Object.keys(torchvisionToTimm(spec, timmToTorchvision(spec, file)))).toEqual(Object.keys(file));
    expect(() => timmKeys(specOf(fixture.configs.cifar_32_w025_d2))).toThrow(/timm's vit_tiny_patch16_224 is vit_tiny at width 1; this model has width 0\.25/);
    // timm's 224×224 file on a 32×32 imagenet-stem model: the position embedding does not fit.
    const small = buildModelSpec({ model: 'vit_tiny', width: 1, stem: 'imagenet', resolution: 32, numClasses: 1000 });
    expect(() => timmToTorchvision(small, file, { source: 'hub.safetensors' })).toThrow(/key "pos_embed": shape \[1, 197, 192\] in the file, expected \[1, 5, 192\]/);
  });
});
