import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../lab/config';
import { compareAllPlan, DEFAULT_SWEEP_RANKS, parseRanks, presetPlan, rankSweepPlan } from './runPlans';

describe('run plans', () => {
  it('compare all: every method once, same seed, data and schedule; adjusted so each can run', () => {
    const plan = compareAllPlan({ ...DEFAULT_CONFIG, adaptDepthwise: true, optimizer: 'sgd', seed: 42 });
    expect(plan.runs.map((run) => run.config.method)).toEqual(['fft', 'bn_head', 'lora', 'dora', 'galore']);
    expect(new Set(plan.runs.map((run) => run.config.seed))).toEqual(new Set([42]));
    expect(new Set(plan.runs.map((run) => run.config.trainImages))).toEqual(new Set([DEFAULT_CONFIG.trainImages]));
    expect(plan.runs.find((run) => run.config.method === 'dora')!.config.adaptDepthwise).toBe(false);
    expect(plan.runs.find((run) => run.config.method === 'galore')!.config.optimizer).toBe('adam');
    expect(plan.skipped).toEqual([]);
  });

  it('rank sweep: the study’s ranks by default, LoRA when the method has no rank; bad ranks skipped with why', () => {
    const plan = rankSweepPlan({ ...DEFAULT_CONFIG, method: 'fft' });
    expect(plan.runs.map((run) => run.config.rank)).toEqual([...DEFAULT_SWEEP_RANKS]);
    expect(plan.runs.every((run) => run.config.method === 'lora')).toBe(true);
    const tooBig = rankSweepPlan(DEFAULT_CONFIG, [4, 100_000]);
    expect(tooBig.runs.map((run) => run.config.rank)).toEqual([4]);
    expect(tooBig.skipped).toHaveLength(1);
    expect(tooBig.skipped[0]).toMatch(/r=100000/);
  });

  it('parses rank lists', () => {
    expect(parseRanks('5, 10,15 20')).toEqual([5, 10, 15, 20]);
    expect(parseRanks('10, 5, 10')).toEqual([5, 10]);
    expect(parseRanks('')).toBeNull();
    expect(parseRanks('4, x')).toBeNull();
    expect(parseRanks('0')).toBeNull();
    expect(parseRanks('2.5')).toBeNull();
  });

  it('presets: the study’s experiments', () => {
    const sweep = presetPlan('rank_sweep_brightness', DEFAULT_CONFIG);
    expect(sweep.runs.every((run) => run.config.corruption === 'brightness' && run.config.task === 'shift')).toBe(true);
    const hard = presetPlan('hard_shift_lora_galore', DEFAULT_CONFIG);
    expect(hard.runs.map((run) => run.config.method)).toEqual(['lora', 'galore']);
    expect(hard.runs.every((run) => run.config.corruption === 'impulse_noise' && run.config.severity === 5)).toBe(true);
  });
});
