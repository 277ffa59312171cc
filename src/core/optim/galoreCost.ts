// GaLore's view of a model (which weights it projects, as which matrix, on which side) and what it
// costs (OPT bytes, projection and decomposition FLOPs): pure, no tfjs, shared by the optimizer
// (galore.ts) and the analytic profiler, so the profile charts what the optimizer runs.
import type { ModelSpec } from '../models/spec';
import { DEFAULT_RANGE_FINDER, topLeftSingularSubspaceCost, type RangeFinderOptions, type SubspaceCost } from './linalgCost';

export interface GaloreOptions {
  /** Rank of the projected gradient (GaLore's `rank`). */
  rank: number;
  /** Steps between recomputations of the projector (GaLore's `update_proj_gap`). */
  updateProjGap: number;
  /** Multiplies the back-projected update (GaLore's `scale`). */
  scale: number;
  /** The study's dynamic-rank variant: keep σᵢ ≥ threshold · σ₁ (at most `rank`); off when absent. */
  threshold?: number;
}

/** Which side of the lab matrix [rows = K, cols = out] is projected (the smaller one). */
export type ProjectedSide = 'rows' | 'cols';

export interface GaloreMatrix {
  rows: number;
  cols: number;
  side: ProjectedSide;
}

/** The torch tie rule in lab terms (see header). */
export function projectedSide(rows: number, cols: number): ProjectedSide {
  return cols >= rows ? 'rows' : 'cols';
}

/** The matrix view of every trainable conv and linear weight of the spec, by parameter name:
 * [K, out] where out is the layer's output channels (a depthwise [kh, kw, C, 1] weight is
 * [kh·kw, C]). GaLore's own rule projects the weights of linear layers (the lab adds convs); a
 * ViT's class token and position embedding are 2-D too but embeddings, left to plain Adam. */
export function galoreMatrices(spec: ModelSpec): Map<string, GaloreMatrix> {
  const outputsByWeight = new Map<string, number>();
  for (const node of spec.nodes) {
    if (node.op === 'conv2d') outputsByWeight.set(node.weight, node.outChannels);
    else if (node.op === 'linear') outputsByWeight.set(node.weight, node.outFeatures);
  }
  const matrices = new Map<string, GaloreMatrix>();
  for (const param of Object.values(spec.params)) {
    const cols = outputsByWeight.get(param.name);
    if (!param.trainable || cols === undefined) continue;
    const size = param.shape.reduce((a, b) => a * b, 1);
    const rows = size / cols;
    matrices.set(param.name, { rows, cols, side: projectedSide(rows, cols) });
  }
  return matrices;
}

// ---- Costs, for the analytic profiler (one place for GaLore's FLOPs and OPT bytes) -------------

export interface GaloreParamCost {
  param: string;
  matrix: GaloreMatrix;
  /** Rank used: min(rank, smaller side); the dynamic-rank variant may keep fewer (an upper bound). */
  rank: number;
  /** Projector (small side × rank) and the two projected moments, float32. */
  optimizerBytes: number;
  /** Every step: R = Pᵀ·G and the back-projection P·N, 2·rows·cols·rank FLOPs each. */
  projectionFlopsPerStep: number;
  /** Every `updateProjGap` steps: the range finder and the small SVD. */
  decomposition: SubspaceCost;
}

export interface GaloreCost {
  projected: GaloreParamCost[];
  /** Trainable parameters with < 2 dimensions (plain Adam, two moments each). */
  plainParams: string[];
  /** OPT group: projectors and projected moments, plus plain Adam's moments. */
  optimizerBytes: number;
  projectionFlopsPerStep: number;
  decompositionFlopsPerRefresh: number;
  /** decompositionFlopsPerRefresh / updateProjGap. */
  decompositionFlopsPerStepAmortized: number;
}

export function galoreCost(spec: ModelSpec, options: GaloreOptions, rangeFinder: RangeFinderOptions = DEFAULT_RANGE_FINDER): GaloreCost {
  const matrices = galoreMatrices(spec);
  const projected: GaloreParamCost[] = [];
  for (const [param, matrix] of matrices) {
    const small = Math.min(matrix.rows, matrix.cols);
    const large = Math.max(matrix.rows, matrix.cols);
    const oriented = matrix.side === 'rows' ? [matrix.rows, matrix.cols] : [matrix.cols, matrix.rows];
    const rank = Math.min(options.rank, small);
    projected.push({
      param,
      matrix,
      rank,
      optimizerBytes: 4 * (small * rank + 2 * rank * large),
      projectionFlopsPerStep: 2 * (2 * matrix.rows * matrix.cols * rank),
      decomposition: topLeftSingularSubspaceCost(oriented[0], oriented[1], options.rank, rangeFinder),
    });
  }
  const plainParams = Object.values(spec.params)
    .filter((p) => p.trainable && !matrices.has(p.name))
    .map((p) => p.name);
  const plainBytes = plainParams.reduce((sum, name) => sum + 2 * 4 * spec.params[name].shape.reduce((a, b) => a * b, 1), 0);
  const decompositionFlopsPerRefresh = projected.reduce((sum, p) => sum + p.decomposition.totalFlops, 0);
  return {
    projected,
    plainParams,
    optimizerBytes: plainBytes + projected.reduce((sum, p) => sum + p.optimizerBytes, 0),
    projectionFlopsPerStep: projected.reduce((sum, p) => sum + p.projectionFlopsPerStep, 0),
    decompositionFlopsPerRefresh,
    decompositionFlopsPerStepAmortized: decompositionFlopsPerRefresh / options.updateProjGap,
  };
}
