import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { dequantize } from '../../src/core/kernels/fused';
import { dequantizeBlockwise, quantizeBlockwise } from '../../src/core/quant/blockwise';
import { useCpuBackend } from './tfjs';
import { useWasmBackend } from './wasm';

afterAll(useCpuBackend);

/** Gradients of a loss through a dense conv, a depthwise conv and a transposed matmul, as plain arrays. */
async function gradientsOn(backend: 'cpu' | 'wasm', stride: number): Promise<number[][]> {
  if (backend === 'wasm') await useWasmBackend();
  else await useCpuBackend();
  const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const dense = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
  const depthwise = tf.randomNormal([3, 3, 4, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const head = tf.randomNormal([5, 4], 0, 1, 'float32', 4) as tf.Tensor2D;
  const loss = (input: tf.Tensor4D, w1: tf.Tensor4D, w2: tf.Tensor4D, w3: tf.Tensor2D) => {
    const y = tf.depthwiseConv2d(tf.relu(tf.conv2d(input, w1, stride, 1)), w2, stride, 1);
    const rows = tf.reshape(y, [-1, 4]);
    return tf.sum(tf.square(tf.matMul(rows, w3, false, true)));
  };
  const grads = tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([x, dense, depthwise, head]);
  const values = await Promise.all(grads.map(async (g) => Array.from(await g.data())));
  tf.dispose([x, dense, depthwise, head, ...grads]);
  return values;
}

describe('wasm backend with the training kernels the engine needs', () => {
  it('gives the CPU backend\'s gradients for dense and depthwise convs (stride 1 and 2) and a transposed matmul', async () => {
    for (const stride of [1, 2]) {
      const cpu = await gradientsOn('cpu', stride);
      const wasm = await gradientsOn('wasm', stride);
      cpu.forEach((expected, i) => {
        const scale = Math.max(...expected.map(Math.abs));
        const worst = Math.max(...expected.map((value, j) => Math.abs(value - wasm[i][j])));
        expect(wasm[i].length).toBe(expected.length);
        expect(worst / scale, `stride ${stride}, gradient ${i}`).toBeLessThan(1e-5);
      });
    }
  });

  it('leaks no tensor through the added kernels', async () => {
    await useWasmBackend();
    const x = tf.randomNormal([1, 6, 6, 2]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1)))([x, w]);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([x, w, gx, gw]);
  });

  it('dequantizes an int8 / NF4 frozen weight exactly (its own int32 ops run in float32 and could not)', async () => {
    await useWasmBackend();
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.731) * (0.2 + (i % 97) / 50));
    for (const format of ['int8', 'nf4'] as const) {
      const q = quantizeBlockwise(values, format);
      const codes = tf.tensor1d(q.codes, 'int32');
      const scales = tf.tensor1d(q.scales, 'float32');
      const out = dequantize(codes, scales, format, [10, 100]);
      expect(out.shape).toEqual([10, 100]);
      expect(await out.data()).toEqual(dequantizeBlockwise(q));
      tf.dispose([codes, scales, out]);
    }
  });
});
