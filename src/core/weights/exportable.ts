// What of an adapted model can leave the lab in PyTorch's formats, said before anything is built:
// pure (no tfjs), so the page can say it beside its download buttons. merged.ts and peft.ts
// refuse the same cases with the same words.
import { layerKind, type AdaptableLayer } from '../adapters/targets';
import type { ModelSpec } from '../models/spec';

/** The base layers a spec's adapters adapt, in spec order. */
export function adaptedLayers(spec: ModelSpec): AdaptableLayer[] {
  const byId = new Map(spec.nodes.map((node) => [node.id, node]));
  return spec.nodes
    .filter((node) => node.op === 'lora_add' || node.op === 'dora_combine')
    .map((node) => byId.get(node.adapterOf as string) as AdaptableLayer);
}

const depthwiseLayers = (spec: ModelSpec) => adaptedLayers(spec).filter((layer) => layerKind(layer) === 'depthwise').map((layer) => layer.id);

/** A few layer ids, then how many more. */
const someOf = (ids: string[]) => (ids.length > 3 ? `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more` : ids.join(', '));

/** Why the adapted model has no torchvision state_dict, or null: a LoRA update of a depthwise conv
 * is a dense conv, which a depthwise conv's weight cannot hold. */
export function mergeProblem(spec: ModelSpec): string | null {
  const depthwise = depthwiseLayers(spec);
  if (depthwise.length === 0) return null;
  return `LoRA adapts depthwise convs (${someOf(depthwise)}): each update is a dense conv, which a depthwise conv's weight cannot hold, so this model has no torchvision state_dict`;
}

/** Why the spec has no PEFT adapter, or null. */
export function peftProblem(spec: ModelSpec): string | null {
  if (adaptedLayers(spec).length === 0) return 'only LoRA and DoRA have a PEFT adapter';
  const depthwise = depthwiseLayers(spec);
  if (depthwise.length > 0) {
    return `LoRA adapts depthwise convs (${someOf(depthwise)}) with a dense lora_B; PEFT 0.21 gives a grouped conv a grouped lora_B (and needs r divisible by the groups), so it would misread this adapter`;
  }
  return null;
}
