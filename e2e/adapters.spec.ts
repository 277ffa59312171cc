import { expect, test } from '@playwright/test';
import type { LabHarness } from './harness';

// LoRA and GaLore on the browser's real WebGPU backend, at a tiny size (SwiftShader is slow):
// MobileNetV2 width 0.25 at 32×32, batch 4, four steps on one fixed batch (a step takes tens of
// seconds on SwiftShader under load, hence the longer timeout). Learning rate 1e-3: at 3e-3 the
// BN statistics of 4 images on 1×1 maps made GaLore's per-step loss swing with float rounding
// (the fused kernels' rounding turned a pass into 1.53 → 1.51 → 1.53 → 1.61).

test('the range finder recovers a known spectrum on WebGPU', async ({ page }) => {
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, linalg }: LabHarness = window.labHarness;
    const sigma = Array.from({ length: 24 }, (_, i) => 10 * 0.6 ** i);
    const a = tf.tidy(() => {
      const orthogonal = (size: number, seed: number) =>
        linalg.orthonormalizeColumns(tf.tensor2d(linalg.gaussianMatrix(size, size, seed), [size, size]));
      const u = orthogonal(24, 1);
      const v = orthogonal(40, 2).slice([0, 0], [40, 24]);
      return tf.matMul(tf.mul(u, tf.tensor1d(sigma)), v, false, true) as typeof u;
    });
    const { basis, singularValues } = await linalg.topLeftSingularSubspace(a, 4);
    tf.dispose([a, basis]);
    return { backend: report.backend, relativeErrors: Array.from(singularValues, (s, i) => Math.abs(s - sigma[i]) / sigma[i]) };
  });
  expect(result.backend).toBe('webgpu');
  for (const error of result.relativeErrors) expect(error).toBeLessThan(1e-3);
});

for (const methodId of ['lora', 'galore'] as const) {
  test(`${methodId} lowers the loss of a tiny MobileNetV2 on WebGPU without leaking tensors`, async ({ page }) => {
    test.setTimeout(600_000);
    await page.goto('/e2e/harness.html');
    const result = await page.evaluate(async (id) => {
      const report = await window.labHarnessReady;
      const { tf, adapters, models, nnModel, trainStep }: LabHarness = window.labHarness;
      const spec = models.buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 32, numClasses: 4, stem: 'imagenet' });
      // GaLore computes its projectors (range finder + small SVD) on WebGPU at the first step; a
      // refresh every few steps would double the run on SwiftShader (unit tests cover refreshes).
      const options = adapters.methodOptions();
      const method = adapters.METHODS[id];
      const adapted = method.apply(spec, options);
      const model = nnModel.createModel(adapted, { seed: 1 });
      const optimizer = method.createOptimizer(model, { lr: 0.001 }, options);
      const trainable = new Set(Object.values(adapted.params).filter((p) => p.trainable).map((p) => p.name));
      const batch = { x: tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 7) as never, y: tf.tensor1d([0, 1, 2, 3], 'int32') };
      const losses: number[] = [];
      const tensorCounts: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { loss, grads } = trainStep.computeGradients(model, batch, trainable);
        await optimizer.prepareStep?.(grads);
        tf.tidy(() => optimizer.step(grads));
        losses.push((await loss.data())[0]);
        tf.dispose([loss, ...grads.values()]);
        tensorCounts.push(tf.memory().numTensors);
      }
      const optimizerBytes = optimizer.stateBytes();
      optimizer.dispose();
      nnModel.disposeModel(model);
      tf.dispose([batch.x, batch.y]);
      return { backend: report.backend, losses, tensorCounts, optimizerBytes };
    }, methodId);
    expect(result.backend).toBe('webgpu');
    expect(result.losses.every(Number.isFinite)).toBe(true);
    // Batch statistics of 4 images on 1×1 maps make single steps noisy; three updates must win.
    expect(result.losses[3], result.losses.join(' ')).toBeLessThan(result.losses[0]);
    // Steady state: as many tensors after the last steps as after the second.
    expect(result.tensorCounts.slice(2)).toEqual([result.tensorCounts[1], result.tensorCounts[1]]);
    expect(result.optimizerBytes).toBeGreaterThan(0);
  });
}
