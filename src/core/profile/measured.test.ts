// The measured tracker on hand-countable tiny nets (src/core/profile/tinyNets.ts), CPU backend:
// every byte of PARAM, GRAD and OPT, what each node keeps, the step's bookkeeping (no leak, the
// engine left as found), and per-kernel times.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { applyMethod, methodOptions } from '../adapters';
import { MEMORY_GROUPS } from '../ids';
import type { ModelSpec } from '../models/spec';
import { measureMethodStep } from './measuredRun';
import { compareMeasuredWithAnalytic } from './measuredCompare';
import { optimizerCostOfMethod, profileSpec } from './profile';
import { tinyConvBnReluLinear, type TinyTrainable } from './tinyNets';
import { STEP_PHASES } from './types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const BATCH = 2;

async function measureTiny(trainable: TinyTrainable, kernelTimes = false) {
  const spec: ModelSpec = tinyConvBnReluLinear(trainable);
  const measured = await measureMethodStep(spec, 'fft', methodOptions(), { batch: BATCH, kernelTimes });
  const analytic = profileSpec(spec, { batch: BATCH, optimizer: { kind: 'adam' } });
  return { spec, measured, analytic, comparison: compareMeasuredWithAnalytic(measured, analytic, spec) };
}

describe('measured step of the tiny conv-BN-ReLU-linear net (everything trains, Adam)', () => {
  // conv 3×3·2·3 = 54, BN γ β 3 + 3 and running stats 3 + 3, linear 3·2 + 2: 74 floats, 68 trainable.
  const paramBytes = 74 * 4;
  const gradBytes = 68 * 4;

  it('counts PARAM, GRAD and OPT to the byte, as the analytic profile does', async () => {
    const { measured, analytic } = await measureTiny('all');
    expect(measured.memory.maxBytesByGroup.param).toBe(paramBytes);
    expect(measured.memory.maxBytesByGroup.grad).toBe(gradBytes);
    expect(measured.memory.maxBytesByGroup.opt).toBe(2 * gradBytes);
    for (const group of ['param', 'grad', 'opt'] as const) {
      expect(measured.memory.maxBytesByGroup[group]).toBe(analytic.memory.analytic.maxBytesByGroup[group]);
    }
    // PARAM and OPT hold at every kernel: an update's new value is TEMP until assigned.
    for (const point of measured.memory.timeline) {
      expect(point.bytes.param).toBe(paramBytes);
      expect(point.bytes.opt).toBe(2 * gradBytes);
      expect(point.total).toBe(MEMORY_GROUPS.reduce((sum, g) => sum + point.bytes[g], 0));
    }
  });

  it('leaves only parameters and optimizer state behind, and no tensor', async () => {
    const before = tf.memory().numTensors;
    const { measured } = await measureTiny('all');
    expect(tf.memory().numTensors).toBe(before);
    expect(measured.bytesAfterStep).toEqual({ param: paramBytes, grad: 0, act: 0, opt: 2 * gradBytes, temp: 0 });
    expect(measured.optimizerStateBytes).toBe(2 * gradBytes);
    // The engine's methods are its prototype's again.
    for (const name of ['trackTensor', 'disposeTensor', 'runKernelFunc', 'startScope', 'endScope', 'endTape']) {
      expect(Object.prototype.hasOwnProperty.call(tf.engine(), name)).toBe(false);
    }
  });

  it('keeps, node by node, what the lab engine keeps', async () => {
    const { measured, comparison } = await measureTiny('all');
    const kept = new Map(measured.keptByNode?.map((k) => [k.node, k.bytes]));
    expect(kept.get('conv')).toBe(BATCH * 4 * 4 * 2 * 4); // its input, for dW
    expect(kept.get('relu')).toBe(BATCH * 4 * 4 * 3 * 4); // its output, for the mask
    expect(kept.get('fc')).toBe(BATCH * 3 * 4); // its input, for dW
    // BN keeps its input and the batch mean and variance, as the analytic view counts.
    expect(kept.get('bn')).toBe(BATCH * 4 * 4 * 3 * 4 + 2 * 3 * 4);
    expect(comparison.differences.map((d) => d.node).filter((n) => n !== 'loss')).toEqual([]);
    expect(comparison.maxBytesByGroup.act.ratio).toBeGreaterThanOrEqual(1);
    expect(comparison.maxBytesByGroup.act.ratio).toBeLessThan(1.15);
  });

  it('runs the frozen prefix off the tape: with only the classifier training, only it and the loss keep anything for the backward', async () => {
    const { measured } = await measureTiny('linear');
    const kept = measured.keptByNode ?? [];
    expect(kept.filter((k) => k.saved.length > 0).map((k) => k.node).sort()).toEqual(['fc', 'loss']);
    // BN updated its running statistics in the forward: nothing of it outlives the forward.
    expect(kept.find((k) => k.node === 'bn')?.bytes ?? 0).toBe(0);
    expect(measured.memory.maxBytesByGroup.grad).toBe(8 * 4);
  });

  it('gives one timeline point per kernel, in phase order, with CPU kernel times', async () => {
    const { measured } = await measureTiny('all', true);
    expect(measured.kernels.length).toBe(measured.memory.timeline.length);
    const phases = measured.kernels.map((k) => STEP_PHASES.indexOf(k.phase));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    expect(new Set(phases)).toEqual(new Set([0, 1, 2]));
    expect(measured.kernelTimes.available).toBe(true);
    for (const k of measured.kernels) expect(k.timeMs).toBeGreaterThanOrEqual(0);
    expect(measured.backend).toBe('cpu');
    expect(measured.backendBytes).toBeNull();
  });
});

describe('measured step of the tiny net with LoRA / DoRA on its conv and classifier', () => {
  for (const method of ['lora', 'dora'] as const) {
    it(`${method}: each combine node keeps what the analytic profile says, to the byte`, async () => {
      const options = methodOptions({ rank: 2, alpha: 4 });
      const spec = applyMethod(tinyConvBnReluLinear('all'), method, options);
      const measured = await measureMethodStep(spec, method, options, { batch: BATCH, kernelTimes: false });
      const analytic = profileSpec(spec, { batch: BATCH, optimizer: optimizerCostOfMethod(method, options) });
      const kept = new Map(measured.keptByNode?.map((k) => [k.node, k.bytes]));
      const combines = analytic.nodes.filter((n) => n.op === 'lora_add' || n.op === 'dora_combine');
      expect(combines.map((n) => n.nodeId)).toEqual(method === 'lora' ? ['conv.lora_add', 'fc.lora_add'] : ['conv.dora', 'fc.dora']);
      for (const node of combines) expect(kept.get(node.nodeId) ?? 0, node.nodeId).toBe(node.keptBytes.analytic);
      // DoRA: the per-channel norm and base + s·delta (conv: 3 channels, 2·4·4·3 elements).
      if (method === 'dora') expect(kept.get('conv.dora')).toBe((3 + BATCH * 4 * 4 * 3) * 4);
    });
  }
});
