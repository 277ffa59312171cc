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

  // Moments within 4 standard errors of the sample statistic (n = 20,000): a seeded stream, so each
  // check is deterministic, and a 4-SE band is what a correct generator passes with 99.99% odds for
  // a fresh seed. Standard errors: mean σ/√n; variance √((μ₄ − σ⁴)/n) with μ₄ the fourth central
  // moment (uniform 1/80, normal 3σ⁴, Poisson λ(1 + 3λ)); a proportion √(p(1 − p)/n).
  const N = 20000;
  const within = (value: number, expected: number, standardError: number) => Math.abs(value - expected) / standardError;

  it('draws uniforms in [0, 1) with the uniform mean, variance and histogram', () => {
    const rng = createRng(1);
    const uniforms = Array.from({ length: N }, () => rng.next());
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniforms)).toBeLessThan(1);
    const { mean, variance } = stats(uniforms);
    expect(within(mean, 1 / 2, Math.sqrt(1 / 12 / N))).toBeLessThan(4);
    expect(within(variance, 1 / 12, Math.sqrt((1 / 80 - 1 / 144) / N))).toBeLessThan(4);
    // Ten equal bins: Pearson's χ² with 9 degrees of freedom stays below 27.88 with 99.9% odds.
    const bins = new Array<number>(10).fill(0);
    for (const u of uniforms) bins[Math.floor(u * 10)]++;
    expect(bins.reduce((chi2, count) => chi2 + (count - N / 10) ** 2 / (N / 10), 0)).toBeLessThan(27.88);
  });

  it('draws normals with the requested mean, standard deviation and shape', () => {
    const rng = createRng(1);
    const samples = Array.from({ length: N }, () => rng.normal(3, 2));
    const { mean, variance } = stats(samples);
    expect(within(mean, 3, 2 / Math.sqrt(N))).toBeLessThan(4);
    expect(within(variance, 4, Math.sqrt((3 * 16 - 16) / N))).toBeLessThan(4);
    // Φ(1) − Φ(−1) = 0.682689 of the mass within one standard deviation, 0.954500 within two.
    for (const [k, p] of [[1, 0.682689], [2, 0.9545]] as const) {
      const fraction = samples.filter((v) => Math.abs(v - 3) < 2 * k).length / N;
      expect(within(fraction, p, Math.sqrt((p * (1 - p)) / N)), `within ${k}σ`).toBeLessThan(4);
    }
  });

  it('draws Poisson samples with mean = variance = lambda, small and large', () => {
    const rng = createRng(2);
    for (const lambda of [0.7, 4, 37, 250]) {
      const { mean, variance } = stats(Array.from({ length: N }, () => rng.poisson(lambda)));
      expect(within(mean, lambda, Math.sqrt(lambda / N)), `mean at λ = ${lambda}`).toBeLessThan(4);
      expect(within(variance, lambda, Math.sqrt((lambda + 2 * lambda * lambda) / N)), `variance at λ = ${lambda}`).toBeLessThan(4);
    }
    expect(rng.poisson(0)).toBe(0);
  });

  it('computes log-gamma and permutations', () => {
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    const order = Array.from(permutation(50, createRng(3)));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
