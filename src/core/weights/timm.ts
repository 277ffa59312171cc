// timm state_dicts (the Hugging Face hub's `timm/<architecture>.<tag>/model.safetensors`, a plain
// `model.state_dict()`) ⇄ torchvision-named ones, which importTorchStateDict then maps onto the lab.
// Checked against timm itself by src/core/weights/timm.test.ts (fixtures/timm, made by
// scripts/fixtures/make_timm_fixtures.py with timm 1.0.29).
//
// The names are derived from the spec, not listed:
// - ResNet-18: timm's names are torchvision's.
// - vit_tiny: the lab's names are timm's own (there is no torchvision ViT-Tiny); only layouts differ
//   (torchvision.ts). timm's weights are those of 224×224 (the position embedding has 197 rows) and
//   12 blocks.
// - MobileNetV2/V3: `features.0` is timm's `conv_stem`/`bn1`; the inverted-residual blocks
//   `features.1 … features.(L−1)` are `blocks.<stage>.<i>`, a stage being a run of blocks with the
//   same output width (timm's arch_def stages, at width 1); in a block, the convs other than
//   squeeze-excitation's are `conv_pw`, `conv_dw`, `conv_pwl` (with an expansion) or `conv_dw`,
//   `conv_pw` (timm's DepthwiseSeparableConv, without), each followed by `bn1`, `bn2`, `bn3` in
//   order; SE's fc1/fc2 are `se.conv_reduce`/`se.conv_expand`. The last 1×1 conv `features.L` is
//   `conv_head`/`bn2` in MobileNetV2 and a stage of its own, `blocks.<S>.0.conv`/`bn1`, in V3.
// - Heads: MobileNetV2's `classifier.1` is timm's `classifier`. MobileNetV3's `classifier.0` (a
//   Linear after pooling) is timm's `conv_head`, a 1×1 conv with bias after pooling: the same map,
//   with weight [out, in, 1, 1] instead of [out, in] (same values); `classifier.3` is `classifier`.
// Everything else was checked by running timm and matches torchvision: symmetric padding (k−1)/2,
// SE widths (make_divisible(C/4, 8)), ReLU inside SE, hard-sigmoid = ReLU6(x+3)/6, the residual of
// V3-Large's first block (stride 1, 16 → 16), MobileNetV2's first block without one (32 → 16),
// dropout only before the classifier (identity in eval).
//
// BatchNorm eps: timm builds these models with nn.BatchNorm2d's default eps 1e-5, torchvision's
// MobileNetV3 (and so the lab's spec) uses 1e-3. In eval mode y = γ(x − μ)/√(σ² + ε) + β, so the
// difference is folded exactly into the running variance: σ²_lab = σ²_timm + 1e-5 − 1e-3. The folded
// value may be negative (a nearly dead channel); σ²_lab + ε_lab = σ²_timm + ε_timm stays positive,
// and so does every running update of it. In training mode the lab normalises with batch statistics
// and ε = 1e-3 where timm would add 1e-5, a relative change of about 1e-3/(2σ²_B): negligible except
// for channels whose batch variance is near 1e-3; and each running update scales the fold's offset by
// (1 − momentum), so after fine-tuning the model is a plain torchvision-convention one (which is
// what the lab exports). The lab also keeps torchvision's BN momentum (0.01 in V3; timm's is 0.1).
import type { ModelId } from '../ids';
import type { BatchNormNode, Conv2dNode, LinearNode, ModelSpec, ParamRole } from '../models/spec';
import type { SafetensorsDtype } from './safetensors';
import { paramLayouts, shapeString, tensorProblems, throwIfMismatched, torchShapeOf, type StateDictTensor } from './torchvision';

/** timm's architecture of each model at width 1; the hub repos are `timm/<architecture>.<tag>`. */
export const TIMM_ARCHITECTURES: Record<ModelId, string> = {
  mobilenet_v2: 'mobilenetv2_100',
  mobilenet_v3_small: 'mobilenetv3_small_100',
  mobilenet_v3_large: 'mobilenetv3_large_100',
  resnet18: 'resnet18',
  vit_tiny: 'vit_tiny_patch16_224',
};

/** The BatchNorm eps of all four timm architectures (nn.BatchNorm2d's default; fixtures/timm records it). */
export const TIMM_BN_EPS = 1e-5;

/** A state_dict entry with its dtype and shape known (what the mapping returns; writable as safetensors). */
export interface TypedStateDictTensor extends StateDictTensor {
  dtype: SafetensorsDtype;
  shape: number[];
}

/** One state_dict key in both namings. */
export interface TimmKey {
  torchvision: string;
  timm: string;
  torchvisionShape: number[];
  timmShape: number[];
  /** Added to a running variance going timm → torchvision (timm's eps − the lab's); 0 elsewhere. */
  varianceShift: number;
  /** `num_batches_tracked`: optional in either file, never checked (the lab has no such buffer). */
  counter: boolean;
}

const ADAPTER_ROLES: ReadonlySet<ParamRole> = new Set(['adapter_a', 'adapter_b', 'adapter_magnitude']);
const NUM_BATCHES_TRACKED = 'num_batches_tracked';

/** A key's module path ('' for a top-level parameter such as ViT's cls_token). */
const moduleOf = (key: string): string => key.slice(0, Math.max(0, key.lastIndexOf('.')));

type Layer = Conv2dNode | LinearNode | BatchNormNode;

/**
 * torchvision module path → timm module path for every conv, linear and batch norm of the spec's base
 * model (adapters excluded), with the modules whose weight timm stores as a 1×1 conv.
 */
function timmModules(spec: ModelSpec): { names: Map<string, string>; linearAsConv: Set<string> } {
  const names = new Map<string, string>();
  const linearAsConv = new Set<string>();
  const model = spec.options.model;
  const layers = spec.nodes.filter((n): n is Layer => !n.adapterOf && (n.op === 'conv2d' || n.op === 'linear' || n.op === 'batchnorm'));
  const moduleName = (n: Layer): string => moduleOf(n.op === 'batchnorm' ? n.gamma : n.weight);
  if (model === 'resnet18') {
    for (const n of layers) names.set(moduleName(n), moduleName(n));
    return { names, linearAsConv };
  }
  if (model === 'vit_tiny') {
    // Every parameter's module (the top-level cls_token and pos_embed have none: '').
    for (const name of Object.keys(spec.params)) names.set(moduleOf(name), moduleOf(name));
    return { names, linearAsConv };
  }

  // MobileNets: the conv, BN (and SE) layers of each `features.<k>`, in spec (forward) order.
  const byFeature = new Map<number, Layer[]>();
  for (const n of layers) {
    const match = /^features\.(\d+)\./.exec(moduleName(n));
    if (!match) continue;
    const k = Number(match[1]);
    byFeature.set(k, [...(byFeature.get(k) ?? []), n]);
  }
  const last = Math.max(...byFeature.keys());
  const structureError = (k: number, why: string) => new Error(`timm mapping of ${model}: features.${k} ${why}`);
  const convBn = (k: number): [string, string] => {
    const block = byFeature.get(k) ?? [];
    if (block.length !== 2 || block[0].op !== 'conv2d' || block[1].op !== 'batchnorm') throw structureError(k, 'is not a conv and a batch norm');
    return [moduleName(block[0]), moduleName(block[1])];
  };
  const [stemConv, stemBn] = convBn(0);
  names.set(stemConv, 'conv_stem');
  names.set(stemBn, 'bn1');

  let stage = -1;
  let indexInStage = 0;
  let stageWidth = -1;
  for (let k = 1; k < last; k++) {
    const block = byFeature.get(k) ?? [];
    const norms = block.filter((n): n is BatchNormNode => n.op === 'batchnorm');
    const squeezeExcite = block.filter((n) => n.op === 'conv2d' && /\.fc[12]$/.test(n.id));
    const convs = block.filter((n): n is Conv2dNode => n.op === 'conv2d' && !squeezeExcite.includes(n));
    const depthwiseAt = convs.findIndex((n) => n.groups > 1);
    const convNames = convs.length === 3 ? ['conv_pw', 'conv_dw', 'conv_pwl'] : ['conv_dw', 'conv_pw'];
    if (convs.length !== norms.length || convNames[depthwiseAt] !== 'conv_dw' || convs.length + squeezeExcite.length + norms.length !== block.length) {
      throw structureError(k, 'is not an inverted-residual or depthwise-separable block');
    }
    const width = norms[norms.length - 1].channels;
    if (width !== stageWidth) [stage, indexInStage, stageWidth] = [stage + 1, 0, width];
    const prefix = `blocks.${stage}.${indexInStage++}`;
    convs.forEach((n, i) => names.set(moduleName(n), `${prefix}.${convNames[i]}`));
    norms.forEach((n, i) => names.set(moduleName(n), `${prefix}.bn${i + 1}`));
    squeezeExcite.forEach((n) => names.set(moduleName(n), `${prefix}.se.${n.id.endsWith('fc1') ? 'conv_reduce' : 'conv_expand'}`));
  }

  const [headConv, headBn] = convBn(last);
  const heads = layers.filter((n) => n.op === 'linear').map(moduleName);
  if (model === 'mobilenet_v2') {
    names.set(headConv, 'conv_head');
    names.set(headBn, 'bn2');
    if (heads.length !== 1) throw new Error(`timm mapping of ${model}: expected one linear layer, found ${heads.length}`);
    names.set(heads[0], 'classifier');
  } else {
    names.set(headConv, `blocks.${stage + 1}.0.conv`);
    names.set(headBn, `blocks.${stage + 1}.0.bn1`);
    if (heads.length !== 2) throw new Error(`timm mapping of ${model}: expected two linear layers, found ${heads.length}`);
    names.set(heads[0], 'conv_head');
    linearAsConv.add(heads[0]);
    names.set(heads[1], 'classifier');
  }
  return { names, linearAsConv };
}

/** Refuses what timm has no weights for: a width other than 1 (the `_100` architectures). */
function checkTimmWidth(spec: ModelSpec): void {
  const { model, width } = spec.options;
  if (width !== 1) {
    throw new Error(`timm's ${TIMM_ARCHITECTURES[model]} is ${model} at width 1; this model has width ${width}: timm weights do not fit it`);
  }
}

/** Every key of the spec's base model (parameters, BN statistics and counters) in both namings. */
export function timmKeys(spec: ModelSpec): TimmKey[] {
  checkTimmWidth(spec);
  const { names, linearAsConv } = timmModules(spec);
  const layouts = paramLayouts(spec);
  const epsOfRunningVar = new Map(spec.nodes.flatMap((n) => (n.op === 'batchnorm' && !n.adapterOf ? [[n.runningVar, n.eps] as const] : [])));
  const keys: TimmKey[] = [];
  for (const [name, p] of Object.entries(spec.params)) {
    if (ADAPTER_ROLES.has(p.role)) continue;
    const module = moduleOf(name);
    const timmModule = names.get(module);
    if (timmModule === undefined) throw new Error(`timm mapping of ${spec.options.model}: no timm name for "${name}"`);
    const torchvisionShape = torchShapeOf(p.shape, layouts[name]);
    const labEps = epsOfRunningVar.get(name);
    keys.push({
      torchvision: name,
      timm: `${timmModule}${name.slice(module.length)}`,
      torchvisionShape,
      timmShape: linearAsConv.has(module) && p.role === 'linear_weight' ? [...torchvisionShape, 1, 1] : torchvisionShape,
      varianceShift: labEps === undefined ? 0 : TIMM_BN_EPS - labEps,
      counter: false,
    });
    if (p.role === 'bn_running_mean') {
      keys.push({
        torchvision: `${module}.${NUM_BATCHES_TRACKED}`,
        timm: `${timmModule}.${NUM_BATCHES_TRACKED}`,
        torchvisionShape: [],
        timmShape: [],
        varianceShift: 0,
        counter: true,
      });
    }
  }
  return keys;
}

export interface TimmMapOptions {
  /** Name of the source, for messages (file name). */
  source?: string;
  /** torchvision names of parameters to leave alone (a new head): not required, and passed on unchecked. */
  skip?: readonly string[];
}


/**
 * Renames (and reshapes / refolds) every key of one naming into the other, after checking the whole
 * state_dict: one Error lists every wrong shape or dtype, unexpected and missing key, in the naming
 * of the input.
 */
function mapStateDict(
  spec: ModelSpec,
  tensors: Record<string, StateDictTensor>,
  direction: 'timm→torchvision' | 'torchvision→timm',
  options: TimmMapOptions,
): Record<string, TypedStateDictTensor> {
  const toTorchvision = direction === 'timm→torchvision';
  const keys = timmKeys(spec);
  const from = (k: TimmKey) => (toTorchvision ? k.timm : k.torchvision);
  const byInputName = new Map(keys.map((k) => [from(k), k]));
  const skip = new Set(options.skip ?? []);
  const source = options.source ?? 'state_dict';
  const naming = toTorchvision ? `timm's ${TIMM_ARCHITECTURES[spec.options.model]}` : 'torchvision';

  const mismatched: string[] = [];
  const unexpected: string[] = [];
  const missing: string[] = [];
  for (const k of keys) {
    const name = from(k);
    const expected = toTorchvision ? k.timmShape : k.torchvisionShape;
    const tensor = tensors[name];
    if (k.counter || skip.has(k.torchvision)) continue;
    if (!tensor) {
      missing.push(`missing key "${name}" (expected shape ${shapeString(expected)})`);
      continue;
    }
    mismatched.push(...tensorProblems(name, tensor, expected));
  }
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!byInputName.has(name)) unexpected.push(`unexpected key "${name}" (shape ${shapeString(tensor.shape)}): ${naming} has no such key`);
  }
  throwIfMismatched(`${source} does not match ${naming} as the lab's ${spec.options.model}`, { mismatched, unexpected, missing });

  const out: Record<string, TypedStateDictTensor> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    const k = byInputName.get(name) as TimmKey;
    const dtype = tensor.dtype ?? 'F32';
    if (k.counter || skip.has(k.torchvision)) {
      out[toTorchvision ? k.torchvision : k.timm] = { dtype, shape: [...tensor.shape], data: tensor.data };
      continue;
    }
    const shift = toTorchvision ? k.varianceShift : -k.varianceShift;
    out[toTorchvision ? k.torchvision : k.timm] = {
      dtype,
      shape: toTorchvision ? k.torchvisionShape : k.timmShape,
      data: shift === 0 ? tensor.data : Float32Array.from(tensor.data, (v) => v + shift),
    };
  }
  return out;
}

/**
 * A timm state_dict (timm names and shapes) → the torchvision state_dict of the same weights, ready
 * for importTorchStateDict. Nothing is returned unless every key is known, present (bar `skip` and
 * the `num_batches_tracked` counters) and of the right shape and a float dtype.
 */
export function timmToTorchvision(
  spec: ModelSpec,
  tensors: Record<string, StateDictTensor>,
  options: TimmMapOptions = {},
): Record<string, TypedStateDictTensor> {
  return mapStateDict(spec, tensors, 'timm→torchvision', options);
}

/** The inverse: a torchvision state_dict (e.g. exportTorchStateDict's) as timm would save it. */
export function torchvisionToTimm(
  spec: ModelSpec,
  tensors: Record<string, StateDictTensor>,
  options: TimmMapOptions = {},
): Record<string, TypedStateDictTensor> {
  return mapStateDict(spec, tensors, 'torchvision→timm', options);
}
