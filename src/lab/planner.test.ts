// The planner's answer is the brute-force one: every batch tried with the analytic profiler.
import { describe, expect, it } from 'vitest';
import { applyMethod } from '../core/adapters/definitions';
import { buildModelSpec } from '../core/models/registry';
import { optimizerCostOfMethod, profileSpec } from '../core/profile/profile';
import { DEFAULT_CONFIG, methodOptionsOf, modelOptionsOf, type LabConfig } from './config';
import { EDGE_DEVICES, largestFittingBatch, planFit } from './planner';

const SMALL: LabConfig = { ...DEFAULT_CONFIG, width: 0.25 };

/** The simultaneous peak from the full profiler (not the planner's shortcut), batch by batch. */
function profiledPeak(config: LabConfig, batch: number): number {
  const options = methodOptionsOf(config);
  const spec = applyMethod(buildModelSpec(modelOptionsOf(config)), config.method, options);
  return profileSpec(spec, { batch, optimizer: optimizerCostOfMethod(config.method, options, config.optimizer) }).memory.analytic.peak.total;
}

describe('the edge planner', () => {
  it('finds, for every method, the largest batch a brute-force search over batches finds', () => {
    const budget = 24 * 2 ** 20;
    const plan = planFit(SMALL, budget);
    for (const fit of plan.methods) {
      const config = { ...SMALL, method: fit.method };
      let brute: number | null = null;
      for (let batch = 1; batch <= 64; batch++) if (profiledPeak(config, batch) <= budget) brute = batch;
      expect(fit.largestBatch, fit.method).toBe(brute);
      expect(fit.largestBatch).toBeLessThan(64); // the search range covered the answer
      if (brute !== null) expect(fit.peakAtLargest).toBe(profiledPeak(config, brute));
    }
  });

  it('says when not even batch 1 fits, with the smallest peak and what would shrink it', () => {
    const tight = 2 * 2 ** 20;
    const plan = planFit(SMALL, tight);
    const lora = plan.methods.find((fit) => fit.method === 'lora')!;
    expect(lora.largestBatch).toBeNull();
    expect(lora.peakAtBatch1).toBe(profiledPeak(SMALL, 1));
    expect(plan.shrink.map((s) => s.change)).toEqual(['width 0.25 → 0.125', 'method lora → bn_head']);
    for (const shrink of plan.shrink) {
      expect(shrink.peakAtBatch1).toBe(profiledPeak(shrink.config, 1));
      expect(shrink.peakAtBatch1).toBeLessThan(lora.peakAtBatch1);
    }
  });

  it('bisects a monotone peak exactly, and reports a method that cannot run', () => {
    expect(largestFittingBatch((b) => 10 + 3 * b, 40, 100)).toBe(10);
    expect(largestFittingBatch((b) => 10 + 3 * b, 12, 100)).toBeNull();
    expect(largestFittingBatch((b) => b, 1e9, 100)).toBe(100);
    const plan = planFit({ ...SMALL, adaptDepthwise: true }, 64 * 2 ** 20);
    expect(plan.methods.find((fit) => fit.method === 'dora')?.unavailable).toMatch(/DoRA cannot adapt depthwise convs/);
    expect(() => planFit(SMALL, 0)).toThrow(/positive/);
  });

  it('every device states its source and what its reserve assumes', () => {
    for (const device of EDGE_DEVICES) {
      expect(device.budgetBytes).toBe(device.totalBytes - device.reserveBytes);
      expect(device.budgetBytes).toBeGreaterThan(0);
      expect(device.source.length).toBeGreaterThan(20);
      expect(device.reserveNote.length).toBeGreaterThan(10);
    }
  });
});
