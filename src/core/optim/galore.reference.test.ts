// GaLore's projected step against the authors' algorithm (fixtures/methods/galore_matrices.json,
// made by scripts/fixtures/make_galore_fixtures.py: galore_torch's GaLoreProjector 'std', with
// torch.linalg.svd, driving Adam). A conv weight (32 × 144 as a matrix: the left projector U_r) and a
// linear weight (64 × 32: the right projector V_rᵀ), scale 0.5, update_proj_gap 2: two steps on one
// projector with Adam's betas (0.9, 0.999), and three steps with betas (0, 0.999), where the
// projectors are recomputed at step 2 from new gradients in new subspaces while Adam's moments are
// kept. (With β1 > 0 the step after a refresh depends on the SVD's sign convention per singular
// vector, LAPACK's in the reference and the Jacobi's here, because the kept first moment mixes the
// old basis's signs with the new one's; the second moment is sign-blind.)
// The lab finds the projector with a randomized range finder where the authors take a full SVD; the
// gradients here have exact rank 4 = the GaLore rank with distinct singular values (8:4:2:1 scales),
// the regime where both must give the same subspace and vectors (up to sign, to which the step is
// blind). A wrong projected side, a transposed conv matrix, a missed or extra refresh, moments reset
// at a refresh, or a wrong scale all change the update.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { formulaValues } from '../../../scripts/fixtures/torchFixtures';
import { SpecBuilder } from '../models/builder';
import { createModel, disposeModel, readParams } from '../nn/model';
import { labToTorch, paramLayouts, torchToLab } from '../weights/torchvision';
import { GaloreAdam } from './galore';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface StepRecord {
  singular_values: number[];
  projector: 'left' | 'right';
  refreshed: boolean;
  update_l2: number;
  update_samples: { stride: number; values: number[] };
}

interface GaloreMatricesFixture {
  rank: number;
  update_proj_gap: number;
  scale: number;
  lr: number;
  eps: number;
  weights: { name: string; shape: number[]; kind: 'weight' }[];
  scenarios: Record<'adam' | 'refresh', { betas: [number, number]; steps: Record<string, StepRecord>[] }>;
}

const fixture = JSON.parse(
  readFileSync(join(resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/methods'), 'galore_matrices.json'), 'utf8'),
) as GaloreMatricesFixture;

/** The fixture's gradient: A·diag(8, 4, 2, 1)·B summed over k in float64 in the script's order, then float32. */
function exactRankGradient(name: string, rows: number, cols: number, rank: number): Float32Array {
  const a = formulaValues(`${name}.left`, 'unit', [rows, rank]);
  const b = formulaValues(`${name}.right`, 'unit', [rank, cols]);
  const sigma = [8, 4, 2, 1];
  const g = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum = sum + a[i * rank + k] * sigma[k] * b[k * cols + j];
      g[i * cols + j] = sum;
    }
  }
  return g;
}

describe("GaLore's projected Adam step against the authors' GaLoreProjector", () => {
  for (const [scenario, title] of [
    ['adam', 'conv and linear weights, two steps on one projector'],
    ['refresh', 'conv and linear weights, three steps, projectors recomputed at step 2 with the moments kept'],
  ] as const) {
    it(title, async () => {
      const { betas, steps } = fixture.scenarios[scenario];
      // conv0 3 → 16 (1×1, not trained) feeds the 16 → 32 3×3 conv; fc maps its 32 pooled channels to 64.
      const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution: 8, numClasses: 64, stem: 'cifar' });
      let x = b.conv('conv0', b.input, { outChannels: 16, kernel: 1 });
      x = b.conv('conv', x, { outChannels: 32, kernel: 3 });
      x = b.flatten('flatten', b.globalAvgPool('pool', x));
      x = b.linear('fc', x, { outFeatures: 64, weightInit: { kind: 'zeros' }, biasInit: { kind: 'zeros' } });
      const spec = b.build(x);
      const names = fixture.weights.map((w) => w.name);
      for (const p of Object.values(spec.params)) p.trainable = names.includes(p.name);
      const layouts = paramLayouts(spec);
      const model = createModel(spec, { seed: 0 });
      for (const { name, shape } of fixture.weights) {
        (model.variables.get(name) as tf.Variable).assign(tf.tensor(torchToLab(formulaValues(name, 'weight', shape), shape, layouts[name]), spec.params[name].shape));
      }
      const optimizer = new GaloreAdam(spec, model.variables, {
        lr: fixture.lr,
        betas,
        eps: fixture.eps,
        rank: fixture.rank,
        updateProjGap: fixture.update_proj_gap,
        scale: fixture.scale,
      });
      try {
        for (const [t, record] of steps.entries()) {
          const before = await readParams(model);
          const grads = new Map<string, tf.Tensor>();
          for (const { name, shape } of fixture.weights) {
            const rows = shape[0];
            const cols = shape.slice(1).reduce((p, q) => p * q, 1);
            const g = exactRankGradient(`galore.grad${t}.${name}`, rows, cols, fixture.rank);
            grads.set(name, tf.tensor(torchToLab(g, shape, layouts[name]), spec.params[name].shape));
          }
          await optimizer.prepareStep(grads);
          tf.tidy(() => optimizer.step(grads));
          tf.dispose([...grads.values()]);
          const after = await readParams(model);
          for (const { name } of fixture.weights) {
            const expected = record[name];
            const delta = labToTorch(after[name].map((v, i) => v - before[name][i]), spec.params[name].shape, layouts[name]);
            const l2 = Math.hypot(...delta);
            const samples = expected.update_samples.values.map((_, i) => delta[i * expected.update_samples.stride]);
            const scale = Math.max(...expected.update_samples.values.map(Math.abs));
            const worst = Math.max(...samples.map((v, i) => Math.abs(v - expected.update_samples.values[i])));
            expect(Math.abs(l2 / expected.update_l2 - 1), `step ${t} ${name}: |ΔW|`).toBeLessThan(1e-4);
            expect(worst / scale, `step ${t} ${name}: ΔW samples (${expected.projector} projector${expected.refreshed ? ', refreshed' : ''})`).toBeLessThan(1e-3);
          }
        }
      } finally {
        optimizer.dispose();
        disposeModel(model);
      }
    });
  }
});
