// Words the UI shows for ids, and the short help under the fields.
import type { CorruptionName } from '../core/data/corruptions';
import type { TaskId } from '../core/data/tasks';
import type { FlopPhase, MemoryGroup, MethodId, ModelId, StemId } from '../core/ids';
import type { ConfigField, DataSourceId, OptimizerId } from './config';

export const MODEL_NAMES: Record<ModelId, string> = {
  mobilenet_v2: 'MobileNetV2',
  mobilenet_v3_small: 'MobileNetV3-Small',
  mobilenet_v3_large: 'MobileNetV3-Large',
  resnet18: 'ResNet-18',
};

export const METHOD_NAMES: Record<MethodId, string> = {
  fft: 'Full fine-tuning (FFT)',
  bn_head: 'BatchNorm + head (BN+H)',
  lora: 'LoRA',
  dora: 'DoRA',
  galore: 'GaLore',
};

/** Short names for chart axes. */
export const METHOD_SHORT_NAMES: Record<MethodId, string> = {
  fft: 'FFT',
  bn_head: 'BN+H',
  lora: 'LoRA',
  dora: 'DoRA',
  galore: 'GaLore',
};

export const STEM_NAMES: Record<StemId, string> = {
  imagenet: 'ImageNet',
  cifar: 'CIFAR',
};

export const TASK_NAMES: Record<TaskId, string> = {
  shift: 'Distribution shift (corruption)',
  unseen_classes: 'Unseen classes (5–9)',
  custom: 'Your own images',
};

export const DATA_SOURCE_NAMES: Record<DataSourceId, string> = {
  synthetic: 'Synthetic shapes (built in)',
  cifar10: 'CIFAR-10 (download)',
};

export const OPTIMIZER_NAMES: Record<OptimizerId, string> = { adam: 'Adam', sgd: 'SGD' };

export const corruptionName = (id: CorruptionName) => id.replace(/_/g, ' ');

export const MEMORY_GROUP_NAMES: Record<MemoryGroup, string> = { param: 'PARAM', grad: 'GRAD', act: 'ACT', opt: 'OPT', temp: 'TEMP' };

export const MEMORY_GROUP_MEANINGS: Record<MemoryGroup, string> = {
  param: 'every weight, frozen or not, adapters and BN running stats included',
  grad: 'gradients of the trainable parameters',
  act: 'forward tensors kept for the backward pass',
  opt: 'optimizer state (Adam moments, GaLore projections)',
  temp: 'activation gradients and workspaces alive at that moment',
};

export const FLOP_PHASE_NAMES: Record<FlopPhase, string> = {
  forward: 'Forward',
  backward_input: 'Backward (input grads)',
  backward_weight: 'Backward (weight grads)',
  optimizer: 'Optimizer',
  projection: 'GaLore projection',
};

/** A line of help under a field: the unit or what the value means. */
export const FIELD_HINTS: Partial<Record<ConfigField, string>> = {
  stem: 'CIFAR: stride 1 for small inputs.',
  rank: 'Adapter or projection rank r.',
  alpha: 'Update scaled by α / r.',
  adaptDepthwise: 'A dense rank-r A on a depthwise conv has more weights than the conv itself.',
  galoreUpdateGap: 'Steps between SVDs.',
  galoreScale: 'Multiplies the update.',
  galoreThreshold: 'Keep σᵢ ≥ ε·σ₁ (at most r); 0 keeps exactly r.',
  severity: '1 mild … 5 severe.',
  patience: '≥ Epochs: never stops early (the study: 5 epochs, patience 10).',
  seed: 'Same seed, same data and init.',
  trainImages: 'Fine-tuning images (the test split is half as many, 16–500).',
};

/** The new classifier of the unseen-classes and own-images tasks under each method (the methods' `trainHead`, PEFT's
 * modules_to_save): a randomly initialised head cannot be learnt frozen or through a low-rank
 * update, so it trains fully whatever the method. */
export const NEW_HEAD_NOTES: Record<MethodId, string> = {
  fft: 'This task fine-tunes a new, randomly initialised classifier (5-way for the unseen classes, one output per class of your own images); it trains with everything else.',
  bn_head: 'This task fine-tunes a new, randomly initialised classifier (5-way for the unseen classes, one output per class of your own images); it is the “head” this method trains.',
  lora: 'This task fine-tunes a new, randomly initialised classifier (5-way for the unseen classes, one output per class of your own images): it gets no adapter and trains fully (weight and bias), as PEFT’s modules_to_save; charts and runs count it.',
  dora: 'This task fine-tunes a new, randomly initialised classifier (5-way for the unseen classes, one output per class of your own images): it gets no adapter and trains fully (weight and bias), as PEFT’s modules_to_save; charts and runs count it.',
  galore: 'This task fine-tunes a new, randomly initialised classifier (5-way for the unseen classes, one output per class of your own images): its gradient is not projected; it trains fully with plain Adam (as PEFT’s modules_to_save), and the charts count it so.',
};

/** What each method trains, its formula, and what the study found. */
export const METHOD_NOTES: Record<MethodId, { trains: string; formula: string; finding: string }> = {
  fft: {
    trains: 'Every weight of the network.',
    formula: 'W ← W − η·Adam(∇W)',
    finding: 'The reference for accuracy, and the most memory: a gradient and two Adam moments for every weight.',
  },
  bn_head: {
    trains: 'Only BatchNorm’s scale and shift (γ, β) and the classifier.',
    formula: 'y = γ · x̂ + β;  logits = W_head · h',
    finding: 'The cheapest (52–85% less peak memory than FFT) but fails on hard shifts such as impulse noise (up to ~40 points behind).',
  },
  lora: {
    trains: 'Two small factors per adapted layer; the base weights stay frozen.',
    formula: 'y = W·x + (α/r) · B·A·x,  A: C_in→r,  B: r→C_out (B = 0 at start)',
    finding: 'The best accuracy/cost trade-off; cuts update FLOPs by up to ~95%, but saves only 22–48% of peak memory on MobileNets, where activations dominate.',
  },
  dora: {
    trains: 'LoRA’s factors plus a magnitude per output channel.',
    formula: 'W′ = m · (W + (α/r)·B·A) / ‖W + (α/r)·B·A‖',
    finding: 'Costs 29–58% more memory than LoRA with no accuracy gain on edge CNNs.',
  },
  galore: {
    trains: 'Every weight, but each weight gradient is projected to rank r; Adam’s moments live in the small space.',
    formula: 'G̃ = Pᵀ·G,  W ← W − η·scale·P·Adam(G̃),  P from an SVD of G every gap steps',
    finding: 'The most robust accuracy (close to FFT) in fewer iterations, for 10–30% more FLOPs (the decomposition) and 1.13–2× LoRA’s memory.',
  },
};
