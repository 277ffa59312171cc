// A small real computation (conv + batch-norm-free head, forward and both gradients) run on the
// active backend and on CPU: the end-to-end proof that the GPU path computes what the CPU does.
import * as tf from '@tensorflow/tfjs';
import { createRng } from './rng';

export async function backendSelfTest(): Promise<{ maxRelativeError: number; backend: string }> {
  const backend = tf.getBackend();
  const onActive = await convAndGradients();
  await tf.setBackend('cpu');
  let onCpu: Float32Array[];
  try {
    onCpu = await convAndGradients();
  } finally {
    await tf.setBackend(backend);
  }
  let maxRelativeError = 0;
  onActive.forEach((values, i) => {
    const reference = onCpu[i];
    let scale = 0;
    for (const v of reference) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < values.length; j++) {
      const error = Math.abs(values[j] - reference[j]) / Math.max(Math.abs(reference[j]), 1e-3 * scale, 1e-12);
      maxRelativeError = Math.max(maxRelativeError, error);
    }
  });
  return { maxRelativeError, backend };
}

/** y = sum((relu(conv3x3(x, w, stride 2, pad 1)))²); returns [y, dy/dx, dy/dw]. */
async function convAndGradients(): Promise<Float32Array[]> {
  const rng = createRng(1234);
  const xValues = Float32Array.from({ length: 2 * 8 * 8 * 3 }, () => rng.uniform(-1, 1));
  const wValues = Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.uniform(-1, 1));
  const [y, dx, dw] = tf.tidy(() => {
    const x = tf.tensor4d(xValues, [2, 8, 8, 3]);
    const w = tf.tensor4d(wValues, [3, 3, 3, 4]);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.relu(tf.conv2d(tf.pad(a as tf.Tensor4D, [[0, 0], [1, 1], [1, 1], [0, 0]]), b as tf.Tensor4D, 2, 'valid'))));
    const { value, grads } = tf.valueAndGrads(f)([x, w]);
    return [value, grads[0], grads[1]];
  });
  const out = await Promise.all([y, dx, dw].map(async (t) => new Float32Array(await t.data())));
  tf.dispose([y, dx, dw]);
  return out;
}
