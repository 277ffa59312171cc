import { expect, test } from '@playwright/test';
import type { LabHarness } from './harness';

// The training engine on real WebGPU (SwiftShader without a GPU) against tfjs's CPU backend in
// the same page: one step of a small MobileNetV2 must give the same loss and gradients, and
// training steps must not leak tensors. Tiny on purpose: SwiftShader is slow and CI has 2 cores.
test('a MobileNetV2 training step on WebGPU matches the CPU backend, leaks no tensor, and another width compiles no new pipeline', async ({ page }) => {
  // Four MobileNetV2 steps on SwiftShader, the first compiling every shader: minutes on 2 cores.
  test.setTimeout(900_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Counts the compute pipelines the page creates (tfjs's programs and the lab's raw dispatches).
  await page.addInitScript(() => {
    const counted = window as unknown as { labPipelines: number };
    counted.labPipelines = 0;
    const prototype = GPUDevice.prototype;
    const [create, createAsync] = [prototype.createComputePipeline, prototype.createComputePipelineAsync];
    prototype.createComputePipeline = function (descriptor) {
      counted.labPipelines++;
      return create.call(this, descriptor);
    };
    prototype.createComputePipelineAsync = function (descriptor) {
      counted.labPipelines++;
      return createAsync.call(this, descriptor);
    };
  });
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, models, nnModel, trainStep, optim }: LabHarness = window.labHarness;
    const pipelines = () => (window as unknown as { labPipelines: number }).labPipelines;
    const spec = models.buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar' });
    const batchSize = 4;
    // A fixed pseudo-random batch (same values on both backends).
    let state = 12345;
    const pixels = Float32Array.from({ length: batchSize * 32 * 32 * 3 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state / 2 ** 32) * 2 - 1;
    });
    const labels = [1, 4, 7, 9];
    const trainable = new Set(Object.values(spec.params).filter((p) => p.trainable).map((p) => p.name));

    /** Loss and every gradient of one step from the seeded init, on the active backend. */
    async function oneStep(): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
      const model = nnModel.createModel(spec, { seed: 7 });
      const batch = { x: tf.tensor4d(pixels, [batchSize, 32, 32, 3]), y: tf.tensor1d(labels, 'int32') };
      try {
        const { loss, grads } = trainStep.computeGradients(model, batch, trainable);
        const values: Record<string, Float32Array> = {};
        for (const [name, grad] of grads) values[name] = (await grad.data()) as Float32Array;
        const lossValue = (await loss.data())[0];
        tf.dispose([loss, ...grads.values()]);
        return { loss: lossValue, grads: values };
      } finally {
        tf.dispose([batch.x, batch.y]);
        nnModel.disposeModel(model);
      }
    }

    const onWebGpu = await oneStep();

    // Leak check: Adam steps on WebGPU; the tensor count after the third equals that after the first
    // (the first creates Adam's moments).
    const model = nnModel.createModel(spec, { seed: 7 });
    const optimizer = optim.createOptimizer({ id: 'adam', lr: 1e-3 }, model.variables);
    const batch = { x: tf.tensor4d(pixels, [batchSize, 32, 32, 3]), y: tf.tensor1d(labels, 'int32') };
    const stepLosses = [await trainStep.trainStep(model, optimizer, batch, trainable)];
    const tensorsAfterOne = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) stepLosses.push(await trainStep.trainStep(model, optimizer, batch, trainable));
    const tensorsAfterThree = tf.memory().numTensors;
    optimizer.dispose();
    nnModel.disposeModel(model);

    // The kernels' sizes are uniforms: a MobileNetV2 of another width (other channel counts, same
    // batch and resolution) trains on the pipelines already compiled, where shape-specialised
    // shaders once cost ~0.1 s each to compile on SwiftShader.
    const pipelinesBefore = pipelines();
    const wider = nnModel.createModel(models.buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' }), { seed: 7 });
    const widerOptimizer = optim.createOptimizer({ id: 'adam', lr: 1e-3 }, wider.variables);
    await trainStep.trainStep(wider, widerOptimizer, batch, new Set(Object.values(wider.spec.params).filter((p) => p.trainable).map((p) => p.name)));
    const newPipelines = pipelines() - pipelinesBefore;
    widerOptimizer.dispose();
    nnModel.disposeModel(wider);
    tf.dispose([batch.x, batch.y]);

    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    let onCpu: Awaited<ReturnType<typeof oneStep>>;
    try {
      onCpu = await oneStep();
    } finally {
      await tf.setBackend(backend);
    }

    // Per tensor: worst |webgpu − cpu| over the tensor's largest |cpu| value, floored at 1e-3 of the
    // largest gradient overall (some gradients are ~0 in exact arithmetic and noise on both sides).
    let largest = 0;
    for (const values of Object.values(onCpu.grads)) for (const v of values) largest = Math.max(largest, Math.abs(v));
    let worstGradError = 0;
    let worstParam = '';
    let worstAbsolute = 0;
    for (const [name, reference] of Object.entries(onCpu.grads)) {
      const values = onWebGpu.grads[name];
      let scale = 1e-3 * largest;
      let worst = 0;
      reference.forEach((r, j) => {
        scale = Math.max(scale, Math.abs(r));
        worst = Math.max(worst, Math.abs(values[j] - r));
      });
      worstAbsolute = Math.max(worstAbsolute, worst);
      if (worst / scale > worstGradError) [worstGradError, worstParam] = [worst / scale, name];
    }
    return {
      backend: report.backend,
      gradCount: [Object.keys(onWebGpu.grads).length, Object.keys(onCpu.grads).length, trainable.size],
      loss: [onWebGpu.loss, onCpu.loss],
      lossError: Math.abs(onWebGpu.loss - onCpu.loss) / Math.abs(onCpu.loss),
      largestGrad: largest,
      worstGradError,
      worstParam,
      worstAbsoluteVsLargest: worstAbsolute / largest,
      stepLosses,
      tensors: [tensorsAfterOne, tensorsAfterThree],
      pipelines: { firstModel: pipelinesBefore, widerModel: newPipelines },
    };
  });
  console.log(JSON.stringify(result));
  expect(result.backend).toBe('webgpu');
  expect(result.gradCount).toEqual([result.gradCount[2], result.gradCount[2], result.gradCount[2]]);
  expect(Number.isFinite(result.loss[0])).toBe(true);
  expect(result.lossError).toBeLessThan(1e-4);
  // Not vacuous: real gradients flowed.
  expect(result.largestGrad).toBeGreaterThan(1e-3);
  // Within 1e-2 per tensor, not 1e-3: float32 accumulation differs between the backends, and the
  // ~50 layers of training-mode BN over few values per channel (64 in the last stages) amplify it
  // to a few 1e-3 (7e-3 at worst, a last-stage BN bias). It does not come from what the engine saves:
  // an engine keeping every kernel's inputs gives the same numbers.
  expect(result.worstGradError, result.worstParam).toBeLessThan(1e-2);
  expect(result.stepLosses.every(Number.isFinite)).toBe(true);
  expect(result.tensors[1]).toBe(result.tensors[0]);
  expect(result.pipelines.firstModel).toBeGreaterThan(0);
  expect(result.pipelines.widerModel).toBe(0);
  expect(errors).toEqual([]);
});

// A tiny ViT (issue 19: width 0.25, depth 2, cifar stem, 32×32, batch 4) on WebGPU: one step's loss
// and gradients equal the CPU backend's, a few Adam steps on one batch lower the loss, and the
// tensor count after the last step equals that after the first (no leak).
test('a tiny ViT fine-tunes on WebGPU: the CPU backend’s gradients, a falling loss, no leaked tensor', async ({ page }) => {
  test.setTimeout(600_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, models, nnModel, trainStep, optim }: LabHarness = window.labHarness;
    const spec = models.buildModelSpec({ model: 'vit_tiny', width: 0.25, depth: 2, resolution: 32, numClasses: 10, stem: 'cifar' });
    const batchSize = 4;
    let state = 2024;
    const pixels = Float32Array.from({ length: batchSize * 32 * 32 * 3 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state / 2 ** 32) * 2 - 1;
    });
    const labels = [2, 5, 0, 8];
    const trainable = new Set(Object.values(spec.params).filter((p) => p.trainable).map((p) => p.name));
    const newBatch = () => ({ x: tf.tensor4d(pixels, [batchSize, 32, 32, 3]), y: tf.tensor1d(labels, 'int32') });

    async function oneStep(): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
      const model = nnModel.createModel(spec, { seed: 7 });
      const batch = newBatch();
      try {
        const { loss, grads } = trainStep.computeGradients(model, batch, trainable);
        const values: Record<string, Float32Array> = {};
        for (const [name, grad] of grads) values[name] = (await grad.data()) as Float32Array;
        const lossValue = (await loss.data())[0];
        tf.dispose([loss, ...grads.values()]);
        return { loss: lossValue, grads: values };
      } finally {
        tf.dispose([batch.x, batch.y]);
        nnModel.disposeModel(model);
      }
    }

    const onWebGpu = await oneStep();
    const model = nnModel.createModel(spec, { seed: 7 });
    const optimizer = optim.createOptimizer({ id: 'adam', lr: 1e-3 }, model.variables);
    const batch = newBatch();
    const stepLosses = [await trainStep.trainStep(model, optimizer, batch, trainable)];
    const tensorsAfterOne = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) stepLosses.push(await trainStep.trainStep(model, optimizer, batch, trainable));
    const tensorsAfterSix = tf.memory().numTensors;
    tf.dispose([batch.x, batch.y]);
    optimizer.dispose();
    nnModel.disposeModel(model);

    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    let onCpu: Awaited<ReturnType<typeof oneStep>>;
    try {
      onCpu = await oneStep();
    } finally {
      await tf.setBackend(backend);
    }
    let largest = 0;
    for (const values of Object.values(onCpu.grads)) for (const v of values) largest = Math.max(largest, Math.abs(v));
    let worstGradError = 0;
    let worstParam = '';
    for (const [name, reference] of Object.entries(onCpu.grads)) {
      let scale = 1e-3 * largest;
      let worst = 0;
      reference.forEach((r, j) => {
        scale = Math.max(scale, Math.abs(r));
        worst = Math.max(worst, Math.abs(onWebGpu.grads[name][j] - r));
      });
      if (worst / scale > worstGradError) [worstGradError, worstParam] = [worst / scale, name];
    }
    return {
      backend: report.backend,
      gradCount: [Object.keys(onWebGpu.grads).length, Object.keys(onCpu.grads).length, trainable.size],
      lossError: Math.abs(onWebGpu.loss - onCpu.loss) / Math.abs(onCpu.loss),
      largestGrad: largest,
      worstGradError,
      worstParam,
      stepLosses,
      tensors: [tensorsAfterOne, tensorsAfterSix],
    };
  });
  console.log(JSON.stringify(result));
  expect(errors).toEqual([]);
  expect(result.backend).toBe('webgpu');
  expect(result.gradCount).toEqual([result.gradCount[2], result.gradCount[2], result.gradCount[2]]);
  expect(result.lossError).toBeLessThan(1e-4);
  expect(result.largestGrad).toBeGreaterThan(1e-3);
  expect(result.worstGradError, result.worstParam).toBeLessThan(1e-3);
  expect(result.stepLosses.every(Number.isFinite)).toBe(true);
  expect(result.stepLosses[result.stepLosses.length - 1]).toBeLessThan(result.stepLosses[0]);
  expect(result.tensors[1]).toBe(result.tensors[0]);
});
