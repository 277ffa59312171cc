// DoRA's gradients against finite differences of the function whose gradient DoRA (and PEFT)
// computes: the same output with the norm ‖W + s·BA‖ frozen at its current value. That function is
// written here independently of the interpreter (plain tf ops, the norm a constant); its value must
// equal the interpreter's, and its central differences the interpreter's gradients. Each parameter
// element enters it linearly, so central differences are exact up to rounding. The true function's
// differences (norm not frozen) must NOT match, which shows the test can tell the conventions apart.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { SpecBuilder } from '../models/builder';
import { forward } from '../nn/forward';
import { assignParams, createModel, type Model } from '../nn/model';
import { gaussianMatrix } from '../optim/linalg';
import { applyMethod, compositeWeightNorm, initializeDoraMagnitudes, methodOptions } from './index';
import type { DoraCombineNode } from '../models/spec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const RANK = 2;
const ALPHA = 3;
const SCALING = ALPHA / RANK;

async function doraModel(): Promise<Model> {
  const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: 6, numClasses: 3, stem: 'imagenet' });
  let x = b.conv('conv', b.input, { outChannels: 4, kernel: 3, bias: true });
  x = b.flatten('flatten', x);
  x = b.linear('fc', x, { outFeatures: 3, weightInit: { kind: 'kaiming_uniform', a: Math.sqrt(5) }, biasInit: { kind: 'zeros' } });
  const spec = applyMethod(b.build(x), 'dora', methodOptions({ rank: RANK, alpha: ALPHA }));
  const model = createModel(spec, { seed: 9 });
  initializeDoraMagnitudes(model);
  // Away from the initial point: B ≠ 0 (else A gets no gradient), m ≠ ‖W‖, biases ≠ 0.
  let seed = 40;
  const noise = async (name: string, scale: number, offset = 0) => {
    const variable = model.variables.get(name) as tf.Variable;
    const base = await variable.data();
    return gaussianMatrix(1, variable.size, seed++).map((v, i) => offset * base[i] + scale * v);
  };
  assignParams(model, {
    'conv.lora_B.weight': await noise('conv.lora_B.weight', 0.3),
    'fc.lora_B.weight': await noise('fc.lora_B.weight', 0.3),
    'conv.lora_magnitude_vector': await noise('conv.lora_magnitude_vector', 0.2, 1),
    'fc.lora_magnitude_vector': await noise('fc.lora_magnitude_vector', 0.2, 1),
    'conv.bias': await noise('conv.bias', 0.1),
    'fc.bias': await noise('fc.bias', 0.1),
  });
  return model;
}

type Values = Record<string, tf.Tensor>;

/** DoRA with the norms given as constants (conv 3×3 pad 1 → flatten → linear), in plain tf ops. */
function frozenNormOutput(x: tf.Tensor4D, p: Values, convNorm: tf.Tensor, fcNorm: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const convBase = tf.conv2d(x, p['conv.weight'] as tf.Tensor4D, 1, 1);
    const convDelta = tf.conv2d(tf.conv2d(x, p['conv.lora_A.weight'] as tf.Tensor4D, 1, 1), p['conv.lora_B.weight'] as tf.Tensor4D, 1, 0);
    const h = tf.add(tf.mul(tf.div(p['conv.lora_magnitude_vector'], convNorm), tf.add(convBase, tf.mul(convDelta, SCALING))), p['conv.bias']);
    const flat = tf.reshape(h, [x.shape[0], -1]) as tf.Tensor2D;
    const fcBase = tf.matMul(flat, p['fc.weight'] as tf.Tensor2D);
    const fcDelta = tf.matMul(tf.matMul(flat, p['fc.lora_A.weight'] as tf.Tensor2D), p['fc.lora_B.weight'] as tf.Tensor2D);
    return tf.add(tf.mul(tf.div(p['fc.lora_magnitude_vector'], fcNorm), tf.add(fcBase, tf.mul(fcDelta, SCALING))), p['fc.bias']);
  });
}

async function weightedSum(out: tf.Tensor, weights: Float64Array): Promise<number> {
  const values = await out.data();
  out.dispose();
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * weights[i];
  return sum;
}

const CHECKED = ['conv.lora_A.weight', 'conv.lora_B.weight', 'conv.lora_magnitude_vector', 'fc.lora_A.weight', 'fc.lora_B.weight', 'fc.lora_magnitude_vector'];

describe('DoRA gradients (norm treated as a constant)', () => {
  it('match central differences of the frozen-norm function, and differ from the true function\'s', async () => {
    const model = await doraModel();
    const x = tf.tensor4d(gaussianMatrix(2, 6 * 6 * 3, 3), [2, 6, 6, 3]);
    const weights = Float64Array.from(gaussianMatrix(1, 2 * 3, 5));
    const r = tf.tensor2d(Float32Array.from(weights), [2, 3]);
    const combine = (id: string) => model.spec.nodes.find((n) => n.id === id) as DoraCombineNode;
    const get = (name: string) => model.variables.get(name) as tf.Variable;
    const convNorm = compositeWeightNorm(combine('conv.dora'), get);
    const fcNorm = compositeWeightNorm(combine('fc.dora'), get);

    // Same value as the interpreter.
    const interpreted = forward(model, x, { training: true });
    const independent = frozenNormOutput(x, Object.fromEntries(model.variables), convNorm, fcNorm);
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(interpreted, independent))));
    expect((await difference.data())[0]).toBeLessThan(1e-5);
    difference.dispose();
    tf.dispose([interpreted, independent]);

    const variables = CHECKED.map(get);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(model, x, { training: true }), r)), variables);

    for (const name of CHECKED) {
      const analytic = await grads[get(name).name].data();
      const base = Float32Array.from(await get(name).data());
      const size = base.length;
      const indices = Array.from({ length: Math.min(size, 8) }, (_, i) => Math.floor((i * size) / Math.min(size, 8)));
      const difference = async (h: number, frozen: boolean) => {
        const numeric: number[] = [];
        for (const index of indices) {
          const at = async (delta: number) => {
            const shifted = base.slice();
            shifted[index] += delta;
            get(name).assign(tf.tensor(shifted, get(name).shape));
            const out = frozen
              ? frozenNormOutput(x, Object.fromEntries(model.variables), convNorm, fcNorm)
              : forward(model, x, { training: true });
            return weightedSum(out, weights);
          };
          numeric.push(((await at(h)) - (await at(-h))) / (2 * h));
        }
        get(name).assign(tf.tensor(base, get(name).shape));
        return numeric;
      };
      const relativeError = (numeric: number[]) => {
        let error = 0;
        let scale = 0;
        indices.forEach((index, k) => {
          error = Math.max(error, Math.abs(analytic[index] - numeric[k]));
          scale = Math.max(scale, Math.abs(numeric[k]));
        });
        return error / scale;
      };
      expect(relativeError(await difference(0.5, true)), name).toBeLessThan(1e-3);
      // The norm depends on A and B (not on m): there the true function's gradient differs.
      if (!name.endsWith('magnitude_vector')) expect(relativeError(await difference(1e-2, false)), name).toBeGreaterThan(1e-2);
    }
    tf.dispose([x, r, convNorm, fcNorm, ...Object.values(grads)]);
  });
});
