// LoRA's and DoRA's combine ops: gradients against tfjs's auto-diff of the plain formula (DoRA's norm
// a constant, as PEFT detaches it), for the subsets of wanted gradients the gradient plan can ask
// for, and what each op keeps for the backward (what its forward leaves alive beyond its output).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DoraCombineNode, LoraAddNode } from '../models/spec';
import { createRng } from '../rng';
import { compositeNorm, setFusedKernels } from '../kernels/fused';
import { doraCombine, loraAdd, type DoraGradients } from './adapterOps';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SCALING = 1.5;
const SHAPE = [2, 3, 3, 4]; // NHWC, 4 output channels
const OUT = 4;
const RANK = 2;
const K = 3 * 3 * 5; // a 3×3 conv from 5 channels

function random(shape: number[], seed: number, low = -1, high = 1): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.uniform(low, high)), shape);
}

async function expectClose(actual: tf.Tensor, expected: tf.Tensor, tolerance = 1e-5): Promise<void> {
  expect(actual.shape).toEqual(expected.shape);
  const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))));
  expect((await difference.data())[0]).toBeLessThan(tolerance);
  difference.dispose();
}

/**
 * What the op's forward leaves alive under a tape beyond its output: new buffers and their bytes.
 * tf.memory().numBytes counts a tensor sharing another's buffer (a saved clone) again, so a saved
 * parameter shows in `bytes` but not in `buffers`.
 */
function keptByForward(op: () => tf.Tensor, inputs: tf.Tensor[]): { buffers: number; bytes: number } {
  let buffers = 0;
  let bytes = 0;
  const grads = tf.grads(() => {
    const before = tf.memory();
    const y = op();
    const after = tf.memory();
    buffers = after.numDataBuffers - before.numDataBuffers - 1;
    bytes = after.numBytes - before.numBytes - y.size * 4;
    return tf.sum(y);
  })(inputs);
  tf.dispose(grads);
  return { buffers, bytes };
}

describe('loraAdd', () => {
  const node: LoraAddNode = {
    op: 'lora_add',
    id: 'l.lora_add',
    adapterOf: 'l',
    inputs: ['l', 'l.lora_B'],
    outShape: SHAPE.slice(1),
    scaling: SCALING,
  };

  it('computes base + s·delta and the gradients of auto-diff for each wanted subset', async () => {
    const base = random(SHAPE, 1);
    const delta = random(SHAPE, 2);
    const r = random(SHAPE, 3);
    const plain = (b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(tf.add(b, tf.mul(d, SCALING)), r));
    const [expectedBase, expectedDelta] = tf.grads(plain)([base, delta]);
    const value = loraAdd(node, base, delta, [false, false]);
    const expectedValue = tf.add(base, tf.mul(delta, SCALING));
    await expectClose(value, expectedValue);

    const both = tf.grads((b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(loraAdd(node, b, d, [true, true]), r)))([base, delta]);
    await expectClose(both[0], expectedBase);
    await expectClose(both[1], expectedDelta);
    const onlyDelta = tf.grad((d: tf.Tensor) => tf.sum(tf.mul(loraAdd(node, base, d, [false, true]), r)))(delta);
    await expectClose(onlyDelta, expectedDelta);
    const onlyBase = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(loraAdd(node, b, delta, [true, false]), r)))(base);
    await expectClose(onlyBase, expectedBase);
    tf.dispose([base, delta, r, expectedBase, expectedDelta, value, expectedValue, ...both, onlyDelta, onlyBase]);
  });

  it('keeps nothing for the backward, and leaks nothing', () => {
    const base = random(SHAPE, 1);
    const delta = random(SHAPE, 2);
    const before = tf.memory().numTensors;
    expect(keptByForward(() => loraAdd(node, base, delta, [true, true]), [base, delta])).toEqual({ buffers: 0, bytes: 0 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([base, delta]);
  });
});

describe('doraCombine', () => {
  const node: DoraCombineNode = {
    op: 'dora_combine',
    id: 'l.dora',
    adapterOf: 'l',
    inputs: ['l', 'l.lora_B'],
    outShape: SHAPE.slice(1),
    scaling: SCALING,
    magnitude: 'm',
    baseWeight: 'w',
    loraA: 'a',
    loraB: 'b',
    bias: 'bias',
  };
  const params: Record<string, tf.Tensor> = {};
  beforeAll(() => {
    params.w = random([3, 3, 5, OUT], 10);
    params.a = random([3, 3, 5, RANK], 11);
    params.b = random([1, 1, RANK, OUT], 12);
    params.m = random([OUT], 13, 0.5, 2);
    params.bias = random([OUT], 14);
  });
  const param = (name: string) => params[name];

  /** ‖W + s·AB‖ per output channel, formed directly (as PEFT does). */
  const directNorm = () =>
    tf.tidy(() => {
      const composite = tf.add(
        tf.reshape(params.w, [K, OUT]),
        tf.mul(tf.matMul(tf.reshape(params.a, [K, RANK]), tf.reshape(params.b, [RANK, OUT])), SCALING),
      );
      return tf.sqrt(tf.sum(tf.square(composite), 0));
    });

  /** The plain formula with the norm a constant; its auto-diff is the reference. */
  const plain = (norm: tf.Tensor) => (b: tf.Tensor, d: tf.Tensor, m: tf.Tensor, bias: tf.Tensor) =>
    tf.add(tf.mul(tf.div(m, norm), tf.add(b, tf.mul(d, SCALING))), bias);

  const SUBSETS: DoraGradients[] = [
    { base: true, delta: true, magnitude: true, bias: true },
    { base: false, delta: true, magnitude: true, bias: false },
    { base: true, delta: false, magnitude: false, bias: true },
    { base: false, delta: false, magnitude: true, bias: false },
    { base: false, delta: false, magnitude: false, bias: true },
  ];

  it('computes the PEFT value and, for each wanted subset, the gradients of auto-diff with the norm a constant', async () => {
    const base = random(SHAPE, 1);
    const delta = random(SHAPE, 2);
    const r = random(SHAPE, 3);
    const norm = directNorm();
    const reference = plain(norm);
    const expectedValue = reference(base, delta, params.m, params.bias);
    const value = doraCombine(node, base, delta, param, { base: false, delta: false, magnitude: false, bias: false });
    await expectClose(value, expectedValue);
    const inputs = [base, delta, params.m, params.bias];
    const expected = tf.grads((b: tf.Tensor, d: tf.Tensor, m: tf.Tensor, bias: tf.Tensor) => tf.sum(tf.mul(reference(b, d, m, bias), r)))(inputs);

    for (const wanted of SUBSETS) {
      const picked = [wanted.base, wanted.delta, wanted.magnitude, wanted.bias];
      const grads = tf.grads(() => tf.sum(tf.mul(doraCombine(node, base, delta, param, wanted), r)))(inputs.filter((_, i) => picked[i]));
      const want = expected.filter((_, i) => picked[i]);
      for (const [i, g] of grads.entries()) await expectClose(g, want[i]);
      tf.dispose(grads);
    }
    tf.dispose([base, delta, r, norm, expectedValue, value, ...expected]);
  });

  it('gives W, A and B no gradient through the norm (PEFT detaches it)', () => {
    const base = random(SHAPE, 1);
    const delta = random(SHAPE, 2);
    const wanted = { base: true, delta: true, magnitude: true, bias: true };
    expect(() => tf.grads(() => tf.sum(doraCombine(node, base, delta, param, wanted)))([params.w, params.a, params.b])).toThrow(
      /Cannot compute gradient/,
    );
    tf.dispose([base, delta]);
  });

  it('computes the norm as one kernel or expanded, both equal to the direct norm, and ‖W‖ when B = 0', async () => {
    const normWith = (b: tf.Tensor) =>
      compositeNorm(tf.reshape(params.w, [K, OUT]), tf.reshape(params.a, [K, RANK]), tf.reshape(b, [RANK, OUT]), SCALING);
    const direct = directNorm();
    const profile = await tf.profile(() => normWith(params.b));
    expect(profile.kernels.map((kernel) => kernel.name).filter((name) => name !== 'Reshape')).toEqual(['LabDoraNorm']);
    tf.dispose(profile.result as tf.Tensor);
    const kernel = normWith(params.b);
    await expectClose(kernel, direct);
    const previous = setFusedKernels(false);
    const expanded = normWith(params.b);
    setFusedKernels(previous);
    await expectClose(expanded, direct);
    const zeroB = tf.zerosLike(params.b);
    const weightNorm = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.reshape(params.w, [K, OUT])), 0)));
    const atInit = normWith(zeroB);
    await expectClose(atInit, weightNorm, 1e-6);
    setFusedKernels(false);
    const expandedAtInit = normWith(zeroB);
    setFusedKernels(previous);
    // Expanded, every cross term is an exact 0: ‖W‖ bit for bit, as the plain ops compute it.
    expect(Array.from(await expandedAtInit.data())).toEqual(Array.from(await weightNorm.data()));
    tf.dispose([kernel, expanded, direct, zeroB, atInit, expandedAtInit, weightNorm]);
  });

  it('keeps the per-channel norm, and base + s·delta only when the magnitude trains; leaks nothing', () => {
    const base = random(SHAPE, 1);
    const delta = random(SHAPE, 2);
    const before = tf.memory().numTensors;
    const elementBytes = base.size * 4;
    const normBytes = OUT * 4;
    const keptBy = (wanted: DoraGradients) => {
      const picked = [wanted.base, wanted.delta, wanted.magnitude, wanted.bias];
      const inputs = [base, delta, params.m, params.bias].filter((_, i) => picked[i]);
      return keptByForward(() => doraCombine(node, base, delta, param, wanted), inputs);
    };
    // Input gradients read m: saved as a clone on the parameter's buffer (bytes, but no buffer).
    expect(keptBy({ base: true, delta: true, magnitude: true, bias: true })).toEqual({ buffers: 2, bytes: 2 * normBytes + elementBytes });
    expect(keptBy({ base: true, delta: false, magnitude: false, bias: false })).toEqual({ buffers: 1, bytes: 2 * normBytes });
    expect(keptBy({ base: false, delta: false, magnitude: true, bias: false })).toEqual({ buffers: 2, bytes: normBytes + elementBytes });
    expect(keptBy({ base: false, delta: false, magnitude: false, bias: true })).toEqual({ buffers: 0, bytes: 0 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([base, delta]);
  });
});
