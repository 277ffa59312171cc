// Which layers the adapter methods adapt, and what an adapter costs per layer (for the UI's
// "what does r buy" table and the depthwise rule).
//
// Default targets: every dense conv (groups = 1, squeeze-and-excitation's 1×1 convs included) and
// every linear layer. In the CNNs linear layers exist only in the head (`classifier.*` in the
// MobileNets — two of them in MobileNetV3 — and `fc` in ResNet-18); in the ViT that is Hugging Face
// PEFT's target_modules=["qkv", "proj", "fc1", "fc2", "head"], whose suffix match also takes
// `patch_embed.proj`, the patch embedding's conv. The classifier is the spec's own list
// (`ModelSpec.classifier`). Depthwise convs are adapted only on request: LoRA's A is a
// dense conv C → r with the depthwise kernel, so A and B together hold r·C·k² + C·r parameters,
// more than the depthwise conv's own C·k². With `trainHead` the classifier is not a target: it
// trains fully instead (PEFT's modules_to_save).
import type { Conv2dNode, LinearNode, ModelSpec, NodeSpec, ParamSpec } from '../models/spec';
import type { MethodOptions } from './method';

export type AdaptableLayer = Conv2dNode | LinearNode;
export type LayerKind = 'conv' | 'depthwise' | 'linear';

export function layerKind(node: AdaptableLayer): LayerKind {
  if (node.op === 'linear') return 'linear';
  return node.groups > 1 ? 'depthwise' : 'conv';
}

export function isAdaptable(node: NodeSpec): node is AdaptableLayer {
  return (node.op === 'conv2d' || node.op === 'linear') && node.adapterOf === undefined;
}

/** The classifier's layers (`ModelSpec.classifier`), in spec order. */
export function classifierLayers(spec: ModelSpec): LinearNode[] {
  const head = new Set(spec.classifier);
  return spec.nodes.filter((node): node is LinearNode => node.op === 'linear' && head.has(node.id));
}

/** The classifier's parameters (weight and bias of each of its layers), in spec order. */
export function classifierParamNames(spec: ModelSpec): string[] {
  return classifierLayers(spec).flatMap((node) => (node.bias ? [node.weight, node.bias] : [node.weight]));
}

/** The base layers an adapter method adapts under `targets`, in spec order; with `trainHead` never
 * the classifier (naming one of its layers in `targets.layers` is then an error). */
export function selectTargets(spec: ModelSpec, { targets, trainHead }: Pick<MethodOptions, 'targets' | 'trainHead'>): AdaptableLayer[] {
  const layers = spec.nodes.filter(isAdaptable);
  const head = new Set(trainHead ? classifierLayers(spec).map((node) => node.id) : []);
  if (targets.layers) {
    const byId = new Map(layers.map((node) => [node.id, node]));
    const unknown = targets.layers.filter((id) => !byId.has(id));
    if (unknown.length > 0) throw new Error(`targets: no conv or linear layer named ${unknown.join(', ')}`);
    const headTargets = targets.layers.filter((id) => head.has(id));
    if (headTargets.length > 0) {
      throw new Error(`targets: ${headTargets.join(', ')} is the classifier, which trains fully with trainHead and takes no adapter`);
    }
    const wanted = new Set(targets.layers);
    return layers.filter((node) => wanted.has(node.id));
  }
  return layers.filter((node) => !head.has(node.id) && (layerKind(node) !== 'depthwise' || targets.depthwise));
}

function elements(param: ParamSpec | undefined): number {
  return param ? param.shape.reduce((a, b) => a * b, 1) : 0;
}

/** Lab-layout shapes of A (a dense conv C_in → r with the layer's kernel, or a linear in → r) and
 * B (a 1×1 conv or linear r → out). */
export function adapterShapes(node: AdaptableLayer, rank: number): { a: number[]; b: number[] } {
  if (node.op === 'linear') return { a: [node.inFeatures, rank], b: [rank, node.outFeatures] };
  return { a: [node.kernel, node.kernel, node.inChannels, rank], b: [1, 1, rank, node.outChannels] };
}

export interface AdapterCost {
  layer: string;
  kind: LayerKind;
  /** The layer's own weight and bias. */
  baseParams: number;
  /** A and B (LoRA), plus the magnitude vector for DoRA. */
  adapterParams: number;
}

/** Per targeted layer: base parameters vs the adapter's (so the UI can show that an adapter on a
 * depthwise conv outweighs the conv). */
export function adapterCostByLayer(
  spec: ModelSpec,
  options: Pick<MethodOptions, 'rank' | 'targets' | 'trainHead'>,
  withMagnitude: boolean,
): AdapterCost[] {
  return selectTargets(spec, options).map((node) => {
    const { a, b } = adapterShapes(node, options.rank);
    const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
    const outChannels = node.op === 'linear' ? node.outFeatures : node.outChannels;
    return {
      layer: node.id,
      kind: layerKind(node),
      baseParams: elements(spec.params[node.weight]) + (node.bias ? elements(spec.params[node.bias]) : 0),
      adapterParams: size(a) + size(b) + (withMagnitude ? outChannels : 0),
    };
  });
}
