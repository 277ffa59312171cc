// Words for ids, wherever the lab shows them (page, CLI, reports). Methods' words are their
// descriptors' (methods.ts), re-exported here by id for charts and tables.
import type { CorruptionName } from '../core/data/corruptions';
import type { TaskId } from '../core/data/tasks';
import type { FlopPhase, FrozenWeightFormat, MemoryGroup, MethodId, ModelId, StemId } from '../core/ids';
import { METHOD_IDS } from '../core/ids';
import type { BaseWeightsId, DataSourceId, OptimizerId } from './ids';
import { METHOD_DESCRIPTORS, methodDescriptorOn } from './methods';

export const MODEL_NAMES: Record<ModelId, string> = {
  mobilenet_v2: 'MobileNetV2',
  mobilenet_v3_small: 'MobileNetV3-Small',
  mobilenet_v3_large: 'MobileNetV3-Large',
  resnet18: 'ResNet-18',
  vit_tiny: 'ViT-Tiny',
};

const byMethod = <T>(pick: (id: MethodId) => T) => Object.fromEntries(METHOD_IDS.map((id) => [id, pick(id)])) as Record<MethodId, T>;
export const METHOD_NAMES: Record<MethodId, string> = byMethod((id) => METHOD_DESCRIPTORS[id].name);
/** Short names for chart axes. */
export const METHOD_SHORT_NAMES: Record<MethodId, string> = byMethod((id) => METHOD_DESCRIPTORS[id].shortName);
/** A method's name on a model (BN+head is LN+head on a ViT): use these wherever the model is known. */
export const methodName = (method: MethodId, model: ModelId) => methodDescriptorOn(method, model).name;
export const methodShortName = (method: MethodId, model: ModelId) => methodDescriptorOn(method, model).shortName;
/** A method's short name over several models: "BN+H / LN+head" where they differ. */
export const methodShortNameOver = (method: MethodId, models: readonly ModelId[]) => [...new Set(models.map((model) => methodShortName(method, model)))].join(' / ');

export const STEM_NAMES: Record<StemId, string> = {
  imagenet: 'ImageNet',
  cifar: 'CIFAR',
};

export const FROZEN_WEIGHTS_NAMES: Record<FrozenWeightFormat, string> = {
  fp32: 'fp32 (float32)',
  int8: 'int8 (block 64)',
  nf4: 'NF4 (4-bit NormalFloat, block 64)',
};

export const TASK_NAMES: Record<TaskId, string> = {
  shift: 'Distribution shift (corruption)',
  unseen_classes: 'Unseen classes (5–9)',
  custom: 'Your own images',
};

export const DATA_SOURCE_NAMES: Record<DataSourceId, string> = {
  synthetic: 'Synthetic shapes (built in)',
  cifar10: 'CIFAR-10 (download)',
  hub_cifar10: 'CIFAR-10 (Hugging Face hub)',
};

export const BASE_WEIGHTS_NAMES: Record<BaseWeightsId, string> = {
  shipped: 'Shipped checkpoint',
  browser: 'Pretrained in this browser',
  hub: 'ImageNet-pretrained (Hugging Face hub, timm)',
  imported: 'Imported file',
  random: 'Random init',
};

export const OPTIMIZER_NAMES: Record<OptimizerId, string> = { adam: 'Adam', sgd: 'SGD' };

export const corruptionName = (id: CorruptionName) => id.replace(/_/g, ' ');
/** A study task in words: `impulse_noise:5` → "impulse noise sev. 5", `unseen_classes` → "unseen classes". */
export const studyTaskName = (task: string) => task.replace(/_/g, ' ').replace(':', ' sev. ');

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
