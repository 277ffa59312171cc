// Linear algebra that tfjs lacks, for GaLore's projector: the top-r left singular subspace of a
// matrix by a randomized range finder (Halko, Martinsson & Tropp 2011, Alg. 4.4: Gaussian sketch,
// subspace power iterations re-orthonormalised at every product) followed by an exact SVD of the
// small reduced matrix on the CPU (one-sided Jacobi in Float64).
//
// The big products stay on the tfjs device. Each sketch (m × k, k = rank + oversampling) is read
// back with `await data()`, orthonormalised on the CPU in Float64 and sent back: Gram–Schmidt is
// O(m·k²) arithmetic, but as tfjs ops it was ~20 tiny dispatches per column, ~3,000 for a
// MobileNetV2 refresh (26-30 s on SwiftShader). The reduced (k × n) matrix is read back for the
// small SVD. The products are the engine's matmul (kernels/fused.ts matMul2d): on SwiftShader the
// lab's kernel, whose sizes are uniforms, where tfjs's tiled matmul compiled a pipeline per shape
// class (~1.3 s each; 5.4 s of a MobileNetV2's first refresh). The FLOP counts of every stage live
// in linalgCost.ts, so the profiler charts what runs.
import * as tf from '@tensorflow/tfjs';

import { matMul2d } from '../kernels/fused';
import { createRng } from '../rng';
import { DEFAULT_RANGE_FINDER, sketchWidth, type RangeFinderOptions } from './linalgCost';

export { DEFAULT_RANGE_FINDER, JACOBI_SWEEPS_ESTIMATE, orthonormalizeFlops, sketchWidth, smallSvdFlops, topLeftSingularSubspaceCost, type RangeFinderOptions, type SubspaceCost } from './linalgCost';

export interface LeftSingularSubspace {
  /** m × rank; orthonormal columns, the leading left singular vectors in order. */
  basis: tf.Tensor2D;
  /** The `rank` largest singular values, descending (estimates when the range finder ran). */
  singularValues: Float64Array;
}

/**
 * Top-`rank` left singular vectors and values of `a` (m × n). When the sketch would span every row
 * (k = m) the SVD is exact: no range finder, the small SVD runs on `a` itself. The caller owns
 * `basis` and must dispose it.
 */
export async function topLeftSingularSubspace(
  a: tf.Tensor2D,
  rank: number,
  options: RangeFinderOptions = DEFAULT_RANGE_FINDER,
): Promise<LeftSingularSubspace> {
  const [rows, cols] = a.shape;
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`rank must be a positive integer, got ${rank}`);
  const keep = Math.min(rank, rows, cols);
  const k = sketchWidth(rows, cols, keep, options.oversampling);
  // rangeBasis: m × k orthonormal columns spanning (approximately) the dominant column space.
  const rangeBasis = k === rows ? null : await rangeFinder(a, k, options);
  const reduced = rangeBasis ? tf.tidy(() => matMul2d(rangeBasis, a, true, false)) : a;
  const reducedData = Float64Array.from(await reduced.data());
  if (rangeBasis) reduced.dispose();

  const small = leftSingularVectorsOfWide(reducedData, reduced.shape[0], cols);
  const leading = new Float32Array(small.rows * keep);
  for (let i = 0; i < small.rows; i++) {
    for (let j = 0; j < keep; j++) leading[i * keep + j] = small.vectors[i * small.rows + j];
  }
  const basis = tf.tidy((): tf.Tensor2D => {
    const leadingTensor = tf.tensor2d(leading, [small.rows, keep]);
    return rangeBasis ? matMul2d(rangeBasis, leadingTensor) : leadingTensor;
  });
  rangeBasis?.dispose();
  return { basis, singularValues: small.singularValues.slice(0, keep) };
}

/** Halko Alg. 4.4: Q = orth(A·Ω), then `powerIterations` × { Z = orth(Aᵀ·Q); Q = orth(A·Z) }; the
 * products on the device, each orthonormalisation on the CPU (`orthonormalized`). */
export async function rangeFinder(a: tf.Tensor2D, k: number, options: RangeFinderOptions): Promise<tf.Tensor2D> {
  const cols = a.shape[1];
  const testMatrix = tf.tensor2d(gaussianMatrix(cols, k, options.seed), [cols, k]);
  let q = await orthonormalized(matMul2d(a, testMatrix));
  testMatrix.dispose();
  for (let i = 0; i < options.powerIterations; i++) {
    const z = await orthonormalized(matMul2d(a, q, true, false));
    q.dispose();
    q = await orthonormalized(matMul2d(a, z));
    z.dispose();
  }
  return q;
}

/** `y` orthonormalised (orthonormalizeColumns) by way of the CPU; disposes `y`. */
async function orthonormalized(y: tf.Tensor2D): Promise<tf.Tensor2D> {
  const [rows, cols] = y.shape;
  const values = Float64Array.from(await y.data());
  y.dispose();
  return tf.tensor2d(Float32Array.from(orthonormalizeColumns(values, rows, cols)), [rows, cols]);
}

/** Divisor floor in the normalisation (a normal float32). */
const NORM_FLOOR = 1e-30;

/**
 * Classical Gram–Schmidt applied twice per column ("twice is enough", Giraud et al. 2005) on a
 * rows × cols row-major matrix, in Float64: columns come out orthonormal to working precision.
 * tfjs's own `linalg.qr` forms an m × m Q and divides by zero on an exactly dependent column.
 * Gradients are often rank-deficient (rank ≤ batch): a column dependent up to roundoff comes out as
 * some unit direction orthogonal to the others (as an SVD's null-space vectors do), and one whose
 * residual is exactly zero comes out as zero (σ = 0 there).
 */
export function orthonormalizeColumns(y: Float64Array, rows: number, cols: number): Float64Array {
  const q = new Float64Array(rows * cols);
  const v = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) v[i] = y[i * cols + j];
    for (let pass = 0; pass < 2 && j > 0; pass++) {
      // v ← v − Q·(Qᵀv) over the j columns done.
      const h = new Float64Array(j);
      for (let i = 0; i < rows; i++) for (let c = 0; c < j; c++) h[c] += q[i * cols + c] * v[i];
      for (let i = 0; i < rows; i++) for (let c = 0; c < j; c++) v[i] -= q[i * cols + c] * h[c];
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += v[i] * v[i];
    // A zero residual stays zero: 0 / floor.
    const scale = 1 / Math.max(Math.sqrt(norm), NORM_FLOOR);
    for (let i = 0; i < rows; i++) q[i * cols + j] = v[i] * scale;
  }
  return q;
}

/** rows × cols standard normal entries from the lab's seeded stream, row-major. */
export function gaussianMatrix(rows: number, cols: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: rows * cols }, () => rng.normal());
}

export interface SmallSvd {
  rows: number;
  /** rows × rows, row-major; column j is the j-th left singular vector (always an orthogonal matrix). */
  vectors: Float64Array;
  /** Descending, length rows (zeros where the rank is short). */
  singularValues: Float64Array;
}

/** Jacobi stops when every pair of columns is orthogonal to this relative tolerance. */
const JACOBI_TOLERANCE = 1e-13;
const JACOBI_MAX_SWEEPS = 60;

/**
 * Left singular vectors and singular values of a small wide matrix B (rows × cols, row-major,
 * rows ≤ cols in practice) by one-sided Jacobi (Hestenes) on Bᵀ: plane rotations V make the
 * columns of Bᵀ·V mutually orthogonal, so Bᵀ = W·Σ·Vᵀ and B = V·Σ·Wᵀ. V accumulates rotations,
 * so it is orthogonal even where B is rank-deficient.
 */
export function leftSingularVectorsOfWide(b: Float64Array, rows: number, cols: number): SmallSvd {
  // work: Bᵀ stored column by column, i.e. row i of B is work column i (contiguous).
  const work = Float64Array.from(b);
  const v = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) v[i * rows + i] = 1;
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < rows - 1; p++) {
      for (let q = p + 1; q < rows; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        const offP = p * cols;
        const offQ = q * cols;
        for (let i = 0; i < cols; i++) {
          const x = work[offP + i];
          const y = work[offQ + i];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= JACOBI_TOLERANCE * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that zeroes the (p, q) entry of the Gram matrix [[α, γ], [γ, β]].
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < cols; i++) {
          const x = work[offP + i];
          const y = work[offQ + i];
          work[offP + i] = c * x - s * y;
          work[offQ + i] = s * x + c * y;
        }
        for (let i = 0; i < rows; i++) {
          const x = v[i * rows + p];
          const y = v[i * rows + q];
          v[i * rows + p] = c * x - s * y;
          v[i * rows + q] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += work[j * cols + i] ** 2;
    norms[j] = Math.sqrt(sum);
  }
  const order = Array.from(norms.keys()).sort((x, y) => norms[y] - norms[x]);
  const vectors = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    order.forEach((from, to) => {
      vectors[i * rows + to] = v[i * rows + from];
    });
  }
  return { rows, vectors, singularValues: Float64Array.from(order, (j) => norms[j]) };
}

/**
 * The study's dynamic-rank rule: how many of the (descending) singular values to keep — those with
 * σᵢ ≥ threshold · σ₁, at most `maxRank`, at least 1.
 */
export function rankAboveThreshold(singularValues: ArrayLike<number>, maxRank: number, threshold: number): number {
  const largest = singularValues[0] ?? 0;
  let kept = 1;
  while (kept < Math.min(maxRank, singularValues.length) && singularValues[kept] >= threshold * largest) kept++;
  return kept;
}
