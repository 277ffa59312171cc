// Batches of runs built from one configuration: every method with the same seed and data, a rank
// sweep, and the study's presets. Pure: each plan lists the configurations to run and the ones it
// had to skip, with why.
import { METHOD_IDS, type MethodId } from '../core/ids';
import { hasErrors, validateConfig, type LabConfig } from '../lab/config';
import type { ClaimId } from '../lab/claims';
import { takesOption } from '../lab/methods';
import { methodShortName } from '../lab/names';

export interface PlannedRun {
  config: LabConfig;
  label: string;
}

export type PlanKind = 'single' | 'compare' | 'sweep' | 'rerun';

export interface RunPlan {
  kind: PlanKind;
  /** Shown while it runs and on its charts. */
  title: string;
  runs: PlannedRun[];
  /** Configurations left out, in words. */
  skipped: string[];
}

/** The study's rank sweep. */
export const DEFAULT_SWEEP_RANKS = [5, 10, 15, 20, 25, 30] as const;

export function runLabel(config: LabConfig): string {
  return takesOption(config.method, 'rank') ? `${methodShortName(config.method, config.model)} r=${config.rank}` : methodShortName(config.method, config.model);
}

function firstError(config: LabConfig): string | null {
  const issues = validateConfig(config);
  return hasErrors(issues) ? issues.filter((issue) => issue.severity === 'error').map((issue) => issue.message).join(' ') : null;
}

/** `config` adjusted so that `method` can run it: off what it cannot do (DoRA adapts no depthwise
 * conv), GaLore needs Adam. */
export function configForMethod(config: LabConfig, method: MethodId): LabConfig {
  const next: LabConfig = { ...config, method };
  if (!takesOption(method, 'adaptDepthwise')) next.adaptDepthwise = false;
  if (method === 'galore') next.optimizer = 'adam';
  return next;
}

function planOf(kind: PlanKind, title: string, configs: LabConfig[]): RunPlan {
  const runs: PlannedRun[] = [];
  const skipped: string[] = [];
  for (const config of configs) {
    const problem = firstError(config);
    if (problem) skipped.push(`${runLabel(config)}: ${problem}`);
    else runs.push({ config, label: runLabel(config) });
  }
  return { kind, title, runs, skipped };
}

/** Each method in turn on the same model, data, seed and schedule. */
export function compareAllPlan(config: LabConfig, methods: readonly MethodId[] = METHOD_IDS): RunPlan {
  return planOf('compare', 'Compare all methods', methods.map((method) => configForMethod(config, method)));
}

/** One method over a list of ranks. */
export function rankSweepPlan(config: LabConfig, ranks: readonly number[] = DEFAULT_SWEEP_RANKS): RunPlan {
  const method = takesOption(config.method, 'rank') ? config.method : 'lora';
  return planOf('sweep', `Rank sweep of ${methodShortName(method, config.model)}`, ranks.map((rank) => ({ ...configForMethod(config, method), rank })));
}

/** Parses "5, 10, 15": positive whole numbers, each once, ascending; null when any item is not one. */
export function parseRanks(text: string): number[] | null {
  const items = text.split(/[\s,]+/).filter(Boolean);
  if (items.length === 0) return null;
  const ranks = items.map(Number);
  if (ranks.some((rank) => !Number.isInteger(rank) || rank < 1 || rank > 512)) return null;
  return [...new Set(ranks)].sort((a, b) => a - b);
}

export type PresetId = 'baseline_profiling' | 'rank_sweep_brightness' | 'hard_shift_lora_galore';

export interface Preset {
  id: PresetId;
  title: string;
  /** What the preset runs (not what it will show: the claims say what the study found, and the
   * lab's measurement stands beside each). */
  description: string;
  claims: readonly ClaimId[];
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'baseline_profiling',
    title: 'Baseline profiling: MobileNetV2 vs ResNet-18',
    description: 'Peak memory and FLOPs of every method on both models (profiling only, no training).',
    claims: ['peft_memory_mobilenets', 'peft_memory_resnet18'],
  },
  {
    id: 'rank_sweep_brightness',
    title: 'Rank sweep on a brightness shift',
    description: 'LoRA at ranks 5–30 on brightness (severity 5): accuracy, memory and FLOPs against rank.',
    claims: ['lora_rank_range'],
  },
  {
    id: 'hard_shift_lora_galore',
    title: 'Hard shift: impulse noise, LoRA vs GaLore',
    description: 'Impulse noise at severity 5, LoRA against GaLore: accuracy, memory and FLOPs of each.',
    claims: ['galore_close_to_fft', 'galore_flops_overhead'],
  },
];

/** The configuration a training preset starts from (the current one's size and schedule, the study's task). */
export function presetConfig(id: Exclude<PresetId, 'baseline_profiling'>, config: LabConfig): LabConfig {
  if (id === 'rank_sweep_brightness') return { ...configForMethod(config, 'lora'), task: 'shift', corruption: 'brightness', severity: 5 };
  return { ...config, task: 'shift', corruption: 'impulse_noise', severity: 5 };
}

export function presetPlan(id: Exclude<PresetId, 'baseline_profiling'>, config: LabConfig): RunPlan {
  const base = presetConfig(id, config);
  if (id === 'rank_sweep_brightness') return { ...rankSweepPlan(base), title: 'Rank sweep on a brightness shift (LoRA)' };
  return { ...compareAllPlan(base, ['lora', 'galore']), title: 'Impulse noise (severity 5): LoRA vs GaLore' };
}
