import { describe, expect, it } from 'vitest';
import { createRng, logGamma, mixSeed, permutation } from './rng';

function stats(samples: number[]): { mean: number; variance: number } {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
  return { mean, variance };
}

describe('rng', () => {
  it('is deterministic in its seed parts and differs across them', () => {
    const a = createRng(7, 1);
    const b = createRng(7, 1);
    const c = createRng(7, 2);
    const drawsA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(drawsA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(drawsA);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });

  it('draws uniforms in [0, 1) and normals with the requested moments', () => {
    const rng = createRng(1);
    const uniforms = Array.from({ length: 20000 }, () => rng.next());
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniforms)).toBeLessThan(1);
    expect(stats(uniforms).mean).toBeCloseTo(0.5, 1);
    const normals = stats(Array.from({ length: 20000 }, () => rng.normal(3, 2)));
    expect(normals.mean).toBeCloseTo(3, 1);
    expect(Math.sqrt(normals.variance)).toBeCloseTo(2, 1);
  });

  it('draws Poisson samples with mean = variance = lambda, small and large', () => {
    const rng = createRng(2);
    for (const lambda of [0.7, 4, 37, 250]) {
      const { mean, variance } = stats(Array.from({ length: 20000 }, () => rng.poisson(lambda)));
      expect(Math.abs(mean - lambda)).toBeLessThan(0.05 * lambda + 0.05);
      expect(Math.abs(variance - lambda)).toBeLessThan(0.08 * lambda + 0.05);
    }
    expect(rng.poisson(0)).toBe(0);
  });

  it('computes log-gamma and permutations', () => {
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    const order = Array.from(permutation(50, createRng(3)));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
