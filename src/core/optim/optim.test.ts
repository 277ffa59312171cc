// Optimizers vs PyTorch's update rules, written out in float64 for a few steps.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer, type OptimizerConfig } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const INITIAL = [0.5, -1.5, 2.0];
const GRADIENTS = [
  [0.1, -0.2, 0.3],
  [-0.4, 0.5, 0.05],
  [0.2, 0.2, -0.6],
];

/** PyTorch's step functions, per element, in float64. */
function reference(config: OptimizerConfig): number[] {
  const p = [...INITIAL];
  const state = p.map(() => ({ buf: undefined as number | undefined, m: 0, v: 0 }));
  GRADIENTS.forEach((grads, step) => {
    const t = step + 1;
    grads.forEach((g0, i) => {
      const s = state[i];
      if (config.id === 'sgd') {
        const mu = config.momentum ?? 0;
        let d = g0 + (config.weightDecay ?? 0) * p[i];
        if (mu !== 0) {
          s.buf = s.buf === undefined ? d : mu * s.buf + d;
          d = config.nesterov ? d + mu * s.buf : s.buf;
        }
        p[i] -= config.lr * d;
      } else {
        const [b1, b2] = config.betas ?? [0.9, 0.999];
        const eps = config.eps ?? 1e-8;
        const wd = config.weightDecay ?? (config.id === 'adamw' ? 0.01 : 0);
        let g = g0;
        if (config.id === 'adamw') p[i] *= 1 - config.lr * wd;
        else g += wd * p[i];
        s.m = b1 * s.m + (1 - b1) * g;
        s.v = b2 * s.v + (1 - b2) * g * g;
        const denom = Math.sqrt(s.v) / Math.sqrt(1 - b2 ** t) + eps;
        p[i] -= (config.lr / (1 - b1 ** t)) * (s.m / denom);
      }
    });
  });
  return p;
}

async function run(config: OptimizerConfig): Promise<{ values: number[]; stateBytes: number; slots: string[] }> {
  const param = tf.variable(tf.tensor1d(INITIAL));
  const optimizer = createOptimizer(config, new Map([['w', param]]));
  for (const grads of GRADIENTS) {
    const grad = tf.tensor1d(grads);
    optimizer.step(new Map([['w', grad]]));
    grad.dispose();
  }
  const values = Array.from(await param.data());
  const result = { values, stateBytes: optimizer.stateBytes(), slots: optimizer.stateEntries().map((e) => `${e.param}:${e.slot}`) };
  optimizer.dispose();
  param.dispose();
  return result;
}

describe('optimizers follow PyTorch', () => {
  const configs: OptimizerConfig[] = [
    { id: 'sgd', lr: 0.1 },
    { id: 'sgd', lr: 0.1, momentum: 0.9 },
    { id: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
    { id: 'adam', lr: 0.01 },
    { id: 'adam', lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-6 },
    { id: 'adamw', lr: 0.01 },
    { id: 'adamw', lr: 0.01, weightDecay: 0.5 },
  ];
  for (const config of configs) {
    it(JSON.stringify(config), async () => {
      const { values } = await run(config);
      reference(config).forEach((want, i) => expect(values[i]).toBeCloseTo(want, 6));
      // The updates are not no-ops (the comparison can fail).
      values.forEach((v, i) => expect(Math.abs(v - INITIAL[i])).toBeGreaterThan(1e-4));
    });
  }

  it('first steps by hand: SGD momentum buffer starts at the gradient; Adam moves lr·sign(g)', async () => {
    const sgd = await run({ id: 'sgd', lr: 1, momentum: 0.5 });
    // buf = g1; buf = 0.5·g1 + g2; buf = 0.5·(0.5·g1 + g2) + g3.
    const expected = INITIAL.map((p, i) => {
      const [g1, g2, g3] = GRADIENTS.map((g) => g[i]);
      const b1 = g1;
      const b2 = 0.5 * b1 + g2;
      const b3 = 0.5 * b2 + g3;
      return p - b1 - b2 - b3;
    });
    sgd.values.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));

    const param = tf.variable(tf.tensor1d(INITIAL));
    const adam = createOptimizer({ id: 'adam', lr: 0.01 }, new Map([['w', param]]));
    const grad = tf.tensor1d(GRADIENTS[0]);
    adam.step(new Map([['w', grad]]));
    const after = await param.data();
    INITIAL.forEach((p, i) => expect(after[i]).toBeCloseTo(p - 0.01 * Math.sign(GRADIENTS[0][i]), 6));
    tf.dispose([grad, param]);
    adam.dispose();
  });

  it('lists its state for the profiler (OPT group)', async () => {
    expect((await run({ id: 'sgd', lr: 0.1 })).stateBytes).toBe(0);
    const momentum = await run({ id: 'sgd', lr: 0.1, momentum: 0.9 });
    expect(momentum.slots).toEqual(['w:momentum_buffer']);
    expect(momentum.stateBytes).toBe(12);
    const adam = await run({ id: 'adam', lr: 0.1 });
    expect(adam.slots).toEqual(['w:exp_avg', 'w:exp_avg_sq']);
    expect(adam.stateBytes).toBe(24);
  });

  it('keeps no tensor per step and frees its state on dispose', async () => {
    const param = tf.variable(tf.tensor1d(INITIAL));
    const grad = tf.tensor1d(GRADIENTS[0]);
    const before = tf.memory().numTensors;
    const optimizer = createOptimizer({ id: 'adamw', lr: 0.01 }, new Map([['w', param]]));
    optimizer.step(new Map([['w', grad]]));
    const afterOne = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) optimizer.step(new Map([['w', grad]]));
    expect(tf.memory().numTensors).toBe(afterOne);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([param, grad]);
  });

  it('rejects bad hyperparameters and unknown parameters', () => {
    const param = tf.variable(tf.tensor1d(INITIAL));
    const params = new Map([['w', param]]);
    expect(() => createOptimizer({ id: 'sgd', lr: -1 }, params)).toThrow(/lr must be ≥ 0/);
    expect(() => createOptimizer({ id: 'sgd', lr: 0.1, nesterov: true }, params)).toThrow(/nesterov needs momentum/);
    expect(() => createOptimizer({ id: 'adam', lr: 0.1, betas: [1, 0.9] }, params)).toThrow(/betas/);
    const grad = tf.tensor1d(GRADIENTS[0]);
    expect(() => createOptimizer({ id: 'adam', lr: 0.1 }, params).step(new Map([['v', grad]]))).toThrow(/unknown parameter v/);
    tf.dispose([param, grad]);
  });
});
