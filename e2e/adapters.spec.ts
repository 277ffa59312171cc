import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { formulaValues, type FormulaKind } from '../scripts/fixtures/torchFixtures';
import { METHODS, methodOptions } from '../src/core/adapters';
import { SpecBuilder } from '../src/core/models/builder';
import { readSafetensors, writeSafetensors } from '../src/core/weights/safetensors';
import { importTorchStateDict, labToTorch, paramLayouts } from '../src/core/weights/torchvision';
import type { LabHarness } from './harness';

// LoRA and GaLore on the browser's real WebGPU backend, one training step against the method's
// reference (fixtures/methods: Hugging Face PEFT for LoRA, the GaLore authors' GaLoreProjector for
// GaLore; see src/core/adapters/training.test.ts, which runs the same comparison on the CPU backend,
// and scripts/fixtures/make_{method,galore}_fixtures.py). The model is the fixtures' small CNN
// (8×8 input, batch 4), cheap even on SwiftShader: the spec and the reference's weights are built
// here in Node and handed to the page, which runs the trainer's gradients and step on WebGPU.

test('the range finder recovers a known spectrum on WebGPU', async ({ page }) => {
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, linalg }: LabHarness = window.labHarness;
    const sigma = Array.from({ length: 24 }, (_, i) => 10 * 0.6 ** i);
    const a = tf.tidy(() => {
      const orthogonal = (size: number, seed: number) =>
        tf.tensor2d(Float32Array.from(linalg.orthonormalizeColumns(Float64Array.from(linalg.gaussianMatrix(size, size, seed)), size, size)), [size, size]);
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

interface MethodFixture {
  state_dict: { name: string; shape: number[]; kind: Exclude<FormulaKind, 'num_batches_tracked'> }[];
  input: { name: string; shape: [number, number, number, number] };
  labels: number[];
  loss: number;
  trainable: string[];
  grads: Record<string, number[]>;
  adam: { lr: number; betas: [number, number]; eps: number };
  after_step: Record<string, number[]>;
}

const OPTIONS = methodOptions({ rank: 2, alpha: 4, galore: { rank: 4, updateProjGap: 200, scale: 0.5 } });

const maxAbs = (values: ArrayLike<number>): number => Array.from(values).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxAbsDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  a.length !== b.length ? Infinity : Array.from(b).reduce((m, v, i) => Math.max(m, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - v)), 0);

for (const methodId of ['lora', 'galore'] as const) {
  test(`${methodId}: one training step on WebGPU equals the reference's, and further steps leak no tensor`, async ({ page }) => {
    test.setTimeout(300_000);
    const fixture = JSON.parse(readFileSync(join('fixtures/methods', `${methodId}.json`), 'utf8')) as MethodFixture;
    // The fixtures' SmallCnn (torch module names), adapted in Node; the reference's weights imported here.
    const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: 8, numClasses: 5, stem: 'cifar' });
    let x = b.conv('conv1', b.input, { outChannels: 8, kernel: 3, bias: false });
    x = b.batchNorm('bn1', x, { eps: 1e-5, momentum: 0.1 });
    x = b.activation('relu1', x, 'relu');
    x = b.conv('conv2', x, { outChannels: 12, kernel: 3, stride: 2, bias: true });
    x = b.activation('relu2', x, 'relu');
    x = b.flatten('flatten', b.globalAvgPool('pool', x));
    x = b.linear('fc', x, { outFeatures: 5, weightInit: { kind: 'zeros' }, biasInit: { kind: 'zeros' } });
    const spec = METHODS[methodId].apply(b.build(x), OPTIONS);
    const tensors = Object.fromEntries(fixture.state_dict.map((e) => [e.name, { dtype: 'F32' as const, shape: e.shape, data: formulaValues(e.name, e.kind, e.shape) }]));
    const imported = importTorchStateDict(spec, readSafetensors(writeSafetensors(tensors)).tensors, { requireAdapters: true });
    const values = Object.fromEntries(Object.entries(imported.values).map(([name, v]) => [name, Array.from(v)]));
    const [n, c, h, w] = fixture.input.shape;
    const nchw = formulaValues(fixture.input.name, 'unit', fixture.input.shape);
    const nhwc = new Array<number>(n * h * w * c);
    for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) nhwc[((i * h + y) * w + z) * c + k] = nchw[((i * c + k) * h + y) * w + z];
    const trainable = Object.values(spec.params).filter((p) => p.trainable).map((p) => p.name);
    expect(trainable.sort()).toEqual([...fixture.trainable].sort());

    await page.goto('/e2e/harness.html');
    const result = await page.evaluate(
      async ({ id, spec, values, input, shape, labels, adam, options, trainableNames }) => {
        const report = await window.labHarnessReady;
        const { tf, adapters, nnModel, trainStep }: LabHarness = window.labHarness;
        const model = nnModel.createModel(spec, { seed: 0 });
        nnModel.assignParams(model, values);
        const trainable = new Set(trainableNames);
        const batch = { x: tf.tensor4d(input, shape), y: tf.tensor1d(labels, 'int32') };
        const optimizer = adapters.METHODS[id].createOptimizer(model, adam, options);
        const { loss, grads } = trainStep.computeGradients(model, batch, trainable);
        const gradients: Record<string, number[]> = {};
        for (const [name, grad] of grads) gradients[name] = Array.from(await grad.data());
        const lossBefore = (await loss.data())[0];
        tf.dispose([loss, ...grads.values()]);
        await trainStep.trainStep(model, optimizer, batch, trainable);
        const after = Object.fromEntries(Object.entries(await nnModel.readParams(model)).map(([name, v]) => [name, Array.from(v)]));
        const tensorCounts: number[] = [tf.memory().numTensors];
        for (let i = 0; i < 2; i++) {
          await trainStep.trainStep(model, optimizer, batch, trainable);
          tensorCounts.push(tf.memory().numTensors);
        }
        optimizer.dispose();
        nnModel.disposeModel(model);
        tf.dispose([batch.x, batch.y]);
        return { backend: report.backend, loss: lossBefore, gradients, after, tensorCounts };
      },
      { id: methodId, spec, values, input: nhwc, shape: [n, h, w, c] as [number, number, number, number], labels: fixture.labels, adam: fixture.adam, options: OPTIONS, trainableNames: trainable },
    );
    expect(result.backend).toBe('webgpu');
    const layouts = paramLayouts(spec);
    const toTorch = (name: string, data: number[]) => labToTorch(data, spec.params[name].shape, layouts[name]);
    expect(Math.abs(result.loss / fixture.loss - 1), 'loss').toBeLessThan(1e-5);
    // As in training.test.ts: gradients to 1e-4 of their scale (floored at 1e-3 of the model's
    // largest, for those that are rounding noise), parameters after the step to 1e-6 (lr = 0.01).
    const floor = 1e-3 * Math.max(...Object.values(fixture.grads).map(maxAbs));
    for (const name of trainable) {
      const reference = fixture.grads[name];
      expect(maxAbsDifference(toTorch(name, result.gradients[name]), reference) / Math.max(maxAbs(reference), floor), `gradient of ${name}`).toBeLessThan(1e-4);
      if (maxAbs(reference) >= floor) expect(maxAbsDifference(toTorch(name, result.after[name]), fixture.after_step[name]), `${name} after one step`).toBeLessThan(1e-6);
    }
    // Steady state: as many tensors after each further step as after the first.
    expect(result.tensorCounts).toEqual([result.tensorCounts[0], result.tensorCounts[0], result.tensorCounts[0]]);
  });
}
