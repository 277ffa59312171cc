import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { buildModelSpec } from '../models/registry';
import { forward } from '../nn/forward';
import { assignParams, createModel, disposeModel, readParams, type Model } from '../nn/model';
import { gaussianMatrix } from '../optim/linalg';
import { applyMethod, initializeDoraMagnitudes, mergeLoraModel, mergeLoraValues, methodOptions, unloadAdapters, unmergeLoraValues } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 16, numClasses: 10, stem: 'imagenet' });
const images = () => tf.tensor4d(gaussianMatrix(2, 16 * 16 * 3, 1), [2, 16, 16, 3]);

async function logits(model: Model, training = false): Promise<Float32Array> {
  const x = images();
  const y = forward(model, x, { training });
  const values = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return values;
}

/** max |a − b| / max |b|: the output's scale varies with the init, the error bound should not. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** B ← seeded noise, so the adapters change the output. */
function perturbLoraB(model: Model): void {
  const values: Record<string, Float32Array> = {};
  let seed = 100;
  for (const [name, param] of Object.entries(model.spec.params)) {
    if (param.role !== 'adapter_b') continue;
    const size = param.shape.reduce((a, b) => a * b, 1);
    values[name] = gaussianMatrix(1, size, seed++).map((v) => 0.3 * v);
  }
  assignParams(model, values);
}

describe('adapted models equal the base model at initialisation', () => {
  for (const method of ['lora', 'dora'] as const) {
    for (const depthwise of method === 'lora' ? [false, true] : [false]) {
      it(`${method}${depthwise ? ' (depthwise targeted too)' : ''}: same logits in eval and training mode`, async () => {
        const base = createModel(spec, { seed: 3 });
        const adapted = createModel(applyMethod(spec, method, methodOptions({ targets: { depthwise } })), { seed: 3 });
        if (method === 'dora') initializeDoraMagnitudes(adapted);
        for (const training of [false, true]) {
          expect(relativeDifference(await logits(adapted, training), await logits(base, training))).toBeLessThan(1e-6);
        }
        disposeModel(base);
        disposeModel(adapted);
      });
    }
  }
});

describe('LoRA merge and unmerge', () => {
  it('merged (live and on arrays) and unmerged models give the same output; unmerge restores W', async () => {
    const adapted = createModel(applyMethod(spec, 'lora', methodOptions({ rank: 3, alpha: 6 })), { seed: 5 });
    perturbLoraB(adapted);
    const unmergedLogits = await logits(adapted);
    const base = createModel(spec, { seed: 5 });
    const baseLogits = await logits(base);
    expect(relativeDifference(unmergedLogits, baseLogits)).toBeGreaterThan(1e-2);

    const live = mergeLoraModel(adapted);
    expect(live.spec).toEqual(unloadAdapters(adapted.spec));
    expect(relativeDifference(await logits(live), unmergedLogits)).toBeLessThan(1e-5);

    const values = await readParams(adapted);
    const merged = mergeLoraValues(adapted.spec, values);
    const baseNames = Object.keys(base.spec.params);
    assignParams(base, Object.fromEntries(baseNames.map((name) => [name, merged[name]])));
    expect(relativeDifference(await logits(base), unmergedLogits)).toBeLessThan(1e-5);

    const restored = unmergeLoraValues(adapted.spec, merged);
    for (const name of baseNames) {
      const maxError = restored[name].reduce((m, v, i) => Math.max(m, Math.abs(v - values[name][i])), 0);
      expect(maxError, name).toBeLessThan(1e-6);
    }
    [adapted, base, live].forEach(disposeModel);
  });

  it('refuses to merge an adapted depthwise conv and DoRA', () => {
    const depthwise = applyMethod(spec, 'lora', methodOptions({ targets: { depthwise: true, layers: ['features.1.conv.0.0'] } }));
    expect(() => mergeLoraValues(depthwise, {})).toThrow(/depthwise/);
    expect(() => mergeLoraValues(applyMethod(spec, 'dora', methodOptions()), {})).toThrow(/DoRA/);
  });
});
