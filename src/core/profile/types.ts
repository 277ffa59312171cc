// The profiler's vocabulary: what one training step costs, in bytes by memory group over time and
// in FLOPs by phase. The analytic profiler (shapes only) fills these types; the measured tracker
// (the real tfjs engine) fills the same MemoryProfile shape with view 'measured', so the UI and the
// CLI chart and print both alike.
import { FLOP_PHASES, type FlopPhase, type MemoryGroup } from '../ids';

/** float32: every tensor the profiler counts is float32 unless a rule says otherwise (masks, indices). */
export const BYTES_PER_FLOAT = 4;

/** Rows of the FLOP table; BN, activations and elementwise ops get their own (DESIGN.md, FLOPs).
 * 'attention' is its two batched matmuls (q·kᵀ, P·v), 'softmax' the softmax between them. */
export const FLOP_KINDS = [
  'conv',
  'linear',
  'attention',
  'batchnorm',
  'layernorm',
  'softmax',
  'activation',
  'elementwise',
  'decomposition',
] as const;
export type FlopKind = (typeof FLOP_KINDS)[number];

export type BytesByGroup = Record<MemoryGroup, number>;
export type FlopsByPhase = Record<FlopPhase, number>;

export function zeroBytesByGroup(): BytesByGroup {
  return { param: 0, grad: 0, act: 0, opt: 0, temp: 0 };
}

export function zeroFlopsByPhase(): FlopsByPhase {
  return Object.fromEntries(FLOP_PHASES.map((p) => [p, 0])) as FlopsByPhase;
}

export function sumOf(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

/**
 * The optimizer a method trains with, as far as cost is concerned. GaLore (src/core/optim/galore.ts):
 * every conv and linear weight's gradient is projected to `rank` on its smaller side, Adam runs in the
 * projected space, and the projector is recomputed every `updateProjGap` steps by a randomized
 * range finder (`oversampling` extra columns, `powerIterations` power iterations) and a small exact
 * SVD; every other parameter uses plain Adam, and so does the classifier with
 * `plainClassifier` (the methods' `trainHead`, src/core/adapters/galore.ts's galoreProjectionSpec).
 */
export type OptimizerCostSpec =
  | { kind: 'sgd' }
  | { kind: 'sgd_momentum' }
  | { kind: 'adam' }
  | { kind: 'galore'; rank: number; updateProjGap: number; oversampling: number; powerIterations: number; plainClassifier?: boolean };

export type OptimizerKind = OptimizerCostSpec['kind'];

export interface ProfileOptions {
  /** Images per step. */
  batch: number;
  optimizer: OptimizerCostSpec;
}

/**
 * Whose autograd keeps the activations:
 * - 'analytic': the lab's ideal engine, which keeps only what the trainable set's gradients need;
 * - 'pytorch': what PyTorch's autograd keeps for the same step (torchvision modules, in-place
 *   activations where torchvision uses them);
 * - 'measured': the real tfjs engine during a real step (filled by the measured tracker).
 */
export type MemoryView = 'analytic' | 'pytorch' | 'measured';

export const STEP_PHASES = ['forward', 'backward', 'optimizer'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/** One op of a step and the bytes alive at its high-water mark: its inputs, outputs, saved tensors
 * and workspace all alive at once (after it, what it consumed is freed before the next op). */
export interface TimelinePoint {
  phase: StepPhase;
  /** A node id, 'loss', or a parameter name in the optimizer phase. */
  op: string;
  bytes: BytesByGroup;
  total: number;
}

export interface MemoryPeak {
  /** Index into the timeline. */
  index: number;
  phase: StepPhase;
  op: string;
  bytes: BytesByGroup;
  total: number;
}

export interface MemoryProfile {
  view: MemoryView;
  timeline: TimelinePoint[];
  /** The simultaneous peak: the moment of the largest total, with its breakdown. */
  peak: MemoryPeak;
  /** Each group's own maximum over the step (reached at different moments). */
  maxBytesByGroup: BytesByGroup;
  /** Σ over groups of their maxima: the study's profiler convention, an upper bound on the peak. */
  sumOfGroupMaxima: number;
}

/** Bytes attributable to one node of the spec. */
export interface NodeMemory {
  nodeId: string;
  op: string;
  /** Its output, batch included (0 for views such as flatten). */
  outputBytes: number;
  /** Its parameters and buffers (PARAM), and the gradient and optimizer state of the trainable ones. */
  paramBytes: number;
  gradBytes: number;
  optBytes: number;
  /** What its backward keeps (ACT), by view; a tensor kept by several nodes is counted at each. */
  keptBytes: { analytic: number; pytorch: number };
}

/**
 * How the FLOPs are counted:
 * - 'correct': the lab's count (a grouped conv's weight gradient costs as much as its forward);
 * - 'torch': PyTorch's conv-backward counter convention (torch.utils.flop_counter), where a grouped
 *   conv's weight-gradient count is multiplied by the number of groups.
 */
export type FlopConvention = 'correct' | 'torch';

export interface NodeFlops {
  nodeId: string;
  op: string;
  /** A node may add to several rows (e.g. a DoRA node: its combine and its weight norm). */
  byKind: Partial<Record<FlopKind, FlopsByPhase>>;
}

export interface FlopProfile {
  convention: FlopConvention;
  /** Per training step; `projection` amortises GaLore's decomposition over updateProjGap steps. */
  byPhase: FlopsByPhase;
  total: number;
  byKind: Record<FlopKind, FlopsByPhase>;
  perNode: NodeFlops[];
  /** GaLore's decomposition FLOPs at a step that recomputes the projectors (not amortised); 0 otherwise. */
  projectorRefresh: number;
  /** Steps the decomposition is amortised over in `byPhase.projection` (1 when there is none). */
  refreshEverySteps: number;
}

export interface ParamSummary {
  /** Elements of every parameter (torch's `parameters()`: BN running statistics excluded). */
  total: number;
  trainable: number;
}

export interface AnalyticProfile {
  options: ProfileOptions;
  params: ParamSummary;
  memory: { analytic: MemoryProfile; pytorch: MemoryProfile };
  nodes: NodeMemory[];
  flops: { correct: FlopProfile; torchConvention: FlopProfile };
}
