// The fine-tuned model as a plain torchvision state_dict: adapters folded into their base weights
// (LoRA: lora.ts's merge, DoRA: dora.ts's), so the file loads with `load_state_dict(strict=True)`
// into the unmodified torchvision architecture. Methods without adapters export as they are.
// Pure: lab-layout values in, safetensors bytes out.
import { mergeDoraValues } from '../adapters/dora';
import { mergeLoraValues } from '../adapters/lora';
import { unloadAdapters } from '../adapters/lowRank';
import type { ModelSpec } from '../models/spec';
import { mergeProblem } from './exportable';
import { writeSafetensors } from './safetensors';
import { exportTorchStateDict } from './torchvision';

/** The base spec and its values with every adapter folded in (a spec without adapters: as it is). */
export function mergedValues(spec: ModelSpec, values: Readonly<Record<string, Float32Array>>): { spec: ModelSpec; values: Record<string, Float32Array> } {
  const problem = mergeProblem(spec);
  if (problem) throw new Error(`merge: ${problem}`);
  const base = unloadAdapters(spec);
  const dora = spec.nodes.some((node) => node.op === 'dora_combine');
  const lora = spec.nodes.some((node) => node.op === 'lora_add');
  const merged = dora ? mergeDoraValues(spec, values) : lora ? mergeLoraValues(spec, values) : { ...values };
  return { spec: base, values: Object.fromEntries(Object.keys(base.params).map((name) => [name, merged[name]])) };
}

/** The merged model as torchvision safetensors (F32, torch layouts, `num_batches_tracked` = 0). */
export function exportMergedSafetensors(
  spec: ModelSpec,
  values: Readonly<Record<string, Float32Array>>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const merged = mergedValues(spec, values);
  return writeSafetensors(exportTorchStateDict(merged.spec, merged.values, { numBatchesTracked: 0 }), { format: 'pt', ...metadata });
}
