// The spec rewrite shared by LoRA and DoRA (Hugging Face PEFT's LoraLayer on Conv2d and Linear):
// for each targeted layer X with input x,
//   X.lora_A   a dense conv C_in → r with X's kernel, stride and padding, no bias (linear: in → r),
//              kaiming_uniform(a = √5) as PEFT initialises it;
//   X.lora_B   a 1×1 conv r → C_out, no bias (linear: r → out), zeros, so the adapted model equals
//              the base model at step 0;
//   LoRA:  X.lora_add  y = X(x) + (α/r) · B(A(x));
//   DoRA:  X.dora      y = (m / ‖W + (α/r)·BA‖) ⊙ (X(x) without bias + (α/r) · B(A(x))) + bias,
//          with the magnitude m = X.lora_magnitude_vector, one per output channel;
// and every consumer of X reads the combination instead. Base weights and biases are frozen (PEFT's
// bias = 'none'); BatchNorm's affine parameters train only with `trainBatchNorm`. With `trainHead`
// the classifier takes no adapter and trains fully, weight and bias (PEFT's modules_to_save).
// Parameter names are those of PEFT's saved adapters (`.default` dropped).
import { isNormAffine, type Conv2dNode, type DoraCombineNode, type LinearNode, type LoraAddNode, type ModelSpec, type NodeSpec, type ParamSpec } from '../models/spec';
import { checkMethodOptions, cloneSpec, type MethodDefinition, type MethodOptions } from './method';
import { adapterShapes, classifierParamNames, layerKind, selectTargets, type AdaptableLayer } from './targets';

export type LowRankVariant = 'lora' | 'dora';

/** Whether a method is one of the low-rank adapter variants (LoRA, DoRA). */
export const isLowRankVariant = (method: string): method is LowRankVariant => method === 'lora' || method === 'dora';

export function adapterParamNames(layer: string): { a: string; b: string; magnitude: string } {
  return { a: `${layer}.lora_A.weight`, b: `${layer}.lora_B.weight`, magnitude: `${layer}.lora_magnitude_vector` };
}

/** Ids of the nodes added for a layer; `combine` is the node its consumers read. */
export function adapterNodeIds(layer: string, variant: LowRankVariant): { a: string; b: string; combine: string } {
  return { a: `${layer}.lora_A`, b: `${layer}.lora_B`, combine: variant === 'lora' ? `${layer}.lora_add` : `${layer}.dora` };
}

/** PEFT's kaiming_uniform_(a = √5) of lora_A (bound 1/√fan_in). */
const LORA_A_INIT = { kind: 'kaiming_uniform', a: Math.sqrt(5) } as const;

export function hasAdapters(spec: ModelSpec): boolean {
  return spec.nodes.some((node) => node.adapterOf !== undefined);
}

/** Every parameter frozen except BatchNorm's affine ones when `trainBatchNorm` and the
 * classifier's when `trainHead`. */
function freezeBase(spec: ModelSpec, { trainBatchNorm, trainHead }: Pick<MethodOptions, 'trainBatchNorm' | 'trainHead'>): void {
  const head = new Set(trainHead ? classifierParamNames(spec) : []);
  for (const param of Object.values(spec.params)) {
    param.trainable = (trainBatchNorm && isNormAffine(param.role)) || head.has(param.name);
  }
}

/** Whether `variant` can adapt depthwise convs. LoRA can (its update is a dense conv beside the
 * layer); DoRA cannot: W + s·BA would be a dense conv, and the per-channel norm of a depthwise
 * weight has no such term. The one place this rule lives (the lab's validation asks here too). */
export const adaptsDepthwise = (variant: LowRankVariant): boolean => variant === 'lora';

/** Why `variant` cannot adapt `targets`, or null. */
export function lowRankTargetProblem(variant: LowRankVariant, targets: readonly AdaptableLayer[]): string | null {
  if (adaptsDepthwise(variant)) return null;
  const depthwise = targets.filter((node) => layerKind(node) === 'depthwise').map((node) => node.id);
  return depthwise.length > 0 ? `depthwise convs cannot be adapted (their dense update has no depthwise norm): ${depthwise.join(', ')}` : null;
}

export const lora: MethodDefinition = { id: 'lora', apply: (spec, options) => addLowRankAdapters(spec, options, 'lora') };
export const dora: MethodDefinition = { id: 'dora', apply: (spec, options) => addLowRankAdapters(spec, options, 'dora') };

export function addLowRankAdapters(spec: ModelSpec, options: MethodOptions, variant: LowRankVariant): ModelSpec {
  checkMethodOptions(options);
  if (hasAdapters(spec)) throw new Error(`${variant}: the spec already has adapters`);
  const out = cloneSpec(spec);
  freezeBase(out, options);
  const targets = selectTargets(out, options);
  const problem = lowRankTargetProblem(variant, targets);
  if (problem) throw new Error(`${variant}: ${problem}`);
  const scaling = options.alpha / options.rank;
  const targetIds = new Set(targets.map((node) => node.id));
  const adapterParams = new Map<string, ParamSpec[]>();
  const readFrom = new Map<string, string>();
  const nodes: NodeSpec[] = [];
  for (const original of out.nodes) {
    const node = { ...original, inputs: original.inputs.map((id) => readFrom.get(id) ?? id) } as NodeSpec;
    if (!targetIds.has(node.id)) {
      nodes.push(node);
      continue;
    }
    const layer = node as AdaptableLayer;
    const ids = adapterNodeIds(layer.id, variant);
    const names = adapterParamNames(layer.id);
    const { a: aShape, b: bShape } = adapterShapes(layer, options.rank);
    const [a, b] = lowRankBranch(layer, ids, names, options.rank);
    const params: ParamSpec[] = [
      { name: names.a, shape: aShape, role: 'adapter_a', trainable: true, init: LORA_A_INIT, ...fans(layer, 'a', options.rank) },
      { name: names.b, shape: bShape, role: 'adapter_b', trainable: true, init: { kind: 'zeros' }, ...fans(layer, 'b', options.rank) },
    ];
    let combine: LoraAddNode | DoraCombineNode;
    if (variant === 'lora') {
      nodes.push(layer);
      combine = { op: 'lora_add', id: ids.combine, inputs: [layer.id, b.id], outShape: layer.outShape, adapterOf: layer.id, scaling };
    } else {
      // The base layer runs once, without its bias; dora_combine adds it after the rescaling.
      const { bias, ...withoutBias } = layer;
      nodes.push(withoutBias as AdaptableLayer);
      const outChannels = layer.op === 'linear' ? layer.outFeatures : layer.outChannels;
      params.push({
        name: names.magnitude,
        shape: [outChannels],
        role: 'adapter_magnitude',
        trainable: true,
        // Placeholder: m = ‖W‖ depends on the base weights' values (loaded after createModel);
        // initializeDoraMagnitudes sets it.
        init: { kind: 'ones' },
        fanIn: 1,
        fanOut: 1,
      });
      combine = {
        op: 'dora_combine',
        id: ids.combine,
        inputs: [layer.id, b.id],
        outShape: layer.outShape,
        adapterOf: layer.id,
        scaling,
        magnitude: names.magnitude,
        baseWeight: layer.weight,
        loraA: names.a,
        loraB: names.b,
        ...(bias ? { bias } : {}),
      };
    }
    nodes.push(a, b, combine);
    readFrom.set(layer.id, combine.id);
    adapterParams.set(layer.bias ?? layer.weight, params);
  }
  out.nodes = nodes;
  out.output = readFrom.get(out.output) ?? out.output;
  // Adapter parameters follow their layer's own, as in PEFT's state_dict.
  const ordered: Record<string, ParamSpec> = {};
  for (const [name, param] of Object.entries(out.params)) {
    ordered[name] = param;
    for (const added of adapterParams.get(name) ?? []) ordered[added.name] = added;
  }
  out.params = ordered;
  return out;
}

function lowRankBranch(
  layer: AdaptableLayer,
  ids: { a: string; b: string },
  names: { a: string; b: string },
  rank: number,
): [AdaptableLayer, AdaptableLayer] {
  if (layer.op === 'linear') {
    // Over tokens ([T, in] → [T, out]) A maps each token: [T, r].
    const a: LinearNode = {
      op: 'linear', id: ids.a, inputs: layer.inputs, outShape: [...layer.outShape.slice(0, -1), rank], adapterOf: layer.id,
      inFeatures: layer.inFeatures, outFeatures: rank, weight: names.a,
    };
    const b: LinearNode = {
      op: 'linear', id: ids.b, inputs: [ids.a], outShape: layer.outShape, adapterOf: layer.id,
      inFeatures: rank, outFeatures: layer.outFeatures, weight: names.b,
    };
    return [a, b];
  }
  const [outH, outW] = layer.outShape;
  const a: Conv2dNode = {
    op: 'conv2d', id: ids.a, inputs: layer.inputs, outShape: [outH, outW, rank], adapterOf: layer.id,
    inChannels: layer.inChannels, outChannels: rank, kernel: layer.kernel, stride: layer.stride, padding: layer.padding,
    groups: 1, weight: names.a,
  };
  const b: Conv2dNode = {
    op: 'conv2d', id: ids.b, inputs: [ids.a], outShape: layer.outShape, adapterOf: layer.id,
    inChannels: rank, outChannels: layer.outChannels, kernel: 1, stride: 1, padding: 0, groups: 1, weight: names.b,
  };
  return [a, b];
}

/** torch's fans of A and B (kaiming_uniform of A needs fan_in = C_in · k²). */
function fans(layer: AdaptableLayer, which: 'a' | 'b', rank: number): { fanIn: number; fanOut: number } {
  const receptive = layer.op === 'linear' ? 1 : layer.kernel * layer.kernel;
  const inputs = layer.op === 'linear' ? layer.inFeatures : layer.inChannels;
  const outputs = layer.op === 'linear' ? layer.outFeatures : layer.outChannels;
  return which === 'a' ? { fanIn: inputs * receptive, fanOut: rank * receptive } : { fanIn: rank, fanOut: outputs };
}

/** The base spec again: adapter nodes and parameters removed, consumers reading the base layers,
 * DoRA's bias given back to its layer. Trainable flags are kept as they are. Pure. */
export function unloadAdapters(spec: ModelSpec): ModelSpec {
  const out = cloneSpec(spec);
  const readFrom = new Map<string, string>();
  const biasOf = new Map<string, string>();
  const adapterParamSet = new Set<string>();
  for (const node of out.nodes) {
    if (node.adapterOf === undefined) continue;
    if (node.op === 'lora_add' || node.op === 'dora_combine') readFrom.set(node.id, node.adapterOf);
    if (node.op === 'dora_combine') {
      adapterParamSet.add(node.magnitude);
      if (node.bias) biasOf.set(node.adapterOf, node.bias);
    }
    if (node.op === 'conv2d' || node.op === 'linear') adapterParamSet.add(node.weight);
  }
  out.nodes = out.nodes
    .filter((node) => node.adapterOf === undefined)
    .map((node) => {
      const bias = biasOf.get(node.id);
      const inputs = node.inputs.map((id) => readFrom.get(id) ?? id);
      return (bias ? { ...node, inputs, bias } : { ...node, inputs }) as NodeSpec;
    });
  out.output = readFrom.get(out.output) ?? out.output;
  out.params = Object.fromEntries(Object.entries(out.params).filter(([name]) => !adapterParamSet.has(name)));
  return out;
}
