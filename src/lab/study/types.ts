// The shapes of a study: its runs, cells, verdicts and report (report.ts computes and checks them,
// verdicts.ts judges the claims, figures.ts draws them).
import type { MethodId, ModelId } from '../../core/ids';
import type { QuantizedFormat } from '../../core/models/spec';
import type { BytesByGroup, FlopsByPhase } from '../../core/profile/types';
import type { ClaimId } from '../claims';
import type { EvalPoint } from '../protocol';
import type { Interval } from './stats';

export const STUDY_SCHEMA = 'peft-edge-lab/study@1';

/** A task as the study names it: a shift (`impulse_noise:5`) or `unseen_classes`. */
export type StudyTask = string;

export interface CellKey {
  model: ModelId;
  method: MethodId;
  task: StudyTask;
  /** LoRA/DoRA/GaLore rank; null for methods without one. */
  rank: number | null;
  /** A base stored quantized (absent: float32, as every cell of a study before issue 19). */
  frozenWeights?: QuantizedFormat;
}

/** What the study keeps of one run (a RunRecord without the repeated configuration). */
export interface StudyRun {
  cell: CellKey;
  seed: number;
  /** Accuracy before fine-tuning on the task's test split, and on its clean split (shifts). */
  baselineAccuracy: number;
  cleanAccuracy: number | null;
  evalCurve: EvalPoint[];
  finalAccuracy: number;
  bestAccuracy: number;
  steps: number;
  stepsPerEpoch: number;
  peakBytes: number;
  peakBytesByGroup: BytesByGroup;
  flopsPerStep: number;
  flopsByPhase: FlopsByPhase;
  /** Not part of the results: machine and load dependent (a resumed study may differ here only). */
  timing: { wallSeconds: number; trainSeconds: number; imagesPerSecond: number };
  /** A run that failed (NaN loss, out of memory): recorded with its reason; its numbers are 0. */
  failure: string | null;
}

export interface StepsToTarget {
  /** 90% of the full fine-tuning cell's mean final accuracy (same model, task, seeds). */
  target: number;
  /** Per seed, in seed order: steps of the first evaluation at or above the target, or null (not reached). */
  perSeed: (number | null)[];
  /** Mean over the seeds that reached it; null when none did ("not reached"). */
  meanReached: number | null;
}

export interface StudyCell extends CellKey {
  seeds: number[];
  finalAccuracy: Interval;
  baselineAccuracy: Interval;
  bestAccuracy: Interval;
  /** Analytic peak bytes (the same for every seed) and FLOPs per step. */
  peakBytes: number;
  flopsPerStep: number;
  /** Null where there is no full fine-tuning cell to aim at. */
  stepsToTarget: StepsToTarget | null;
  /** Failed runs, with their reasons (not in the statistics). */
  failures: { seed: number; reason: string }[];
}

export interface StudySettings {
  width: number;
  resolution: number;
  stem: string;
  trainImages: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  alpha: number;
  dataSource: string;
  baseWeights: string;
  /** The ViT's own size, where the study has ViT cells (the CNNs' width means nothing to it). */
  vit?: { width: number; depth: number };
}

export interface StudyReport {
  schema: typeof STUDY_SCHEMA;
  createdAt: string;
  /** The tfjs backend and what it ran on. */
  backend: string;
  device: string;
  command: string;
  settings: StudySettings;
  runs: StudyRun[];
  cells: StudyCell[];
  verdicts: ClaimVerdict[];
}

export type Verdict = 'reproduced' | 'contradicted' | 'inconclusive' | 'not measured';

export interface ClaimVerdict {
  claimId: ClaimId;
  verdict: Verdict;
  /** One sentence per comparison, with its numbers. */
  evidence: string[];
}
