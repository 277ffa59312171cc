// A LoRA/DoRA model as Hugging Face PEFT saves it (`save_pretrained` of a torchvision model wrapped
// by `get_peft_model`), checked against PEFT 0.21 itself (scripts/fixtures/check_exports.py):
//   adapter_model.safetensors   base_model.model.<layer>.lora_A.weight  conv [r, C_in, kh, kw] / linear [r, in]
//                               base_model.model.<layer>.lora_B.weight  conv [C_out, r, 1, 1] / linear [out, r]
//                               base_model.model.<layer>.lora_magnitude_vector (DoRA)  conv [1, C_out, 1, 1] / linear [out]
//                               base_model.model.<module>.<param> for each module of modules_to_save
//   adapter_config.json         peft_type LORA, r, lora_alpha, target_modules (exact module names),
//                               modules_to_save, use_dora, …
// What the lab trains besides the adapters goes to modules_to_save: every BatchNorm (its running
// statistics follow the fine-tuning batches in train mode, as in PyTorch, whatever the method; its
// affine parameters too with trainBatchNorm) and the classifier when it trains fully (trainHead).
// PEFT 0.21 adapts a grouped conv with a grouped lora_B (and only when r is a multiple of the
// groups); the lab's depthwise LoRA has a dense B, so such a model is refused rather than written
// in a form PEFT would misread.
import { adapterParamNames, unloadAdapters } from '../adapters/lowRank';
import type { ModelSpec } from '../models/spec';
import { adaptedLayers, peftProblem } from './exportable';
import { writeSafetensors, type TensorToWrite } from './safetensors';
import { exportTorchStateDict } from './torchvision';

/** PEFT's prefix for the wrapped model's modules in a saved adapter. */
const PEFT_PREFIX = 'base_model.model.';

/** The module a parameter belongs to (`features.0.1.weight` → `features.0.1`). */
const moduleOf = (param: string) => param.slice(0, param.lastIndexOf('.'));

export interface PeftAdapterConfig {
  peft_type: 'LORA';
  task_type: null;
  base_model_name_or_path: null;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  bias: 'none';
  fan_in_fan_out: boolean;
  use_rslora: boolean;
  use_dora: boolean;
  init_lora_weights: boolean;
  inference_mode: boolean;
  target_modules: string[];
  modules_to_save: string[] | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
}

/** The modules PEFT must save whole: every BatchNorm, and every module with a trainable base
 * parameter (the fully trained classifier), in state_dict order. */
function modulesToSave(spec: ModelSpec): string[] {
  const modules = new Set<string>();
  const batchNorms = new Set(spec.nodes.flatMap((node) => (node.op === 'batchnorm' ? [moduleOf(node.runningMean)] : [])));
  for (const param of Object.values(spec.params)) {
    const adapter = param.role === 'adapter_a' || param.role === 'adapter_b' || param.role === 'adapter_magnitude';
    const module = moduleOf(param.name);
    if (!adapter && (param.trainable || batchNorms.has(module))) modules.add(module);
  }
  return [...modules];
}

/** adapter_config.json's content for an adapted spec; `alpha` as the run was configured. */
export function peftAdapterConfig(spec: ModelSpec, alpha: number): PeftAdapterConfig {
  const problem = peftProblem(spec);
  if (problem) throw new Error(`PEFT adapter: ${problem}`);
  const layers = adaptedLayers(spec);
  const ranks = new Set(layers.map((layer) => spec.params[adapterParamNames(layer.id).a].shape.at(-1) as number));
  if (ranks.size !== 1) throw new Error(`PEFT adapter: the layers have different ranks (${[...ranks].join(', ')})`);
  const [rank] = ranks;
  for (const node of spec.nodes) {
    if ((node.op === 'lora_add' || node.op === 'dora_combine') && Math.abs(node.scaling - alpha / rank) > 1e-12 * Math.abs(alpha / rank)) {
      throw new Error(`PEFT adapter: ${node.id} scales by ${node.scaling}, not α/r = ${alpha}/${rank}`);
    }
  }
  const toSave = modulesToSave(spec);
  return {
    peft_type: 'LORA',
    task_type: null,
    base_model_name_or_path: null,
    r: rank,
    lora_alpha: alpha,
    lora_dropout: 0,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: spec.nodes.some((node) => node.op === 'dora_combine'),
    init_lora_weights: true,
    inference_mode: true,
    target_modules: layers.map((layer) => moduleOf(layer.weight)),
    modules_to_save: toSave.length > 0 ? toSave : null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

export interface PeftAdapterFiles {
  /** adapter_model.safetensors */
  adapterModel: Uint8Array;
  /** adapter_config.json, as text */
  adapterConfig: string;
  /** The torchvision state_dict the adapter applies to (adapters removed; the modules of
   * modules_to_save hold their fine-tuned values, which PEFT's copies replace anyway). */
  baseModel: Uint8Array;
}

/** The adapter PEFT's `PeftModel.from_pretrained(torchvision_model, dir)` loads, and its base. */
export function exportPeftAdapter(
  spec: ModelSpec,
  values: Readonly<Record<string, Float32Array>>,
  { alpha, metadata = {} }: { alpha: number; metadata?: Record<string, string> },
): PeftAdapterFiles {
  const config = peftAdapterConfig(spec, alpha);
  const tensors: Record<string, TensorToWrite> = {};
  for (const layer of adaptedLayers(spec)) {
    const names = adapterParamNames(layer.id);
    const conv = layer.op === 'conv2d';
    const adapter = [names.a, names.b].concat(names.magnitude in spec.params ? [names.magnitude] : []);
    const state = exportTorchStateDict(spec, values, { names: adapter });
    for (const name of adapter) {
      const tensor = state[name];
      // PEFT keeps a conv's magnitude in the weight's rank ([1, C_out, 1, 1]: its norm, transposed).
      const shape = name === names.magnitude && conv ? [1, tensor.shape[0], 1, 1] : tensor.shape;
      tensors[PEFT_PREFIX + name] = { ...tensor, shape };
    }
  }
  const saved = new Set(config.modules_to_save ?? []);
  const savedParams = Object.keys(spec.params).filter((name) => saved.has(moduleOf(name)));
  const modules = exportTorchStateDict(spec, values, { names: savedParams, numBatchesTracked: 0 });
  for (const [name, tensor] of Object.entries(modules)) tensors[PEFT_PREFIX + name] = tensor;
  const base = exportBase(spec, values);
  return {
    adapterModel: writeSafetensors(tensors, { format: 'pt', ...metadata }),
    adapterConfig: `${JSON.stringify(config, null, 2)}\n`,
    baseModel: base,
  };
}

/** The base model's torchvision safetensors: the spec without its adapters, current values. */
function exportBase(spec: ModelSpec, values: Readonly<Record<string, Float32Array>>): Uint8Array {
  return writeSafetensors(exportTorchStateDict(unloadAdapters(spec), values, { numBatchesTracked: 0 }), { format: 'pt' });
}
