// The analytic profile of one training step of a (method-rewritten) spec: bytes by group over time
// in the lab's and PyTorch's views, and FLOPs by phase in the correct and PyTorch-counter
// conventions — from shapes alone, fast enough to chart every method at once.
import type { MethodOptions } from '../adapters/method';
import type { MethodId } from '../ids';
import { countParams } from '../models/count';
import { DEFAULT_RANGE_FINDER } from '../optim/linalgCost';
import type { ModelSpec } from '../models/spec';
import { countFlops } from './flops';
import { analyseSpec } from './graph';
import { nodeMemory, simulateStep } from './memory';
import type {
  AnalyticProfile,
  BytesByGroup,
  FlopKind,
  FlopProfile,
  FlopsByPhase,
  MemoryProfile,
  OptimizerCostSpec,
  ProfileOptions,
  StepPhase,
} from './types';

/** The optimizer each method trains with (src/core/adapters), as the profiler costs it: GaLore's
 * projected Adam with the range finder the optimizer uses (the classifier left to plain Adam with
 * `trainHead`), and for every other method `plainOptimizer` (Adam, the methods' own; the lab's
 * trainer also offers plain SGD). The one mapping the app, the CLI and the bench use. */
export function optimizerCostOfMethod(method: MethodId, options: MethodOptions, plainOptimizer: 'adam' | 'sgd' = 'adam'): OptimizerCostSpec {
  if (method !== 'galore') return { kind: plainOptimizer };
  const { oversampling, powerIterations } = DEFAULT_RANGE_FINDER;
  const { rank, updateProjGap } = options.galore;
  return { kind: 'galore', rank, updateProjGap, oversampling, powerIterations, plainClassifier: options.trainHead };
}

export function profileSpec(spec: ModelSpec, options: ProfileOptions): AnalyticProfile {
  if (!(Number.isInteger(options.batch) && options.batch >= 1)) {
    throw new Error(`profile: batch must be an integer ≥ 1, got ${options.batch}`);
  }
  const graph = analyseSpec(spec);
  const analytic = simulateStep(graph, options, 'analytic');
  const pytorch = simulateStep(graph, options, 'pytorch');
  return {
    options,
    params: countParams(spec),
    memory: { analytic: analytic.profile, pytorch: pytorch.profile },
    nodes: nodeMemory(graph, options, { analytic: analytic.keptBytesByNode, pytorch: pytorch.keptBytesByNode }),
    flops: {
      correct: countFlops(graph, options.batch, options.optimizer, 'correct'),
      torchConvention: countFlops(graph, options.batch, options.optimizer, 'torch'),
    },
  };
}

/** Bytes by group with their total, as the CLI prints them. */
export type GroupSummary = { total: number } & BytesByGroup;

export interface MemorySummary {
  /** The simultaneous peak: the largest total at one moment, with its breakdown. */
  peak: GroupSummary;
  /** Each group's own maximum, summed in `total` (the study's convention, an upper bound). */
  sumOfGroupMaxima: GroupSummary;
  /** Where the simultaneous peak happens. */
  peakAt: { phase: StepPhase; op: string };
}

export type FlopSummary = { total: number; byKind: Record<FlopKind, FlopsByPhase> } & FlopsByPhase & {
  /** GaLore's decomposition at a refresh step, not amortised (`projection` amortises it). */
  projectorRefresh: number;
};

/** The numbers of a profile without timelines and per-node rows (the CLI's JSON). */
export interface ProfileSummary {
  params: AnalyticProfile['params'];
  memory: { analytic: MemorySummary; pytorch: MemorySummary };
  flops: { correct: FlopSummary; torchConvention: FlopSummary };
}

export function summariseMemory(profile: MemoryProfile): MemorySummary {
  return {
    peak: { total: profile.peak.total, ...profile.peak.bytes },
    sumOfGroupMaxima: { total: profile.sumOfGroupMaxima, ...profile.maxBytesByGroup },
    peakAt: { phase: profile.peak.phase, op: profile.peak.op },
  };
}

function summariseFlops(profile: FlopProfile): FlopSummary {
  return { ...profile.byPhase, total: profile.total, byKind: profile.byKind, projectorRefresh: profile.projectorRefresh };
}

export function summariseProfile(profile: AnalyticProfile): ProfileSummary {
  return {
    params: profile.params,
    memory: { analytic: summariseMemory(profile.memory.analytic), pytorch: summariseMemory(profile.memory.pytorch) },
    flops: { correct: summariseFlops(profile.flops.correct), torchConvention: summariseFlops(profile.flops.torchConvention) },
  };
}
