import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { runSoak, soakGrowth, type SoakSample } from './soak';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sample = (step: number, numTensors: number, numBytes: number, gpu: number | null = null): SoakSample => ({
  step,
  numTensors,
  numBytes,
  numBytesInGPU: gpu,
  numBytesAllocatedInGPU: gpu,
});

describe('soakGrowth', () => {
  it('measures from the first sample at or after warm-up to the last, ignoring warm-up growth', () => {
    const { growth, flat } = soakGrowth([sample(5, 100, 1000, 10), sample(10, 120, 1200, 50), sample(15, 120, 1200, 50), sample(20, 120, 1200, 50)], 10);
    expect(growth).toEqual({ fromStep: 10, toStep: 20, tensors: 0, bytes: 0, bytesInGPU: 0, bytesAllocatedInGPU: 0 });
    expect(flat).toBe(true);
  });

  it('is not flat when one tensor a step leaks, or when the GPU pool keeps growing', () => {
    const leak = soakGrowth([sample(10, 120, 1200), sample(20, 130, 1240)], 10);
    expect(leak.growth).toMatchObject({ tensors: 10, bytes: 40, bytesInGPU: null });
    expect(leak.flat).toBe(false);
    expect(soakGrowth([sample(10, 120, 1200, 50), sample(20, 120, 1200, 60)], 10).flat).toBe(false);
  });

  it('needs two samples after warm-up', () => {
    expect(() => soakGrowth([sample(5, 1, 1), sample(10, 1, 1)], 10)).toThrow(/two samples after its 10 warm-up steps, got 1/);
  });
});

describe('runSoak on the CPU backend', () => {
  it('trains every step, samples every k-th and the last, stays flat and frees everything', async () => {
    const before = tf.memory().numTensors;
    let steps = 0;
    const result = await runSoak(
      { model: { model: 'mobilenet_v2', width: 0.25, resolution: 16, numClasses: 4, stem: 'cifar' }, method: 'lora', rank: 2, batch: 2, steps: 7, sampleEvery: 3, warmupSteps: 2, seed: 1, learningRate: 1e-3 },
      () => steps++,
    );
    expect(steps).toBe(7);
    expect(result.samples.map((s) => s.step)).toEqual([3, 6, 7]);
    expect(result.growth).toMatchObject({ fromStep: 3, toStep: 7, tensors: 0, bytes: 0, bytesInGPU: null });
    expect(result.flat).toBe(true);
    expect(Number.isFinite(result.lastLoss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
