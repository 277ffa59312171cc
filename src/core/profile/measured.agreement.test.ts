// Measured against analytic for every model × method at a small size on the CPU backend (width
// 0.25, 16×16, batch 2; a CPU step of a dense conv's weight gradient is slow, 32×32 would take
// minutes): PARAM, GRAD and OPT must agree to the byte; ACT and the simultaneous peak within 15%,
// every combination. Measured ACT runs 1–8% above analytic: BN keeps x with its batch mean and
// variance (the analytic view: x̂ and 1/σ), and the ops left to tfjs's auto-diff (squeeze-excitation's
// scaling, dropout, max pooling) keep what tfjs keeps.
// The ratios of every combination are printed at the end.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { applyMethod, methodOptions } from '../adapters';
import { METHOD_IDS, MODEL_IDS, type MethodId, type ModelId } from '../ids';
import { buildModelSpec } from '../models/registry';
import { compareMeasuredWithAnalytic, type MeasuredVsAnalytic } from './measuredCompare';
import { measureMethodStep } from './measuredRun';
import { optimizerCostOfMethod, profileSpec } from './profile';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TOLERANCE = 0.15;
const BATCH = 2;
// GaLore recomputes its projectors at every step, so the measured step is a refresh step, the one
// the analytic optimizer phase shows.
const OPTIONS = methodOptions({ galore: { ...methodOptions().galore, updateProjGap: 1 } });

interface Outcome {
  comparison: MeasuredVsAnalytic;
  optimizerStateBytes: number;
  optAfterStep: number;
  leakedTensors: number;
}

const outcomes = new Map<string, Promise<Outcome>>();

/** Measures a combination once; its tests share the result. */
function outcomeOf(model: ModelId, method: MethodId): Promise<Outcome> {
  const key = `${model}/${method}`;
  let outcome = outcomes.get(key);
  if (!outcome) {
    outcome = (async () => {
      const spec = applyMethod(buildModelSpec({ model, width: 0.25, resolution: 16, numClasses: 10, stem: 'cifar' }), method, OPTIONS);
      const tensorsBefore = tf.memory().numTensors;
      const measured = await measureMethodStep(spec, method, OPTIONS, { batch: BATCH, kernelTimes: false });
      const analytic = profileSpec(spec, { batch: BATCH, optimizer: optimizerCostOfMethod(method, OPTIONS) });
      return {
        comparison: compareMeasuredWithAnalytic(measured, analytic, spec),
        optimizerStateBytes: measured.optimizerStateBytes,
        optAfterStep: measured.bytesAfterStep.opt,
        leakedTensors: tf.memory().numTensors - tensorsBefore,
      };
    })();
    outcomes.set(key, outcome);
  }
  return outcome;
}

const withinTolerance = (ratio: number) => Math.abs(ratio - 1) <= TOLERANCE;

for (const model of MODEL_IDS) {
  describe(`${model}, measured on the CPU backend vs analytic`, () => {
    for (const method of METHOD_IDS) {
      it(`${method}: PARAM, GRAD and OPT to the byte; OPT is the optimizer's state; no tensor leaks`, async () => {
        const { comparison, optimizerStateBytes, optAfterStep, leakedTensors } = await outcomeOf(model, method);
        for (const group of ['param', 'grad', 'opt'] as const) {
          const { measured, analytic } = comparison.maxBytesByGroup[group];
          expect(measured, group).toBe(analytic);
        }
        expect(optAfterStep).toBe(optimizerStateBytes);
        expect(leakedTensors).toBe(0);
      });

      it(`${method}: ACT within 15%`, async () => {
        const { comparison } = await outcomeOf(model, method);
        expect(withinTolerance(comparison.maxBytesByGroup.act.ratio), `ACT ratio ${comparison.maxBytesByGroup.act.ratio}`).toBe(true);
      });

      it(`${method}: simultaneous peak within 15%`, async () => {
        const { comparison } = await outcomeOf(model, method);
        expect(withinTolerance(comparison.peak.ratio), `peak ratio ${comparison.peak.ratio}`).toBe(true);
      });
    }
  });
}

afterAll(async () => {
  const rows: string[] = ['model/method: PARAM GRAD OPT | ACT measured/analytic | peak measured/analytic'];
  for (const [key, outcome] of outcomes) {
    const { comparison } = await outcome;
    const g = comparison.maxBytesByGroup;
    const same = (a: { ratio: number }) => (a.ratio === 1 ? '=' : a.ratio.toFixed(3));
    rows.push(`${key}: ${same(g.param)} ${same(g.grad)} ${same(g.opt)} | ${g.act.ratio.toFixed(3)} | ${comparison.peak.ratio.toFixed(3)}`);
  }
  console.log(rows.join('\n'));
});
