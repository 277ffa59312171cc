// The engine on a quantized frozen base (CPU backend): packed storage of exactly the analytic
// bytes, values quantized on assignment, and a forward/backward that equals the float32 engine
// run on the dequantized weights.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyMethod, initializeDoraMagnitudes, mergeLoraModel, methodOptions } from '../adapters';
import { dequantize, setFusedKernels } from '../kernels/fused';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { dequantizeBlockwise, quantizeBlockwise, storedParamBytes } from '../quant/blockwise';
import { quantizeFrozenBase, withoutQuantizedStorage } from '../quant/quantizeBase';
import { computeGradients } from '../train/step';
import { forward } from './forward';
import { assignParams, createModel, disposeModel, readParams, type Model } from './model';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 16, numClasses: 10, stem: 'cifar' });

function quantizedSpec(method: 'lora' | 'dora', format: 'int8' | 'nf4'): ModelSpec {
  return quantizeFrozenBase(applyMethod(base, method, methodOptions()), method, format);
}

/** The same architecture stored float32, holding the quantized model's (dequantized) values. */
async function float32Twin(model: Model): Promise<Model> {
  const twin = createModel(withoutQuantizedStorage(model.spec), { seed: 99 });
  assignParams(twin, await readParams(model));
  return twin;
}

const batch = () => ({
  x: tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D,
  y: tf.tensor1d([1, 7], 'int32'),
});

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [va, vb] = [await a.data(), await b.data()];
  let worst = 0;
  for (let i = 0; i < va.length; i++) worst = Math.max(worst, Math.abs(va[i] - vb[i]));
  return worst;
}

describe('a model on a quantized frozen base', () => {
  for (const format of ['int8', 'nf4'] as const) {
    it(`${format}: packed codes and scales of exactly the stored bytes; values quantized on creation and on assignment`, async () => {
      const spec = quantizedSpec('lora', format);
      const model = createModel(spec, { seed: 3 });
      const quantizedNames = Object.values(spec.params).filter((p) => p.storage).map((p) => p.name);
      expect([...model.quantized.keys()]).toEqual(quantizedNames);
      for (const name of quantizedNames) {
        const { codes, scales } = model.quantized.get(name)!;
        expect(codes.dtype).toBe('int32');
        expect(scales.dtype).toBe('float32');
        expect((codes.size + scales.size) * 4).toBe(storedParamBytes(spec.params[name]));
        expect(model.variables.has(name)).toBe(false);
      }
      // Initial values: the float32 init, quantized.
      const fp32 = createModel(withoutQuantizedStorage(spec), { seed: 3 });
      const [values, initial] = [await readParams(model), await readParams(fp32)];
      const name = 'features.3.conv.1.0.weight'; // a depthwise conv
      expect(values[name]).toEqual(dequantizeBlockwise(quantizeBlockwise(initial[name], format)));
      // Assigned values (a float32 checkpoint) are quantized as they load.
      const loaded = Float32Array.from(initial[name], (v, i) => v * (1 + (i % 3)));
      assignParams(model, { [name]: loaded });
      expect((await readParams(model))[name]).toEqual(dequantizeBlockwise(quantizeBlockwise(loaded, format)));
      disposeModel(model);
      disposeModel(fp32);
    });

    it(`${format}: LoRA's logits and gradients equal the float32 engine's on the dequantized weights; nothing leaks`, async () => {
      const model = createModel(quantizedSpec('lora', format), { seed: 4 });
      const twin = await float32Twin(model);
      const { x, y } = batch();
      const before = tf.memory().numTensors;
      const logits = forward(model, x, { training: true });
      const twinLogits = forward(twin, x, { training: true });
      expect(await maxAbsDiff(logits, twinLogits)).toBeLessThan(1e-5);
      const trainable = new Set([...model.variables].filter(([, v]) => v.trainable).map(([n]) => n));
      const grads = computeGradients(model, { x, y }, trainable);
      const twinGrads = computeGradients(twin, { x, y }, trainable);
      expect(grads.grads.size).toBe(trainable.size);
      for (const [name, grad] of grads.grads) expect(await maxAbsDiff(grad, twinGrads.grads.get(name)!), name).toBeLessThan(1e-5);
      tf.dispose([logits, twinLogits, grads.loss, twinGrads.loss, ...grads.grads.values(), ...twinGrads.grads.values()]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      disposeModel(model);
      disposeModel(twin);
    });
  }

  it("DoRA's magnitudes and norm read the dequantized base weight", async () => {
    const model = createModel(quantizedSpec('dora', 'nf4'), { seed: 6 });
    initializeDoraMagnitudes(model);
    const twin = await float32Twin(model);
    initializeDoraMagnitudes(twin);
    const [values, twinValues] = [await readParams(model), await readParams(twin)];
    for (const name of Object.keys(values).filter((n) => n.endsWith('lora_magnitude_vector'))) {
      expect(Array.from(values[name]).every((v, i) => Math.abs(v - twinValues[name][i]) < 1e-6), name).toBe(true);
    }
    const { x } = batch();
    const [a, b] = [forward(model, x, { training: true }), forward(twin, x, { training: true })];
    expect(await maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([a, b, x]);
    disposeModel(model);
    disposeModel(twin);
  });

  it('the dequant kernel (CPU) gives quant/blockwise.ts\'s values in the weight\'s shape, padding dropped', async () => {
    const values = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 64) / 10));
    for (const format of ['int8', 'nf4'] as const) {
      const q = quantizeBlockwise(values, format);
      const codes = tf.tensor1d(q.codes, 'int32');
      const scales = tf.tensor1d(q.scales, 'float32');
      // Whatever setFusedKernels says: it replaces no tfjs op.
      const previous = setFusedKernels(false);
      const kernel = dequantize(codes, scales, format, [10, 20]);
      setFusedKernels(previous);
      expect(kernel.shape).toEqual([10, 20]);
      expect(await kernel.data()).toEqual(dequantizeBlockwise(q));
      tf.dispose([codes, scales, kernel]);
    }
  });

  it('a merged LoRA export is float32, folded onto the dequantized base weights', async () => {
    const model = createModel(quantizedSpec('lora', 'int8'), { seed: 8 });
    const adapted = 'features.2.conv.0.0';
    // A non-zero B, so the merge adds s·BA to the dequantized W.
    assignParams(model, { [`${adapted}.lora_B.weight`]: Float32Array.from({ length: model.variables.get(`${adapted}.lora_B.weight`)!.size }, (_, i) => 0.01 * (i % 5)) });
    const merged = mergeLoraModel(model);
    expect(merged.quantized.size).toBe(0);
    const [values, mergedValues] = [await readParams(model), await readParams(merged)];
    const a = tf.tensor(values[`${adapted}.lora_A.weight`]).reshape([-1, 4]);
    const b = tf.tensor(values[`${adapted}.lora_B.weight`]).reshape([4, -1]);
    const expected = tf.add(tf.tensor(values[`${adapted}.weight`]), tf.reshape(tf.mul(tf.matMul(a, b), 1), [-1]));
    expect(await maxAbsDiff(tf.tensor(mergedValues[`${adapted}.weight`]), expected)).toBeLessThan(1e-6);
    // An unadapted frozen weight (a depthwise conv) is exported as its dequantized values.
    expect(mergedValues['features.3.conv.1.0.weight']).toEqual(values['features.3.conv.1.0.weight']);
    tf.dispose([a, b, expected]);
    disposeModel(model);
    disposeModel(merged);
  });
});
