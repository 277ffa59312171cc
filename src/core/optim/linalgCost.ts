// What GaLore's linear algebra (linalg.ts) costs, stage by stage, and the range finder's settings:
// pure arithmetic, no tfjs, so the analytic profiler charts what runs without loading the engine.

export interface RangeFinderOptions {
  /** Extra sketch columns beyond the rank (Halko's p). */
  oversampling: number;
  /** Subspace power iterations (each one multiplies by A·Aᵀ); sharpen a slowly decaying spectrum. */
  powerIterations: number;
  /** Seed of the Gaussian test matrix. */
  seed: number;
}

export const DEFAULT_RANGE_FINDER: RangeFinderOptions = { oversampling: 8, powerIterations: 2, seed: 0x5eed };

/** Sketch width: rank plus oversampling, never more than the matrix's smaller side. */
export function sketchWidth(rows: number, cols: number, rank: number, oversampling: number): number {
  return Math.min(rank + oversampling, rows, cols);
}

// ---- Costs (FLOPs = 2 × multiply-accumulates; the profiler's `projection` phase) -------------

/** Nominal Jacobi sweeps for cost estimates: the real count depends on the data (typically 5–10). */
export const JACOBI_SWEEPS_ESTIMATE = 8;

/** Two Gram–Schmidt passes over an m × k matrix: per column j, 2 × (Qᵀv and Q·h) + its norm. */
export function orthonormalizeFlops(rows: number, k: number): number {
  return 4 * rows * k * (k - 1) + 3 * rows * k;
}

/** One-sided Jacobi on a k × n matrix: per sweep and column pair, three dot products and a rotation. */
export function smallSvdFlops(k: number, n: number, sweeps = JACOBI_SWEEPS_ESTIMATE): number {
  return sweeps * ((k * (k - 1)) / 2) * (6 * n + 6 * n + 6 * k);
}

export interface SubspaceCost {
  /** Range finder matmuls: A·Ω, 2 per power iteration, and the reduction Qᵀ·A. */
  matmulFlops: number;
  /** Re-orthonormalisations (the lab's QR, in JS on the CPU: linalg.ts). */
  orthonormalizeFlops: number;
  smallSvdFlops: number;
  /** Lifting the small singular vectors back: Q · Ṽ[:, :r]. */
  liftFlops: number;
  totalFlops: number;
  /** Peak extra float32 bytes of the decomposition (sketch, bases, reduced matrix). */
  workspaceBytes: number;
}

/** What `topLeftSingularSubspace(a (m × n), rank, options)` costs, stage by stage. */
export function topLeftSingularSubspaceCost(
  rows: number,
  cols: number,
  rank: number,
  options: RangeFinderOptions = DEFAULT_RANGE_FINDER,
): SubspaceCost {
  const keep = Math.min(rank, rows, cols);
  const k = sketchWidth(rows, cols, keep, options.oversampling);
  const exact = k === rows;
  const q = options.powerIterations;
  const matmulFlops = exact ? 0 : 2 * rows * cols * k * (2 + 2 * q);
  const orthFlops = exact ? 0 : (1 + q) * orthonormalizeFlops(rows, k) + q * orthonormalizeFlops(cols, k);
  const svdFlops = smallSvdFlops(k, cols);
  const liftFlops = exact ? 0 : 2 * rows * k * keep;
  const workspaceFloats = exact ? rows * keep : cols * k + rows * k + cols * k + k * cols + rows * keep;
  return {
    matmulFlops,
    orthonormalizeFlops: orthFlops,
    smallSvdFlops: svdFlops,
    liftFlops,
    totalFlops: matmulFlops + orthFlops + svdFlops + liftFlops,
    workspaceBytes: 4 * workspaceFloats,
  };
}
