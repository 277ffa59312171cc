// One training step of every method against the method's reference, through the lab's trainer
// (computeGradients and trainStep): fixtures/methods, made by scripts/fixtures/make_method_fixtures.py
// (plain PyTorch with torch.optim.Adam for FFT and BN+head, Hugging Face PEFT itself for LoRA and
// DoRA) and make_galore_fixtures.py (the GaLore authors' GaLoreProjector driving Adam). The model is
// a small CNN with the layers the methods treat differently: a 3×3 conv without bias into BatchNorm,
// a strided 3×3 conv with a bias, global pooling and a linear classifier; LoRA and DoRA adapt both
// convs and the classifier (r = 2, α = 4: scaling 2, neither α nor 1), GaLore projects the three
// weights at rank 4 with scale 0.5.
//
// Checked: logits, loss, the gradient of every trainable parameter, every trainable parameter after
// one Adam step, and the logits after it. Adam's first step is ±lr whatever the gradient's scale, so
// the gradients are compared themselves (a wrongly scaled gradient fails there), and the logits
// after the step carry e.g. LoRA's scaling of the new B·A. Tolerances: float32 engine against a
// float64 reference; logits, loss and gradients to 1e-4 of their scale, parameters after the step to
// 1e-6 absolute (1e-4 of lr = 0.01). Then a few more steps must leak no tensor.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { formulaValues, type FormulaKind } from '../../../scripts/fixtures/torchFixtures';
import { METHOD_IDS, type MethodId } from '../ids';
import { SpecBuilder } from '../models/builder';
import type { ModelSpec } from '../models/spec';
import { forward } from '../nn/forward';
import { assignParams, createModel, disposeModel, readParams } from '../nn/model';
import { computeGradients, trainStep } from '../train/step';
import { readSafetensors, writeSafetensors } from '../weights/safetensors';
import { importTorchStateDict, labToTorch, paramLayouts } from '../weights/torchvision';
import { METHODS, methodOptions } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface MethodFixture {
  variant: MethodId;
  state_dict: { name: string; shape: number[]; kind: Exclude<FormulaKind, 'num_batches_tracked'> }[];
  input: { name: string; kind: 'unit'; shape: [number, number, number, number] };
  labels: number[];
  logits: number[][];
  loss: number;
  trainable: string[];
  grads: Record<string, number[]>;
  adam: { lr: number; betas: [number, number]; eps: number };
  after_step: Record<string, number[]>;
  logits_after_step: number[][];
  loss_after_step: number;
}

const directory = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/methods');
const load = (method: MethodId) => JSON.parse(readFileSync(join(directory, `${method}.json`), 'utf8')) as MethodFixture;

/** The options the fixture scripts use (LoRA/DoRA: r = 2, α = 4; GaLore: rank 4, scale 0.5). */
const OPTIONS = methodOptions({ rank: 2, alpha: 4, galore: { rank: 4, updateProjGap: 200, scale: 0.5 } });

/** The fixture scripts' SmallCnn, with torch's module names. */
function smallCnn(): ModelSpec {
  const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: 8, numClasses: 5, stem: 'cifar' });
  let x = b.conv('conv1', b.input, { outChannels: 8, kernel: 3, bias: false });
  x = b.batchNorm('bn1', x, { eps: 1e-5, momentum: 0.1 });
  x = b.activation('relu1', x, 'relu');
  x = b.conv('conv2', x, { outChannels: 12, kernel: 3, stride: 2, bias: true });
  x = b.activation('relu2', x, 'relu');
  x = b.flatten('flatten', b.globalAvgPool('pool', x));
  x = b.linear('fc', x, { outFeatures: 5, weightInit: { kind: 'zeros' }, biasInit: { kind: 'zeros' } });
  return b.build(x);
}

const maxAbs = (values: ArrayLike<number>): number => Array.from(values).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  for (let i = 0; i < b.length; i++) diff = Math.max(diff, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i]));
  return diff;
}

/** max |a − b| over max(max |b|, floor): the error relative to the reference's scale. */
const relativeError = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number => maxAbsDifference(a, b) / Math.max(maxAbs(b), floor);

describe('one training step of every method against its reference (PyTorch, PEFT, the GaLore authors)', () => {
  for (const id of METHOD_IDS) {
    it(id, async () => {
      const fixture = load(id);
      const spec = METHODS[id].apply(smallCnn(), OPTIONS);
      const trainable = new Set(Object.values(spec.params).filter((p) => p.trainable).map((p) => p.name));
      expect([...trainable].sort()).toEqual([...fixture.trainable].sort());

      // The reference's state_dict (lab names, torch layouts) through the lab's torchvision importer.
      const tensors = Object.fromEntries(
        fixture.state_dict.map((e) => [e.name, { dtype: 'F32' as const, shape: e.shape, data: formulaValues(e.name, e.kind, e.shape) }]),
      );
      const { values, notLoaded } = importTorchStateDict(spec, readSafetensors(writeSafetensors(tensors)).tensors, { requireAdapters: true });
      expect(notLoaded).toEqual([]);
      const model = createModel(spec, { seed: 0 });
      assignParams(model, values);
      const layouts = paramLayouts(spec);
      const toTorch = (name: string, data: ArrayLike<number>) => labToTorch(data, spec.params[name].shape, layouts[name]);

      const x = tf.tidy(() => tf.transpose(tf.tensor4d(formulaValues(fixture.input.name, 'unit', fixture.input.shape), fixture.input.shape), [0, 2, 3, 1]) as tf.Tensor4D);
      const y = tf.tensor1d(fixture.labels, 'int32');
      const batch = { x, y };
      const optimizer = METHODS[id].createOptimizer(model, { lr: fixture.adam.lr, betas: fixture.adam.betas, eps: fixture.adam.eps }, OPTIONS);
      try {
        const logits = tf.tidy(() => forward(model, x, { training: true }));
        expect(relativeError(await logits.data(), fixture.logits.flat()), 'logits').toBeLessThan(1e-4);
        logits.dispose();

        // A gradient that is zero in exact arithmetic (DoRA's magnitude on conv1 and conv1's own
        // weight under FFT both rescale channels that bn1 normalises again: only BN's ε leaves a
        // trace) is rounding noise in float32: it is compared with the model's gradient scale (1e-3 of
        // the largest), as make_torch_fixtures.py's measures do.
        const floor = 1e-3 * Math.max(...Object.values(fixture.grads).map(maxAbs));
        const { loss, grads } = computeGradients(model, batch, trainable);
        expect(Math.abs((await loss.data())[0] - fixture.loss) / fixture.loss, 'loss').toBeLessThan(1e-5);
        for (const name of trainable) {
          const grad = grads.get(name);
          expect(grad, name).toBeDefined();
          expect(relativeError(toTorch(name, await (grad as tf.Tensor).data()), fixture.grads[name], floor), `gradient of ${name}`).toBeLessThan(1e-4);
        }
        tf.dispose([loss, ...grads.values()]);

        // The trainer's own step: gradients again, the optimizer's preparation (GaLore's SVD), the update.
        expect(Math.abs((await trainStep(model, optimizer, batch, trainable)) - fixture.loss) / fixture.loss).toBeLessThan(1e-5);
        const after = await readParams(model);
        for (const name of trainable) {
          const ours = toTorch(name, after[name]);
          if (maxAbs(fixture.grads[name]) < floor) {
            // Adam's first step is lr·g/(|g| + ε): for a gradient at rounding-noise level its
            // direction is noise too, so only its size is checked (at most lr per element).
            expect(maxAbsDifference(ours, toTorch(name, values[name])), `${name} moves at most lr`).toBeLessThanOrEqual(fixture.adam.lr * (1 + 1e-6));
            continue;
          }
          expect(maxAbsDifference(ours, fixture.after_step[name]), `${name} after one step`).toBeLessThan(1e-6);
        }
        const logitsAfter = tf.tidy(() => forward(model, x, { training: true }));
        expect(relativeError(await logitsAfter.data(), fixture.logits_after_step.flat()), 'logits after the step').toBeLessThan(1e-4);
        logitsAfter.dispose();

        // Steady state: as many tensors after further steps as after the first.
        const tensorsAfterStep = tf.memory().numTensors;
        for (let i = 0; i < 2; i++) await trainStep(model, optimizer, batch, trainable);
        expect(tf.memory().numTensors).toBe(tensorsAfterStep);
      } finally {
        optimizer.dispose();
        disposeModel(model);
        tf.dispose([x, y]);
      }
    });
  }
});
