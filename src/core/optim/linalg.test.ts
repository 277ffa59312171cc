import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  gaussianMatrix,
  leftSingularVectorsOfWide,
  orthonormalizeColumns,
  rankAboveThreshold,
  topLeftSingularSubspace,
  topLeftSingularSubspaceCost,
} from './linalg';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A random m × m orthogonal matrix (QR of a Gaussian one), as a tensor. */
function randomOrthogonal(size: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from(orthonormalizeColumns(Float64Array.from(gaussianMatrix(size, size, seed)), size, size)), [size, size]);
}

/** orthonormalizeColumns of a matrix given by rows, as a tensor. */
function orthonormalizedRows(rows: number[][]): tf.Tensor2D {
  const q = orthonormalizeColumns(Float64Array.from(rows.flat()), rows.length, rows[0].length);
  return tf.tensor2d(Float32Array.from(q), [rows.length, rows[0].length]);
}

/** U · diag(σ) · Vᵀ with random orthogonal U (m × m), V (n × n); σ has min(m, n) entries. */
function withSpectrum(rows: number, cols: number, sigma: number[], seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = randomOrthogonal(rows, seed).slice([0, 0], [rows, sigma.length]);
    const v = randomOrthogonal(cols, seed + 1).slice([0, 0], [cols, sigma.length]);
    return tf.matMul(tf.mul(u, tf.tensor1d(sigma)), v, false, true);
  });
}

async function maxAbs(t: tf.Tensor): Promise<number> {
  const max = tf.tidy(() => tf.max(tf.abs(t)));
  try {
    return (await max.data())[0];
  } finally {
    max.dispose();
  }
}

describe('orthonormalizeColumns', () => {
  it('returns orthonormal columns spanning the input', async () => {
    const rows = [
      [1, 2, 2],
      [0, 1, 2],
      [1, 0, 0],
      [2, 1, 2],
    ];
    const y = tf.tensor2d(rows);
    const q = orthonormalizedRows(rows);
    const gram = tf.matMul(q, q, true, false);
    expect(await maxAbs(tf.sub(gram, tf.eye(3)))).toBeLessThan(1e-6);
    // Span: Q·Qᵀ·Y = Y.
    expect(await maxAbs(tf.sub(tf.matMul(q, tf.matMul(q, y, true, false)), y))).toBeLessThan(1e-5);
    tf.dispose([y, q, gram]);
  });

  it('keeps columns orthonormal when one is dependent up to roundoff, and an exactly zero one zero', async () => {
    // Column 3 = 2 × column 2: its residual is roundoff, which comes out as a unit direction
    // orthogonal to the others (like an SVD's null-space vector); column 4 is exactly zero.
    const rows = [
      [1, 2, 4, 0],
      [0, 1, 2, 0],
      [1, 0, 0, 0],
      [2, 1, 2, 0],
      [1, 3, 6, 0],
    ];
    const y = tf.tensor2d(rows);
    const q = orthonormalizedRows(rows);
    const gram = tf.matMul(q, q, true, false);
    const gramData = gram.arraySync() as number[][];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) expect(Math.abs(gramData[i][j] - (i === j ? 1 : 0))).toBeLessThan(1e-5);
    }
    expect(await maxAbs(q.slice([0, 3], [5, 1]))).toBe(0);
    tf.dispose([y, q, gram]);
  });
});

describe('leftSingularVectorsOfWide (one-sided Jacobi)', () => {
  it('matches a hand-checked SVD and keeps V orthogonal', () => {
    // B = [[3, 0, 0], [0, 0, 4]] has σ = (4, 3), left vectors e2, e1.
    const svd = leftSingularVectorsOfWide(Float64Array.from([3, 0, 0, 0, 0, 4]), 2, 3);
    expect(Array.from(svd.singularValues)).toEqual([4, 3]);
    expect(Math.abs(svd.vectors[1 * 2 + 0])).toBeCloseTo(1, 12);
    expect(Math.abs(svd.vectors[0 * 2 + 1])).toBeCloseTo(1, 12);
  });

  it('reconstructs a random matrix: B = V Σ Wᵀ with ‖Bᵀvⱼ‖ = σⱼ', () => {
    const rows = 5;
    const cols = 9;
    const b = Float64Array.from(gaussianMatrix(rows, cols, 7));
    const { vectors, singularValues } = leftSingularVectorsOfWide(b, rows, cols);
    for (let j = 0; j < rows; j++) {
      let normSquared = 0;
      for (let c = 0; c < cols; c++) {
        let projected = 0;
        for (let i = 0; i < rows; i++) projected += vectors[i * rows + j] * b[i * cols + c];
        normSquared += projected ** 2;
      }
      expect(Math.sqrt(normSquared)).toBeCloseTo(singularValues[j], 10);
      if (j > 0) expect(singularValues[j]).toBeLessThanOrEqual(singularValues[j - 1]);
    }
  });
});

describe('topLeftSingularSubspace (randomized range finder)', () => {
  const rows = 48;
  const cols = 80;
  // A known spectrum, decaying as gradients' do; the top 6 are to be recovered.
  const sigma = Array.from({ length: rows }, (_, i) => 10 * 0.7 ** i);

  it('recovers the top-r singular values to 1e-3 relative and their subspace', async () => {
    const rank = 6;
    const a = withSpectrum(rows, cols, sigma, 11);
    const { basis, singularValues } = await topLeftSingularSubspace(a, rank);
    expect(basis.shape).toEqual([rows, rank]);
    for (let i = 0; i < rank; i++) {
      expect(Math.abs(singularValues[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-3);
    }
    // Uᵣᵀ A has the recovered singular values as its row norms.
    const rowNorms = tf.tidy(() => tf.norm(tf.matMul(basis, a, true, false), 2, 1));
    const norms = await rowNorms.data();
    for (let i = 0; i < rank; i++) expect(Math.abs(norms[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-3);
    const gram = tf.matMul(basis, basis, true, false);
    expect(await maxAbs(tf.sub(gram, tf.eye(rank)))).toBeLessThan(1e-5);
    tf.dispose([a, basis, rowNorms, gram]);
  });

  it('is exact (no sketch) when rank + oversampling covers the rows, and leaks no tensors', async () => {
    const a = withSpectrum(6, 30, [5, 4, 3, 2, 1, 0.5], 3);
    const before = tf.memory().numTensors;
    const { basis, singularValues } = await topLeftSingularSubspace(a, 3);
    expect(Array.from(singularValues).map((s) => +s.toFixed(4))).toEqual([5, 4, 3]);
    basis.dispose();
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });

  it('handles a rank-deficient matrix (a gradient of rank ≤ batch) without NaN', async () => {
    const a = withSpectrum(40, 60, [3, 2], 5);
    const { basis, singularValues } = await topLeftSingularSubspace(a, 4);
    expect(singularValues[0]).toBeCloseTo(3, 4);
    expect(singularValues[1]).toBeCloseTo(2, 4);
    expect(singularValues[2]).toBeLessThan(1e-4);
    expect(Number.isFinite(await maxAbs(basis))).toBe(true);
    tf.dispose([a, basis]);
  });
});

describe('rankAboveThreshold', () => {
  it('keeps σᵢ ≥ ε·σ₁, at most r, at least 1', () => {
    expect(rankAboveThreshold([10, 5, 1, 0.5], 4, 0.1)).toBe(3);
    expect(rankAboveThreshold([10, 5, 1, 0.5], 2, 0.01)).toBe(2);
    expect(rankAboveThreshold([10, 0, 0], 3, 0.5)).toBe(1);
  });
});

describe('topLeftSingularSubspaceCost', () => {
  it('counts the sketch, power iterations and reduction as 2mnk each per product', () => {
    const cost = topLeftSingularSubspaceCost(100, 200, 4, { oversampling: 4, powerIterations: 1, seed: 0 });
    // k = 8: A·Ω, Aᵀ·Q, A·Z, Qᵀ·A.
    expect(cost.matmulFlops).toBe(4 * 2 * 100 * 200 * 8);
    expect(cost.liftFlops).toBe(2 * 100 * 8 * 4);
    expect(cost.totalFlops).toBe(cost.matmulFlops + cost.orthonormalizeFlops + cost.smallSvdFlops + cost.liftFlops);
  });

  it('counts what the range finder runs: the matrix products match the BatchMatMul kernels tfjs dispatches', async () => {
    // The cost model's matmul and lift FLOPs against 2·m·k·n summed over the BatchMatMul kernels that
    // tf.profile records during the computation, for a matrix whose sketch is narrower than its rows
    // (the range-finder path): every product on the device, and nothing else. The rest of the cost
    // runs in plain JS, where the count cannot see it: the Gram–Schmidt passes (orthonormalizeFlops)
    // and the small Jacobi SVD, whose sweep count depends on the data (JACOBI_SWEEPS_ESTIMATE).
    const [rows, cols, rank] = [40, 200, 4];
    const options = { oversampling: 8, powerIterations: 2, seed: 7 };
    const a = tf.tensor2d(gaussianMatrix(rows, cols, 3), [rows, cols]);
    const info = await tf.profile(async () => {
      const { basis } = await topLeftSingularSubspace(a, rank, options);
      basis.dispose();
    });
    a.dispose();
    const size = (shape: number[]) => shape.reduce((p, q) => p * q, 1);
    const dispatched = info.kernels
      .filter((kernel) => kernel.name === 'BatchMatMul')
      .reduce((sum, kernel) => {
        const [left, right] = kernel.inputShapes.map(size);
        const out = size(kernel.outputShapes[0]);
        // A (m × k) · B (k × n) = C (m × n): |A|·|B| / |C| = k², whatever the transposes.
        return sum + 2 * out * Math.round(Math.sqrt((left * right) / out));
      }, 0);
    const cost = topLeftSingularSubspaceCost(rows, cols, rank, options);
    expect(dispatched).toBe(cost.matmulFlops + cost.liftFlops);
  });
});
