// The lab's configuration: everything a run needs, flat so that forms, validation and permalinks
// address each field by one name. Defaults reproduce the study's setting (LoRA r = 4, α = 4,
// Adam, 5 epochs, early-stopping patience 10) at the lab's default size: MobileNetV2 at width 0.35
// on 32×32 inputs with the CIFAR stem and 10 classes — small enough to fine-tune in a browser,
// and the size the shipped pretrained checkpoints have.
import { buildModelSpec, MODEL_OPTION_LIMITS, ModelOptionsError } from '../core/models/registry';
import type { ModelSpec } from '../core/models/spec';
import type { MethodOptions } from '../core/adapters/method';
import { isOneOf, METHOD_IDS, MODEL_IDS, STEM_IDS, type MethodId, type ModelId, type StemId } from '../core/ids';
import { CORRUPTION_NAMES, type CorruptionName } from '../core/data/corruptions';
import { TASK_IDS, UNSEEN_FINE_TUNE_CLASSES, type TaskId } from '../core/data/tasks';

/** Where the images come from: the embedded synthetic domain (no download) or real CIFAR-10. */
export const DATA_SOURCE_IDS = ['synthetic', 'cifar10'] as const;
export type DataSourceId = (typeof DATA_SOURCE_IDS)[number];

/** Where a run's base weights come from: the checkpoint shipped for this size (random init when
 * none is), one pretrained in this browser (IndexedDB), a torchvision safetensors file the user
 * imported (it cannot travel in a link), or random init. */
export const BASE_WEIGHTS_IDS = ['shipped', 'browser', 'imported', 'random'] as const;
export type BaseWeightsId = (typeof BASE_WEIGHTS_IDS)[number];

export const OPTIMIZER_IDS = ['adam', 'sgd'] as const;
export type OptimizerId = (typeof OPTIMIZER_IDS)[number];

export interface LabConfig {
  model: ModelId;
  /** Channel width multiplier. */
  width: number;
  /** Square input side in pixels. */
  resolution: number;
  stem: StemId;
  numClasses: number;
  /** Where the base weights come from (BASE_WEIGHTS_IDS). */
  baseWeights: BaseWeightsId;

  method: MethodId;
  /** LoRA/DoRA adapter rank, and GaLore's projection rank. */
  rank: number;
  /** LoRA/DoRA scaling numerator: the update is (α / r) · BA. */
  alpha: number;
  /** LoRA/DoRA also adapt depthwise convs (off by default: a dense rank-r A outweighs the conv). */
  adaptDepthwise: boolean;
  /** LoRA/DoRA also train the BatchNorm affine parameters. */
  trainBatchNorm: boolean;
  /** GaLore: steps between recomputations of the projector. */
  galoreUpdateGap: number;
  /** GaLore: factor on the projected-back update. */
  galoreScale: number;
  /** GaLore: keep singular values σᵢ ≥ ε·σ₁ (at most r); 0 keeps exactly r. */
  galoreThreshold: number;

  task: TaskId;
  corruption: CorruptionName;
  severity: number;
  dataSource: DataSourceId;

  optimizer: OptimizerId;
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** Epochs without improvement of the eval accuracy before stopping. */
  patience: number;
  seed: number;
  /** Distinct fine-tuning images (a browser-sized subset of the task's train split). */
  trainImages: number;
}

export type ConfigField = keyof LabConfig;

export const DEFAULT_CONFIG: Readonly<LabConfig> = Object.freeze({
  model: 'mobilenet_v2',
  width: 0.35,
  resolution: 32,
  stem: 'cifar',
  numClasses: 10,
  baseWeights: 'shipped',
  method: 'lora',
  rank: 4,
  alpha: 4,
  adaptDepthwise: false,
  trainBatchNorm: false,
  galoreUpdateGap: 200,
  galoreScale: 1,
  galoreThreshold: 0,
  task: 'shift',
  corruption: 'brightness',
  severity: 5,
  dataSource: 'synthetic',
  optimizer: 'adam',
  learningRate: 1e-3,
  batchSize: 32,
  epochs: 5,
  patience: 10,
  seed: 0,
  trainImages: 1000,
});

/** Each field's visible label: the accessible name of its control and its name in messages. */
export const FIELD_LABELS: Readonly<Record<ConfigField, string>> = {
  model: 'Model',
  width: 'Width',
  resolution: 'Resolution',
  stem: 'Stem',
  numClasses: 'Classes',
  baseWeights: 'Base weights',
  method: 'Method',
  rank: 'Rank',
  alpha: 'Alpha',
  adaptDepthwise: 'Adapt depthwise convs',
  trainBatchNorm: 'Train BatchNorm',
  galoreUpdateGap: 'Update gap',
  galoreScale: 'Scale',
  galoreThreshold: 'Rank threshold ε',
  task: 'Task',
  corruption: 'Corruption',
  severity: 'Severity',
  dataSource: 'Data source',
  optimizer: 'Optimizer',
  learningRate: 'Learning rate',
  batchSize: 'Batch size',
  epochs: 'Epochs',
  patience: 'Patience',
  seed: 'Seed',
  trainImages: 'Training images',
};

export const CONFIG_FIELDS = Object.keys(DEFAULT_CONFIG) as ConfigField[];

/** Numeric bounds per field: what the browser can run and what the methods define. */
export const NUMBER_LIMITS = {
  width: { min: 0.05, max: 2, integer: false },
  resolution: { min: MODEL_OPTION_LIMITS.minResolution, max: 512, integer: true },
  numClasses: { min: MODEL_OPTION_LIMITS.minClasses, max: 1000, integer: true },
  rank: { min: 1, max: 512, integer: true },
  alpha: { min: 0.001, max: 4096, integer: false },
  galoreUpdateGap: { min: 1, max: 100_000, integer: true },
  galoreScale: { min: 0.001, max: 100, integer: false },
  galoreThreshold: { min: 0, max: 0.999, integer: false },
  severity: { min: 1, max: 5, integer: true },
  learningRate: { min: 1e-7, max: 10, integer: false },
  batchSize: { min: 1, max: 1024, integer: true },
  epochs: { min: 1, max: 1000, integer: true },
  patience: { min: 1, max: 1000, integer: true },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  trainImages: { min: 8, max: 10_000, integer: true },
} as const satisfies Partial<Record<ConfigField, { min: number; max: number; integer: boolean }>>;

export type NumberField = keyof typeof NUMBER_LIMITS;
export const NUMBER_FIELDS = Object.keys(NUMBER_LIMITS) as NumberField[];
export type BooleanField = 'adaptDepthwise' | 'trainBatchNorm';
export const BOOLEAN_FIELDS: readonly BooleanField[] = ['adaptDepthwise', 'trainBatchNorm'];

/** The choices of each select-type field. */
export const CHOICE_FIELDS = {
  model: MODEL_IDS,
  stem: STEM_IDS,
  baseWeights: BASE_WEIGHTS_IDS,
  method: METHOD_IDS,
  task: TASK_IDS,
  corruption: CORRUPTION_NAMES,
  dataSource: DATA_SOURCE_IDS,
  optimizer: OPTIMIZER_IDS,
} as const satisfies Partial<Record<ConfigField, readonly string[]>>;
export type ChoiceField = keyof typeof CHOICE_FIELDS;

export const isNumberField = (field: string): field is NumberField => Object.hasOwn(NUMBER_LIMITS, field);
export const isChoiceField = (field: string): field is ChoiceField => Object.hasOwn(CHOICE_FIELDS, field);
export const isBooleanField = (field: string): field is BooleanField => (BOOLEAN_FIELDS as readonly string[]).includes(field);

export const usesAdapters = (method: MethodId) => method === 'lora' || method === 'dora';
export const usesRank = (method: MethodId) => usesAdapters(method) || method === 'galore';

/** Which fields matter for this configuration (the rest are kept but not shown). */
export function isFieldRelevant(field: ConfigField, config: LabConfig): boolean {
  switch (field) {
    case 'rank':
      return usesRank(config.method);
    case 'alpha':
    case 'adaptDepthwise':
    case 'trainBatchNorm':
      return usesAdapters(config.method);
    case 'galoreUpdateGap':
    case 'galoreScale':
    case 'galoreThreshold':
      return config.method === 'galore';
    case 'corruption':
    case 'severity':
      return config.task === 'shift';
    case 'dataSource':
      return config.task !== 'custom';
    case 'numClasses':
      // The unseen-classes task fixes its new head at the unseen classes' count.
      return !hasNewHead(config);
    default:
      return true;
  }
}

export interface FieldIssue {
  field: ConfigField;
  /** `error` blocks the configuration; `warning` explains a legal but surprising value. */
  severity: 'error' | 'warning';
  message: string;
}

const formatLimit = (value: number) => (Math.abs(value) >= 1e5 ? value.toExponential(0) : String(value));

/** A value's problem against its field's bounds, or null. Shared by the form and the permalink. */
export function numberProblem(field: NumberField, value: unknown): string | null {
  const { min, max, integer } = NUMBER_LIMITS[field];
  if (typeof value !== 'number' || Number.isNaN(value)) return 'Enter a number.';
  if (!Number.isFinite(value)) return 'Must be a finite number.';
  if (integer && !Number.isInteger(value)) return `Must be a whole number (between ${formatLimit(min)} and ${formatLimit(max)}).`;
  if (value < min || value > max) return `Must be between ${formatLimit(min)} and ${formatLimit(max)}.`;
  return null;
}

/** Whether the task fine-tunes a new, randomly initialised classifier (classes 5–9 on a model
 * pretrained on 0–4; the classes of the user's own images), which then trains fully whatever the
 * method (PEFT's modules_to_save). */
export const hasNewHead = (config: Pick<LabConfig, 'task'>) => config.task === 'unseen_classes' || config.task === 'custom';

/** The classes the model predicts: the unseen-classes head has one output per unseen class (the
 * task fixes them, whatever Classes says); otherwise the configured count, which for the user's
 * own images the import sets to the number of class folders found. */
export const headClassesOf = (config: Pick<LabConfig, 'task' | 'numClasses'>) => (config.task === 'unseen_classes' ? UNSEEN_FINE_TUNE_CLASSES.length : config.numClasses);

/** The model options of a configuration, as the model builders take them: the one mapping that the
 * charts' profiles, the run in the worker and so its permalink summary all build from. */
export function modelOptionsOf(config: LabConfig) {
  return { model: config.model, width: config.width, resolution: config.resolution, numClasses: headClassesOf(config), stem: config.stem };
}

/** The method options of a configuration, as the methods registry takes them: the trainer, the
 * run's profile and the charts' profiles all read these, so they agree on what trains. */
export function methodOptionsOf(config: LabConfig): MethodOptions {
  return {
    rank: config.rank,
    alpha: config.alpha,
    targets: { depthwise: config.adaptDepthwise },
    trainBatchNorm: config.trainBatchNorm,
    trainHead: hasNewHead(config),
    galore: {
      rank: config.rank,
      updateProjGap: config.galoreUpdateGap,
      scale: config.galoreScale,
      ...(config.galoreThreshold > 0 ? { threshold: config.galoreThreshold } : {}),
    },
  };
}

/**
 * Each rank-constrained layer with the largest rank at which its adapter (LoRA/DoRA: ΔW = BA) or
 * gradient projection (GaLore) is still low-rank: min(rows, columns) of the matrix concerned.
 */
function fullRanks(spec: ModelSpec, method: MethodId, adaptDepthwise: boolean, trainHead: boolean): { id: string; fullRank: number }[] {
  const ranks: { id: string; fullRank: number }[] = [];
  for (const node of spec.nodes) {
    if (node.op === 'conv2d') {
      const depthwise = node.groups > 1;
      const kernelArea = node.kernel * node.kernel;
      if (method === 'galore') {
        // GaLore flattens the weight's gradient to (C_out, C_in/groups · k²).
        ranks.push({ id: node.id, fullRank: Math.min(node.outChannels, (node.inChannels / node.groups) * kernelArea) });
      } else if (!depthwise || adaptDepthwise) {
        // A dense A reads every input channel, so ΔW is (C_out, C_in · k²) even on a depthwise conv.
        ranks.push({ id: node.id, fullRank: Math.min(node.outChannels, node.inChannels * kernelArea) });
      }
    } else if (node.op === 'linear' && !trainHead) {
      // (A new head trains fully: neither adapted nor projected.)
      ranks.push({ id: node.id, fullRank: Math.min(node.inFeatures, node.outFeatures) });
    }
  }
  return ranks;
}

/**
 * Every problem of a configuration, per field, each saying what is valid and why. Empty errors
 * mean the configuration can be profiled and run.
 */
export function validateConfig(config: LabConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const error = (field: ConfigField, message: string) => issues.push({ field, severity: 'error', message });
  const warn = (field: ConfigField, message: string) => issues.push({ field, severity: 'warning', message });

  for (const [field, choices] of Object.entries(CHOICE_FIELDS) as [ChoiceField, readonly string[]][]) {
    if (!isOneOf(choices, config[field])) error(field, `Choose one of: ${choices.join(', ')}.`);
  }
  for (const field of BOOLEAN_FIELDS) {
    if (typeof config[field] !== 'boolean') error(field, 'Must be on or off.');
  }
  for (const field of NUMBER_FIELDS) {
    if (!isFieldRelevant(field, config)) continue;
    const problem = numberProblem(field, config[field]);
    if (problem) error(field, problem);
  }
  if (issues.some((issue) => issue.severity === 'error')) return issues;

  // Cross-field rules, on a configuration whose every field is well-formed.
  if (config.method === 'dora' && config.adaptDepthwise) {
    error('adaptDepthwise', 'DoRA cannot adapt depthwise convs: their dense update has no per-channel norm. Turn this off or choose LoRA.');
  }
  if (config.method === 'galore' && config.optimizer !== 'adam') {
    error('optimizer', 'GaLore keeps Adam’s moments in the projected space: choose Adam.');
  }

  let spec: ModelSpec;
  try {
    spec = buildModelSpec(modelOptionsOf(config));
  } catch (cause) {
    if (!(cause instanceof ModelOptionsError)) throw cause;
    error('resolution', `This model cannot take ${config.resolution}×${config.resolution} inputs with the ${config.stem} stem: ${cause.message}.`);
    return issues;
  }
  if (usesRank(config.method)) {
    const ranks = fullRanks(spec, config.method, config.adaptDepthwise, hasNewHead(config));
    const largest = Math.max(...ranks.map((layer) => layer.fullRank));
    const exceeded = ranks.filter((layer) => config.rank >= layer.fullRank);
    if (config.rank > largest) {
      error('rank', `Rank ${config.rank} exceeds the full rank of every adapted layer (largest: ${largest}); nothing would be low-rank.`);
    } else if (exceeded.length > 0) {
      const what = config.method === 'galore' ? 'its gradient is not compressed' : 'its adapter has as many directions as the weight itself';
      warn('rank', `Rank ${config.rank} ≥ the full rank of ${exceeded.length} of ${ranks.length} adapted layers (e.g. ${exceeded[0].id}: ${exceeded[0].fullRank}); there ${what}.`);
    }
  }
  return issues;
}

export const hasErrors = (issues: readonly FieldIssue[]) => issues.some((issue) => issue.severity === 'error');
