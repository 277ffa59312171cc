// What each trainable parameter's optimizer costs: state (OPT), FLOPs per step, GaLore's
// projections and decomposition, and the temporaries of its update. GaLore's matrices, OPT bytes
// and decomposition costs are src/core/optim/galore.ts's own (`galoreCost`), so the profile charts
// what the optimizer runs.
import { classifierParamNames } from '../adapters/targets';
import type { ModelSpec, ParamSpec } from '../models/spec';
import { galoreCost, type GaloreParamCost } from '../optim/galoreCost';
import { numel } from './graph';
import { BYTES_PER_FLOAT, type OptimizerCostSpec } from './types';

/**
 * FLOPs per element of one Adam step, as src/core/optim/adam.ts (= torch.optim.Adam, no weight
 * decay) computes it, counting each elementwise arithmetic op (sqrt included) as one FLOP:
 * m ← β1·m + (1−β1)·g (3), v ← β2·v + (1−β2)·g² (4), denom ← √v / √(1−β2ᵗ) + ε (3),
 * p ← p − (m / denom)·lr/(1−β1ᵗ) (3). Scalar bias corrections are per tensor and not counted.
 */
export const ADAM_FLOPS_PER_ELEMENT = 13;
/** SGD with momentum (src/core/optim/sgd.ts): b ← μ·b + g (2), p ← p − lr·b (2). */
export const SGD_MOMENTUM_FLOPS_PER_ELEMENT = 4;
/** Plain SGD: p ← p − lr·g. */
export const SGD_FLOPS_PER_ELEMENT = 2;
/** GaLore's Adam on the projected gradient: the moments (3 + 4), denom (3), m/denom (1). */
export const GALORE_PROJECTED_ADAM_FLOPS_PER_ELEMENT = 11;
/** GaLore's full-size apply after projecting back: p ← p − step·scale·ΔW (2 per weight element). */
export const GALORE_APPLY_FLOPS_PER_ELEMENT = 2;

export interface ParamOptimizerCost {
  /** Elements of optimizer state (OPT): moments, momentum, GaLore's projector. */
  stateElements: number;
  /** FLOPs of the update, every step. */
  optimizerFlops: number;
  /** GaLore: projecting the gradient (Pᵀ·G) and the update back (P·N), every step. */
  projectionFlops: number;
  /** GaLore: recomputing the projector, at one step in updateProjGap (not amortised). */
  refreshFlops: number;
  /** GaLore: extra bytes while the projector is recomputed. */
  refreshWorkspaceBytes: number;
  /** GaLore: floats of the projected gradient, the projected update and the update back at full size. */
  projectedUpdateElements: number;
  /** GaLore: the projected matrix (null for plain updates). */
  projected: GaloreParamCost | null;
}

/** Every trainable parameter's optimizer cost, by name. */
export function optimizerCosts(spec: ModelSpec, optimizer: OptimizerCostSpec): Map<string, ParamOptimizerCost> {
  const trainable = Object.values(spec.params).filter((p) => p.trainable);
  const projected = new Map<string, GaloreParamCost>();
  if (optimizer.kind === 'galore') {
    // `scale` and the dynamic-rank threshold change no cost (the rank is an upper bound); the seed none.
    const { rank, updateProjGap, oversampling, powerIterations } = optimizer;
    const costs = galoreCost(spec, { rank, updateProjGap, scale: 1 }, { oversampling, powerIterations, seed: 0 });
    // With `plainClassifier` the classifier's weights take plain Adam, as the method's optimizer does.
    const plain = new Set(optimizer.plainClassifier ? classifierParamNames(spec) : []);
    for (const cost of costs.projected) if (!plain.has(cost.param)) projected.set(cost.param, cost);
  }
  return new Map(trainable.map((p) => [p.name, paramCost(optimizer, p, projected.get(p.name) ?? null)]));
}

function paramCost(optimizer: OptimizerCostSpec, param: ParamSpec, projected: GaloreParamCost | null): ParamOptimizerCost {
  const n = numel(param.shape);
  const plain = { projectionFlops: 0, refreshFlops: 0, refreshWorkspaceBytes: 0, projectedUpdateElements: 0, projected: null };
  switch (optimizer.kind) {
    case 'sgd':
      return { stateElements: 0, optimizerFlops: SGD_FLOPS_PER_ELEMENT * n, ...plain };
    case 'sgd_momentum':
      return { stateElements: n, optimizerFlops: SGD_MOMENTUM_FLOPS_PER_ELEMENT * n, ...plain };
    case 'adam':
      return { stateElements: 2 * n, optimizerFlops: ADAM_FLOPS_PER_ELEMENT * n, ...plain };
    case 'galore': {
      // Parameters other than conv and linear weights (and the classifier with plainClassifier): plain Adam.
      if (!projected) return { stateElements: 2 * n, optimizerFlops: ADAM_FLOPS_PER_ELEMENT * n, ...plain };
      const lowRank = projected.rank * Math.max(projected.matrix.rows, projected.matrix.cols);
      return {
        stateElements: projected.optimizerBytes / BYTES_PER_FLOAT,
        optimizerFlops: GALORE_PROJECTED_ADAM_FLOPS_PER_ELEMENT * lowRank + GALORE_APPLY_FLOPS_PER_ELEMENT * n,
        projectionFlops: projected.projectionFlopsPerStep,
        refreshFlops: projected.decomposition.totalFlops,
        refreshWorkspaceBytes: projected.decomposition.workspaceBytes,
        projectedUpdateElements: 2 * lowRank + n,
        projected,
      };
    }
  }
}

/** GaLore's per-step temporaries as the reference implementation (galore_torch's AdamW) allocates
 * them: the projected gradient, √v + ε and the normalised update (3 × r × the larger side), the
 * update projected back and its `scale`-multiplied copy (2 × the weight). */
export function torchGaloreUpdateElements(cost: ParamOptimizerCost, param: ParamSpec): number {
  if (!cost.projected) return numel(param.shape);
  const { rank, matrix } = cost.projected;
  return 3 * rank * Math.max(matrix.rows, matrix.cols) + 2 * numel(param.shape);
}

/** The reference recomputes the projector with torch.linalg.svd(full_matrices=False): U (m × k),
 * S (k) and Vh (k × n), k = min(m, n), all alive while it runs. */
export function torchGaloreSvdBytes(cost: ParamOptimizerCost): number {
  if (!cost.projected) return 0;
  const { rows, cols } = cost.projected.matrix;
  const k = Math.min(rows, cols);
  return BYTES_PER_FLOAT * (rows * k + k + k * cols);
}
