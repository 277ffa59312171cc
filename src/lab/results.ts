// The compact summary of a finished run: what a permalink carries so that opening it shows the
// results at once, before (or without) re-running.
import { FLOP_PHASES, MEMORY_GROUPS, type FlopPhase, type MemoryGroup } from '../core/ids';

/** Curves in a summary keep at most this many points (a link must stay short). */
export const SUMMARY_CURVE_POINTS = 48;

export interface RunSummary {
  /** The lab's version (package.json) that produced the run. */
  labVersion: string;
  /** tfjs backend the run trained on, and the GPU adapter in words. */
  backend: string;
  adapter: string;
  /** Eval accuracy before fine-tuning, and after the last (or best) epoch, in [0, 1]. */
  baselineAccuracy: number;
  finalAccuracy: number;
  finalLoss: number;
  epochsRun: number;
  steps: number;
  stoppedEarly: boolean;
  trainSeconds: number;
  /** Downsampled: train loss over steps, eval accuracy per epoch. */
  trainLoss: number[];
  evalAccuracy: number[];
  /** Simultaneous peak with its breakdown, and the study's sum of per-group maxima (bytes). */
  peakBytesByGroup: Record<MemoryGroup, number>;
  sumOfGroupMaximaBytes: number;
  /** FLOPs of one training step by phase. */
  flopsByPhase: Record<FlopPhase, number>;
}

/** At most `maxPoints` points of a series, evenly spaced, first and last kept. */
export function downsample(values: readonly number[], maxPoints: number): number[] {
  if (values.length <= maxPoints) return [...values];
  if (maxPoints < 2) return values.length > 0 ? [values[values.length - 1]] : [];
  const picked: number[] = [];
  for (let i = 0; i < maxPoints; i++) picked.push(values[Math.round((i * (values.length - 1)) / (maxPoints - 1))]);
  return picked;
}

export const peakBytesOf = (summary: RunSummary) => MEMORY_GROUPS.reduce((sum, group) => sum + summary.peakBytesByGroup[group], 0);
export const flopsPerStepOf = (summary: RunSummary) => FLOP_PHASES.reduce((sum, phase) => sum + summary.flopsByPhase[phase], 0);
