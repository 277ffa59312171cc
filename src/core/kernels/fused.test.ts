// The fused ops on the CPU backend: where cpu.ts has a kernel (Adam's updates) it must equal the
// plain tfjs ops bit for bit (batch norm's: its apply bit for bit, its sums to float32 rounding),
// and elsewhere the plain ops are what runs. The WebGPU kernels are
// held to the same plain ops in e2e/kernels.spec.ts.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adamDirection, adamMoment, adamMulti, adamParam, addScaled, batchMoments, batchNormApply, batchNormBackward, setFusedKernels } from './fused';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  setFusedKernels(true);
});

/** The op's result with the fused kernels, then with the plain tfjs ops, and the kernels each ran. */
async function bothWays(run: () => tf.Tensor): Promise<{ fused: Float32Array; plain: Float32Array; fusedKernels: string[] }> {
  let fusedResult: tf.Tensor | undefined;
  const profile = await tf.profile(() => (fusedResult = run()));
  setFusedKernels(false);
  const plainResult = run();
  setFusedKernels(true);
  const out = {
    fused: (await (fusedResult as tf.Tensor).data()) as Float32Array,
    plain: (await plainResult.data()) as Float32Array,
    fusedKernels: profile.kernels.map((k) => k.name),
  };
  tf.dispose([fusedResult as tf.Tensor, plainResult]);
  return out;
}

describe('optimizer kernels on the CPU backend', () => {
  const param = tf.tensor([0.5, -1.5, 2.0, 1e-3, -7.25, 3.3]);
  const grad = tf.tensor([0.1, -0.2, 0.3, 1e-6, 12.5, -0.6]);
  const moment = tf.tensor([0.01, 0.02, -0.03, 0.0, 1.5, -0.25]);
  const second = tf.tensor([1e-4, 4e-4, 9e-4, 0.0, 2.0, 0.04]);

  it.each([
    ['first moment', () => adamMoment(moment, grad, param, 0.9, 0, false)],
    ['second moment', () => adamMoment(second, grad, param, 0.999, 0, true)],
    ['first moment with L2 decay', () => adamMoment(moment, grad, param, 0.9, 0.01, false)],
    ['second moment with L2 decay', () => adamMoment(second, grad, param, 0.999, 0.01, true)],
    ['parameter', () => adamParam(param, moment, second, { stepSize: 1e-3 / (1 - 0.9 ** 3), biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8, decay: 1 })],
    ['parameter with AdamW decay', () => adamParam(param, moment, second, { stepSize: 1e-2, biasCorrection2Sqrt: Math.sqrt(0.001), eps: 1e-8, decay: 1 - 1e-2 * 0.01 })],
    ['scaled addition', () => addScaled(param, grad, -0.0123)],
  ])('%s: one kernel, equal to the plain ops bit for bit', async (_, run) => {
    const { fused, plain, fusedKernels } = await bothWays(run);
    expect(fusedKernels).toEqual([expect.stringMatching(/^Lab/)]);
    expect(Array.from(fused)).toEqual(Array.from(plain));
  });
});

describe('multi-tensor Adam on the CPU backend', () => {
  /** A variable holding its data alone (an in-place update needs data no other tensor shares). */
  const own = (t: tf.Tensor, trainable = true) => {
    const variable = tf.variable(t, trainable);
    t.dispose();
    return variable;
  };

  /** Two parameters and the moment arena, fresh. */
  function fresh() {
    const moments = own(tf.tensor([0.01, 0.02, -0.03, 0.0, 1.5, -0.25, 1e-4, 4e-4, 9e-4, 0.0, 2.0, 0.04]), false);
    const entries = [
      { param: own(tf.tensor([0.5, -1.5, 2.0, 1e-3], [2, 2])), grad: tf.tensor([0.1, -0.2, 0.3, 1e-6], [2, 2]), offset: 0 },
      { param: own(tf.tensor([-7.25, 3.3])), grad: tf.tensor([12.5, -0.6]), offset: 4 },
    ];
    return { moments, entries };
  }

  it.each([
    ['Adam with L2', { l2: 0.01, decay: 1 }],
    ['AdamW', { l2: 0, decay: 1 - 1e-2 * 0.01 }],
  ])('%s: updates parameters and moments in place, equal to the per-parameter ops bit for bit', async (_, decay) => {
    const step = { beta1: 0.9, beta2: 0.999, stepSize: 1e-2 / (1 - 0.9 ** 2), biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 2), eps: 1e-8, ...decay };
    const outcome = async (fusedOn: boolean) => {
      setFusedKernels(fusedOn);
      const { moments, entries } = fresh();
      const buffers = [moments, ...entries.map((e) => e.param)].map((t) => t.dataId);
      const profile = await tf.profile(() => adamMulti(moments, entries, step));
      const values = await Promise.all([moments, ...entries.map((e) => e.param)].map(async (t) => Array.from(await t.data())));
      const inPlace = [moments, ...entries.map((e) => e.param)].every((t, i) => t.dataId === buffers[i]);
      tf.dispose([moments, ...entries.flatMap((e) => [e.param, e.grad])]);
      return { values, inPlace, kernels: profile.kernels.map((k) => k.name) };
    };
    const fused = await outcome(true);
    const plain = await outcome(false);
    expect(fused.kernels).toEqual(['LabAdamMulti']);
    expect(fused.inPlace).toBe(true);
    expect(fused.values).toEqual(plain.values);
    // The plain path really moved something (it is not comparing two no-ops).
    expect(plain.values[1]).not.toEqual([0.5, -1.5, 2.0, 1e-3]);
  });
});

describe("GaLore's projected Adam step on the CPU backend", () => {
  it('updates both moments in place and returns the normalised step, equal to the plain ops bit for bit', async () => {
    const step = { beta1: 0.9, beta2: 0.999, biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8 };
    const outcome = async (fusedOn: boolean) => {
      setFusedKernels(fusedOn);
      const own = (values: number[]) => {
        const t = tf.tensor(values, [2, 3]);
        const variable = tf.variable(t, false);
        t.dispose();
        return variable;
      };
      const expAvg = own([0.01, 0.02, -0.03, 0.0, 1.5, -0.25]);
      const expAvgSq = own([1e-4, 4e-4, 9e-4, 0.0, 2.0, 0.04]);
      const grad = tf.tensor([0.1, -0.2, 0.3, 1e-6, 12.5, -0.6], [2, 3]);
      let direction: tf.Tensor | undefined;
      const profile = await tf.profile(() => (direction = adamDirection(expAvg, expAvgSq, grad, step)));
      const values = await Promise.all([direction as tf.Tensor, expAvg, expAvgSq].map(async (t) => Array.from(await t.data())));
      tf.dispose([direction as tf.Tensor, expAvg, expAvgSq, grad]);
      return { values, kernels: profile.kernels.map((k) => k.name) };
    };
    const fused = await outcome(true);
    const plain = await outcome(false);
    expect(fused.kernels).toEqual(['LabAdamDirection']);
    expect(fused.values).toEqual(plain.values);
    // The moments moved (the comparison is not between two no-ops).
    expect(plain.values[1]).not.toEqual([0.01, 0.02, -0.03, 0.0, 1.5, -0.25].map(Math.fround));
  });
});

describe('batch norm kernels on the CPU backend', () => {
  // [2, 3, 3, 4]: 18 values per channel; γ × 3 so x̂·γ + β crosses both of relu6's kinks.
  const x = tf.randomNormal([2, 3, 3, 4], 0.5, 2, 'float32', 1);
  const dy = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 2);
  const gamma = tf.mul(tf.randomNormal([4], 1, 0.3, 'float32', 3), 3) as tf.Tensor1D;
  const beta = tf.randomNormal([4], 1, 1, 'float32', 4) as tf.Tensor1D;
  const stats = batchMoments(x);

  it.each(['none', 'relu', 'relu6'] as const)('apply with activation %s: one kernel, equal to the plain ops bit for bit', async (activation) => {
    const { fused, plain, fusedKernels } = await bothWays(() => batchNormApply(x, stats, gamma, beta, 1e-5, activation === 'none' ? undefined : activation));
    expect(fusedKernels).toEqual(['LabBatchNormApply']);
    expect(Array.from(fused)).toEqual(Array.from(plain));
  });

  it.each([undefined, 'relu', 'relu6'] as const)('backward masked by %s: dx, dγ and dβ equal the plain ops to float32 rounding', async (activation) => {
    const applied = activation ? { activation, beta } : undefined;
    const run = () => {
      const { dx, dGamma, dBeta } = batchNormBackward(dy, x, stats, gamma, 1e-5, true, applied);
      return tf.concat([tf.reshape(dx as tf.Tensor, [-1]), dGamma, dBeta]);
    };
    const { fused, plain, fusedKernels } = await bothWays(run);
    expect(fusedKernels).toEqual(expect.arrayContaining(['LabBatchNormGradSums', 'LabBatchNormInputGrad']));
    const scale = Math.max(...Array.from(plain, Math.abs));
    for (let i = 0; i < plain.length; i++) expect(Math.abs(fused[i] - plain[i]), `element ${i}`).toBeLessThan(1e-6 * scale);
    if (activation) {
      // The mask did something: some of dy's elements are dropped (the plain path's own values differ unmasked).
      const unmasked = await bothWays(() => {
        const { dGamma } = batchNormBackward(dy, x, stats, gamma, 1e-5, false);
        return dGamma;
      });
      expect(Array.from(unmasked.plain)).not.toEqual(Array.from(plain.slice(plain.length - 8, plain.length - 4)));
    }
  });
});
