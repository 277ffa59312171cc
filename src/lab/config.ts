// The lab's configuration: everything a run needs, flat so that forms, validation, permalinks and
// CLI flags address each field by one name, all derived from one schema (CONFIG_SCHEMA).
import { adaptsDepthwise, isLowRankVariant } from '../core/adapters/lowRank';
import { buildModelSpec, MODEL_OPTION_LIMITS, ModelOptionsError } from '../core/models/registry';
import { VIT_TINY } from '../core/models/vit';
import { BASE_WEIGHTS_IDS, DATA_SOURCE_IDS, isTransformerModel, LAB_OPTIMIZER_IDS, type BaseWeightsId, type DataSourceId, type OptimizerId } from './ids';
import type { ModelOptions, ModelSpec } from '../core/models/spec';
import type { MethodOptions } from '../core/adapters/method';
import { FROZEN_WEIGHT_FORMATS, isOneOf, METHOD_IDS, MODEL_IDS, STEM_IDS, type FrozenWeightFormat, type MethodId, type ModelId, type StemId } from '../core/ids';
import { frozenWeightsProblem } from '../core/quant/quantizeBase';
import { CORRUPTION_NAMES, type CorruptionName } from '../core/data/corruptions';
import { TASK_IDS, UNSEEN_FINE_TUNE_CLASSES, type TaskId } from '../core/data/tasks';
import { METHOD_DESCRIPTORS, takesOption, type MethodOption } from './methods';
import { DEFAULT_HUB_URL, hubUrlProblem } from './hub/hubUrl';
import { hubBaseProblem } from './hub/hubBases';
import { HUB_CIFAR10_FILES, HUB_CIFAR10_HOLDOUT_FRACTION } from './hub/hubCifar10';
import { BASE_WEIGHTS_NAMES, corruptionName, DATA_SOURCE_NAMES, FROZEN_WEIGHTS_NAMES, MODEL_NAMES, OPTIMIZER_NAMES, STEM_NAMES, TASK_NAMES } from './names';

export { BASE_WEIGHTS_IDS, DATA_SOURCE_IDS, LAB_OPTIMIZER_IDS, type BaseWeightsId, type DataSourceId, type OptimizerId } from './ids';

export interface LabConfig {
  model: ModelId;
  /** Channel width multiplier (a ViT's: its embedding dimension's). */
  width: number;
  /** Transformer blocks (ViT only: the CNNs ignore it). */
  depth: number;
  /** Square input side in pixels. */
  resolution: number;
  stem: StemId;
  numClasses: number;
  baseWeights: BaseWeightsId;
  /** Where Hugging Face hub files come from (the hub, or a mirror in its layout). */
  hubUrl: string;
  method: MethodId;
  /** How the frozen base weights are stored: float32, or block-wise int8 / NF4 (src/core/quant). */
  frozenWeights: FrozenWeightFormat;
  /** LoRA/DoRA adapter rank, and GaLore's projection rank. */
  rank: number;
  /** LoRA/DoRA scaling numerator: the update is (α / r) · BA. */
  alpha: number;
  adaptDepthwise: boolean;
  trainBatchNorm: boolean;
  galoreUpdateGap: number;
  galoreScale: number;
  galoreThreshold: number;
  task: TaskId;
  corruption: CorruptionName;
  severity: number;
  dataSource: DataSourceId;
  /** Hub CIFAR-10: train on the hub's train file (50,000 images) instead of part of its test file. */
  hubTrainFile: boolean;
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

interface FieldCommon<F extends ConfigField> {
  id: F;
  /** The visible label: the accessible name of its control and its name in messages. */
  label: string;
  /** Its key in a permalink (stable across versions of link schema 1). */
  key: string;
  /** Its command-line flag (`--flag`). */
  flag: string;
  /** A line of help under the control: the unit or what the value means. */
  hint?: string;
  /** Whether the field matters for this configuration (irrelevant ones are kept, not shown, not
   * validated). Absent: always. */
  relevant?: (config: LabConfig) => boolean;
  default: LabConfig[F];
}

export interface NumberFieldSchema<F extends ConfigField = ConfigField> extends FieldCommon<F> {
  kind: 'number';
  min: number;
  max: number;
  integer: boolean;
}

export interface ChoiceFieldSchema<F extends ConfigField = ConfigField> extends FieldCommon<F> {
  kind: 'choice';
  choices: readonly string[];
  /** Each choice in words (the select's options). */
  choiceLabel: (id: string) => string;
}

export interface BooleanFieldSchema<F extends ConfigField = ConfigField> extends FieldCommon<F> {
  kind: 'boolean';
}

export interface TextFieldSchema<F extends ConfigField = ConfigField> extends FieldCommon<F> {
  kind: 'text';
  maxLength: number;
  /** What is wrong with a value, or null. */
  problem: (text: string) => string | null;
}

export type FieldSchema = NumberFieldSchema | ChoiceFieldSchema | BooleanFieldSchema | TextFieldSchema;

/** Whether the configured model is a vision transformer (it then takes a depth, and has layer norms
 * where the CNNs have batch norms). */
export const isTransformer = (config: Pick<LabConfig, 'model'>) => isTransformerModel(config.model);

/**
 * The lab's size for a ViT, set when the user switches to one: width 0.25 (a 48-dimensional
 * embedding, 3 heads of 16), 4 blocks, 32×32 with the CIFAR stem's 4×4 patches (64 tokens + the
 * class token). Its forward pass is ~9.0 M MACs per example (4 blocks of 2.2 M, attention's two
 * matmuls 0.4 M of them), about half of MobileNetV2's at the CNN size (16.9 M), so it fine-tunes on
 * SwiftShader like the CNNs do; attention's probabilities stay small (3 × 65² floats per block).
 * Switching back to a CNN restores the lab's CNN size (DEFAULT_CONFIG).
 */
export const VIT_LAB_SIZE = { width: 0.25, depth: 4, resolution: 32, stem: 'cifar' } as const satisfies Partial<LabConfig>;

/** The configuration with `field` set to `value`; a switch between a CNN and the ViT also sets the
 * size to the lab's for that kind of model (a CNN's width means nothing to a ViT). */
export function withField<F extends ConfigField>(config: LabConfig, field: F, value: LabConfig[F]): LabConfig {
  const next = { ...config, [field]: value };
  if (field !== 'model' || isTransformer(config) === isTransformer(next)) return next;
  const size = isTransformer(next) ? VIT_LAB_SIZE : { width: DEFAULT_CONFIG.width, resolution: DEFAULT_CONFIG.resolution, stem: DEFAULT_CONFIG.stem };
  return { ...next, ...size };
}

const methodTakes = (option: MethodOption) => (config: LabConfig) => takesOption(config.method, option);
const named = <T extends string>(names: Record<T, string>) => (id: string) => names[id as T] ?? id;

/**
 * THE configuration schema: one descriptor per field, in the order of the form. The defaults
 * reproduce the study's setting (LoRA r = 4, α = 4, Adam, 5 epochs, early-stopping patience 10) at
 * the lab's default size: MobileNetV2 at width 0.35 on 32×32 inputs with the CIFAR stem and 10
 * classes — small enough to fine-tune in a browser, and the size the shipped checkpoints have.
 * The form, validation, permalinks and the CLI's flags are all derived from it.
 */
export const CONFIG_SCHEMA: readonly FieldSchema[] = [
  { id: 'model', kind: 'choice', label: 'Model', key: 'm', flag: 'model', default: 'mobilenet_v2', choices: MODEL_IDS, choiceLabel: named(MODEL_NAMES) },
  { id: 'width', kind: 'number', label: 'Width', key: 'w', flag: 'width', default: 0.35, min: 0.05, max: 2, integer: false, hint: 'Multiplies the channels; on a ViT, the embedding (1 = 192).' },
  { id: 'depth', kind: 'number', label: 'Depth', key: 'd', flag: 'depth', default: VIT_LAB_SIZE.depth, min: 1, max: VIT_TINY.depth, integer: true, hint: `Transformer blocks (the reference has ${VIT_TINY.depth}).`, relevant: isTransformer },
  { id: 'resolution', kind: 'number', label: 'Resolution', key: 'res', flag: 'resolution', default: 32, min: MODEL_OPTION_LIMITS.minResolution, max: 512, integer: true },
  { id: 'stem', kind: 'choice', label: 'Stem', key: 'st', flag: 'stem', default: 'cifar', choices: STEM_IDS, choiceLabel: named(STEM_NAMES), hint: 'CIFAR: stride 1 for small inputs.' },
  // The unseen-classes task fixes its new head at the unseen classes' count.
  { id: 'numClasses', kind: 'number', label: 'Classes', key: 'nc', flag: 'classes', default: 10, min: MODEL_OPTION_LIMITS.minClasses, max: 1000, integer: true, relevant: (config) => !hasNewHead(config) },
  { id: 'baseWeights', kind: 'choice', label: 'Base weights', key: 'bw', flag: 'base-weights', default: 'shipped', choices: BASE_WEIGHTS_IDS, choiceLabel: named(BASE_WEIGHTS_NAMES) },
  {
    id: 'hubUrl',
    kind: 'text',
    label: 'Hub URL',
    key: 'hub',
    flag: 'hub-url',
    default: DEFAULT_HUB_URL,
    maxLength: 200,
    problem: hubUrlProblem,
    hint: 'The Hugging Face hub, or a mirror with its layout ({hub}/{repo}/resolve/{revision}/{file}).',
    relevant: usesHub,
  },
  { id: 'method', kind: 'choice', label: 'Method', key: 'me', flag: 'method', default: 'lora', choices: METHOD_IDS, choiceLabel: (id) => METHOD_DESCRIPTORS[id as MethodId]?.name ?? id },
  {
    id: 'frozenWeights',
    kind: 'choice',
    label: 'Frozen weights',
    key: 'fw',
    flag: 'frozen-weights',
    default: 'fp32',
    choices: FROZEN_WEIGHT_FORMATS,
    choiceLabel: named(FROZEN_WEIGHTS_NAMES),
    hint: 'How the frozen base is stored: int8 or NF4 per block of 64 weights with a float32 absmax scale each (QLoRA without double quantization), dequantized layer by layer as it runs.',
  },
  { id: 'rank', kind: 'number', label: 'Rank', key: 'r', flag: 'rank', default: 4, min: 1, max: 512, integer: true, hint: 'Adapter or projection rank r.', relevant: methodTakes('rank') },
  { id: 'alpha', kind: 'number', label: 'Alpha', key: 'a', flag: 'alpha', default: 4, min: 0.001, max: 4096, integer: false, hint: 'Update scaled by α / r.', relevant: methodTakes('alpha') },
  { id: 'adaptDepthwise', kind: 'boolean', label: 'Adapt depthwise convs', key: 'dw', flag: 'adapt-depthwise', default: false, hint: 'A dense rank-r A on a depthwise conv has more weights than the conv itself.', relevant: methodTakes('adaptDepthwise') },
  { id: 'trainBatchNorm', kind: 'boolean', label: 'Train BatchNorm', key: 'bn', flag: 'train-batchnorm', default: false, hint: 'Also train the norms’ γ and β (a ViT’s layer norms).', relevant: methodTakes('trainBatchNorm') },
  { id: 'galoreUpdateGap', kind: 'number', label: 'Update gap', key: 'gg', flag: 'galore-update-gap', default: 200, min: 1, max: 100_000, integer: true, hint: 'Steps between SVDs.', relevant: methodTakes('galoreUpdateGap') },
  { id: 'galoreScale', kind: 'number', label: 'Scale', key: 'gs', flag: 'galore-scale', default: 1, min: 0.001, max: 100, integer: false, hint: 'Multiplies the update.', relevant: methodTakes('galoreScale') },
  { id: 'galoreThreshold', kind: 'number', label: 'Rank threshold ε', key: 'ge', flag: 'galore-threshold', default: 0, min: 0, max: 0.999, integer: false, hint: 'Keep σᵢ ≥ ε·σ₁ (at most r); 0 keeps exactly r.', relevant: methodTakes('galoreThreshold') },
  { id: 'task', kind: 'choice', label: 'Task', key: 'tk', flag: 'task', default: 'shift', choices: TASK_IDS, choiceLabel: named(TASK_NAMES) },
  { id: 'corruption', kind: 'choice', label: 'Corruption', key: 'co', flag: 'corruption', default: 'brightness', choices: CORRUPTION_NAMES, choiceLabel: (id) => corruptionName(id as CorruptionName), relevant: (config) => config.task === 'shift' },
  { id: 'severity', kind: 'number', label: 'Severity', key: 'sv', flag: 'severity', default: 5, min: 1, max: 5, integer: true, hint: '1 mild … 5 severe.', relevant: (config) => config.task === 'shift' },
  { id: 'dataSource', kind: 'choice', label: 'Data source', key: 'ds', flag: 'data-source', default: 'synthetic', choices: DATA_SOURCE_IDS, choiceLabel: named(DATA_SOURCE_NAMES), relevant: (config) => config.task !== 'custom' },
  {
    id: 'hubTrainFile',
    kind: 'boolean',
    label: 'Use the hub’s train file',
    key: 'htf',
    flag: 'hub-train-file',
    default: false,
    hint: `Off: the test file (${HUB_CIFAR10_FILES.test.images.toLocaleString('en-US')} images) is split with the seed, ${100 * HUB_CIFAR10_HOLDOUT_FRACTION}% held out to test on. On: also download the train file (${HUB_CIFAR10_FILES.train.images.toLocaleString('en-US')} images, ~${HUB_CIFAR10_FILES.train.approxBytes / 1e6} MB).`,
    relevant: (config) => config.task !== 'custom' && config.dataSource === 'hub_cifar10',
  },
  { id: 'optimizer', kind: 'choice', label: 'Optimizer', key: 'op', flag: 'optimizer', default: 'adam', choices: LAB_OPTIMIZER_IDS, choiceLabel: named(OPTIMIZER_NAMES) },
  { id: 'learningRate', kind: 'number', label: 'Learning rate', key: 'lr', flag: 'lr', default: 1e-3, min: 1e-7, max: 10, integer: false },
  { id: 'batchSize', kind: 'number', label: 'Batch size', key: 'bs', flag: 'batch', default: 32, min: 1, max: 1024, integer: true },
  { id: 'epochs', kind: 'number', label: 'Epochs', key: 'ep', flag: 'epochs', default: 5, min: 1, max: 1000, integer: true },
  { id: 'patience', kind: 'number', label: 'Patience', key: 'pa', flag: 'patience', default: 10, min: 1, max: 1000, integer: true, hint: '≥ Epochs: never stops early (the study: 5 epochs, patience 10).' },
  { id: 'seed', kind: 'number', label: 'Seed', key: 'sd', flag: 'seed', default: 0, min: 0, max: 2 ** 32 - 1, integer: true, hint: 'Same seed, same data and init.' },
  { id: 'trainImages', kind: 'number', label: 'Training images', key: 'ti', flag: 'train-images', default: 1000, min: 8, max: 10_000, integer: true, hint: 'Fine-tuning images (the test split is half as many, 16–500).' },
] as FieldSchema[];

const SCHEMA_BY_ID = new Map<ConfigField, FieldSchema>(CONFIG_SCHEMA.map((field) => [field.id, field]));

/** The descriptor of `field`. */
export function fieldSchema(field: ConfigField): FieldSchema {
  return SCHEMA_BY_ID.get(field) as FieldSchema;
}

export const CONFIG_FIELDS: readonly ConfigField[] = CONFIG_SCHEMA.map((field) => field.id);

export const DEFAULT_CONFIG: Readonly<LabConfig> = Object.freeze(Object.fromEntries(CONFIG_SCHEMA.map((field) => [field.id, field.default])) as unknown as LabConfig);

export const fieldLabel = (field: ConfigField): string => fieldSchema(field).label;

export type NumberField = { [F in ConfigField]: LabConfig[F] extends number ? F : never }[ConfigField];
export type BooleanField = { [F in ConfigField]: LabConfig[F] extends boolean ? F : never }[ConfigField];
/** The free-text fields (strings that are not choices; the schema's kind 'text'). */
export type TextField = 'hubUrl';
export type ChoiceField = Exclude<ConfigField, NumberField | BooleanField | TextField>;

export const isNumberField = (field: string): field is NumberField => SCHEMA_BY_ID.get(field as ConfigField)?.kind === 'number';
export const isChoiceField = (field: string): field is ChoiceField => SCHEMA_BY_ID.get(field as ConfigField)?.kind === 'choice';
export const isBooleanField = (field: string): field is BooleanField => SCHEMA_BY_ID.get(field as ConfigField)?.kind === 'boolean';
export const isTextField = (field: string): field is TextField => SCHEMA_BY_ID.get(field as ConfigField)?.kind === 'text';

export const numberSchema = (field: NumberField) => fieldSchema(field) as NumberFieldSchema;
export const choiceSchema = (field: ChoiceField) => fieldSchema(field) as ChoiceFieldSchema;
export const textSchema = (field: TextField) => fieldSchema(field) as TextFieldSchema;

/** A text field's problem (too long, or its own rule), or null. Shared by the form and the permalink. */
export function textProblem(field: TextField, value: unknown): string | null {
  const { maxLength, problem } = textSchema(field);
  if (typeof value !== 'string') return 'Enter text.';
  if (value.length > maxLength) return `At most ${maxLength} characters.`;
  return problem(value);
}

/** Whether a field matters for this configuration (the rest are kept but not shown). */
export function isFieldRelevant(field: ConfigField, config: LabConfig): boolean {
  return fieldSchema(field).relevant?.(config) ?? true;
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
  const { min, max, integer } = numberSchema(field);
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

/** Whether the classifier is new and trains fully whatever the method: a task with a new head, or
 * the hub's ImageNet weights, whose 1000-class head gives way to one for the task's classes. */
export const trainsNewHead = (config: Pick<LabConfig, 'task' | 'baseWeights'>) => hasNewHead(config) || config.baseWeights === 'hub';

/** Whether a configuration downloads from the Hugging Face hub (then Hub URL matters). */
export function usesHub(config: Pick<LabConfig, 'baseWeights' | 'dataSource' | 'task'>): boolean {
  return config.baseWeights === 'hub' || (config.task !== 'custom' && HUB_DATA_SOURCES.includes(config.dataSource));
}
const HUB_DATA_SOURCES: readonly string[] = ['hub_cifar10'];

/** The classes the model predicts: the unseen-classes head has one output per unseen class (the
 * task fixes them, whatever Classes says); otherwise the configured count, which for the user's
 * own images the import sets to the number of class folders found. */
export const headClassesOf = (config: Pick<LabConfig, 'task' | 'numClasses'>) => (config.task === 'unseen_classes' ? UNSEEN_FINE_TUNE_CLASSES.length : config.numClasses);

/** The model options of a configuration, as the model builders take them: the one mapping that the
 * charts' profiles, the run in the worker and so its permalink summary all build from. */
export function modelOptionsOf(config: LabConfig): ModelOptions {
  const options = { model: config.model, width: config.width, resolution: config.resolution, numClasses: headClassesOf(config), stem: config.stem };
  return isTransformer(config) ? { ...options, depth: config.depth } : options;
}

/** The method options of a configuration, as the methods registry takes them: the trainer, the
 * run's profile and the charts' profiles all read these, so they agree on what trains. */
export function methodOptionsOf(config: LabConfig): MethodOptions {
  return {
    rank: config.rank,
    alpha: config.alpha,
    targets: { depthwise: config.adaptDepthwise },
    trainBatchNorm: config.trainBatchNorm,
    trainHead: trainsNewHead(config),
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
  const newHead = new Set(trainHead ? spec.classifier : []);
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
    } else if (node.op === 'linear' && !newHead.has(node.id)) {
      // (A new head trains fully: neither adapted nor projected. A ViT's other linears still are.)
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

  for (const field of CONFIG_SCHEMA) {
    const value: unknown = config[field.id];
    if (field.kind === 'choice' && !isOneOf(field.choices, value)) error(field.id, `Choose one of: ${field.choices.join(', ')}.`);
    if (field.kind === 'boolean' && typeof value !== 'boolean') error(field.id, 'Must be on or off.');
    if (field.kind === 'text' && (typeof value !== 'string' || isFieldRelevant(field.id, config))) {
      const problem = textProblem(field.id as TextField, value);
      if (problem) error(field.id, problem);
    }
    if (field.kind === 'number' && isFieldRelevant(field.id, config)) {
      const problem = numberProblem(field.id as NumberField, value);
      if (problem) error(field.id, problem);
    }
  }
  if (issues.some((issue) => issue.severity === 'error')) return issues;

  // Cross-field rules, on a configuration whose every field is well-formed.
  if (config.adaptDepthwise && isLowRankVariant(config.method) && !adaptsDepthwise(config.method)) {
    error('adaptDepthwise', `${METHOD_DESCRIPTORS[config.method].shortName} cannot adapt depthwise convs: their dense update has no per-channel norm. Turn this off or choose LoRA.`);
  }
  if (config.baseWeights === 'hub') {
    const problem = hubBaseProblem(config);
    if (problem) error('baseWeights', problem);
  }
  const frozenWeights = frozenWeightsProblem(config.method, config.frozenWeights);
  if (frozenWeights) error('frozenWeights', `${METHOD_DESCRIPTORS[config.method].shortName} updates the base weights, so they stay float32: choose fp32.`);
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
  if (takesOption(config.method, 'rank')) {
    const ranks = fullRanks(spec, config.method, config.adaptDepthwise, trainsNewHead(config));
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
