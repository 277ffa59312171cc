// torchvision state_dict ⇄ the lab's parameters. Names are identical (ModelSpec params use
// torchvision's state_dict keys); only layouts differ:
//   conv       torch OIHW [out, in/groups, kh, kw]  ⇄ lab HWIO [kh, kw, in/groups, out]
//   depthwise  torch [C, 1, kh, kw]                 ⇄ lab [kh, kw, C, 1] (tfjs depthwiseConv2d)
//   linear     torch [out, in]                      ⇄ lab [in, out]
//   ViT's class token and position embedding (timm's own names): torch [1, 1, D] and [1, T + 1, D]
//              ⇄ lab [1, D] and [T + 1, D], the same values (layout 'unit_batch': a leading unit axis)
//   vectors (biases, BN affine and running statistics) are the same in both.
// torchvision's BN buffers `num_batches_tracked` (I64 scalars) have no lab counterpart: skipped on
// import, optionally written as 0 on export so the file loads with `strict=True` in PyTorch.
// Pure functions on Float32Arrays; validation happens before anything is returned, so a caller that
// assigns only after a successful import never half-loads a model.
import type { ModelSpec, ParamSpec } from '../models/spec';
import { isFloatDtype, type SafetensorsDtype, type TensorData, type TensorToWrite } from './safetensors';

export type TorchLayout = 'conv' | 'depthwise' | 'linear' | 'unit_batch' | 'same';

/** A tensor as read from a state_dict file: shape in torch layout, values row-major. */
export interface StateDictTensor {
  dtype?: SafetensorsDtype;
  shape: readonly number[];
  data: TensorData | ArrayLike<number>;
}

const PERMUTATION_LAB_TO_TORCH: Record<TorchLayout, number[] | null> = {
  conv: [3, 2, 0, 1], // [kh, kw, ci, co] → [co, ci, kh, kw]
  depthwise: [2, 3, 0, 1], // [kh, kw, C, 1] → [C, 1, kh, kw]
  linear: [1, 0], // [in, out] → [out, in]
  unit_batch: null,
  same: null,
};

const PERMUTATION_TORCH_TO_LAB: Record<TorchLayout, number[] | null> = {
  conv: [2, 3, 1, 0], // [co, ci, kh, kw] → [kh, kw, ci, co]
  depthwise: [2, 3, 0, 1], // [C, 1, kh, kw] → [kh, kw, C, 1]
  linear: [1, 0],
  unit_batch: null,
  same: null,
};

const NUM_BATCHES_TRACKED = '.num_batches_tracked';

/** Problems listed per kind in an import error (the rest are counted). */
const MAX_LISTED = 10;

/** The layout of every parameter of a spec, read off the nodes that use it. */
export function paramLayouts(spec: ModelSpec): Record<string, TorchLayout> {
  const layouts: Record<string, TorchLayout> = {};
  for (const node of spec.nodes) {
    if (node.op === 'conv2d') {
      const depthwise = node.groups > 1 && node.groups === node.inChannels && node.outChannels === node.inChannels;
      layouts[node.weight] = depthwise ? 'depthwise' : 'conv';
    } else if (node.op === 'linear') {
      layouts[node.weight] = 'linear';
    } else if (node.op === 'token_embed') {
      layouts[node.classToken] = 'unit_batch';
      layouts[node.positionEmbedding] = 'unit_batch';
    }
  }
  for (const [name, p] of Object.entries(spec.params)) {
    if (!(name in layouts)) layouts[name] = fallbackLayout(p);
  }
  return layouts;
}

/** Parameters no node names directly (e.g. adapters): infer from rank, as PEFT stores them (conv or linear). */
function fallbackLayout(p: ParamSpec): TorchLayout {
  if (p.role === 'conv_weight' && p.shape.length === 4) return 'conv';
  if (p.role === 'linear_weight' && p.shape.length === 2) return 'linear';
  if (p.role === 'adapter_a' || p.role === 'adapter_b') {
    if (p.shape.length === 4) return 'conv';
    if (p.shape.length === 2) return 'linear';
  }
  return 'same';
}

function permuteShape(shape: readonly number[], perm: readonly number[]): number[] {
  return perm.map((axis) => shape[axis]);
}

/** Torch shape of a parameter given its lab shape and layout. */
export function torchShapeOf(labShape: readonly number[], layout: TorchLayout): number[] {
  if (layout === 'unit_batch') return [1, ...labShape];
  const perm = PERMUTATION_LAB_TO_TORCH[layout];
  if (!perm) return [...labShape];
  checkRank(labShape, perm.length, layout);
  return permuteShape(labShape, perm);
}

function checkRank(shape: readonly number[], rank: number, layout: TorchLayout): void {
  if (shape.length !== rank) throw new Error(`layout ${layout} needs a rank-${rank} tensor, got shape [${shape.join(', ')}]`);
}

/** Row-major transpose: out[j0, j1, ...] = data[i] with out axis k = input axis perm[k]. */
export function permute(data: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`permute: data has ${data.length} elements, shape [${shape.join(', ')}] needs ${size}`);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let k = rank - 1; k >= 0; k--) {
    inStrides[k] = s;
    s *= shape[k];
  }
  const outShape = permuteShape(shape, perm);
  const stridesInOutOrder = perm.map((axis) => inStrides[axis]);
  const out = new Float32Array(size);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < size; o++) {
    out[o] = data[src];
    // Increment the output multi-index (last axis fastest), tracking the source offset.
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      src += stridesInOutOrder[k];
      if (index[k] < outShape[k]) break;
      src -= stridesInOutOrder[k] * outShape[k];
      index[k] = 0;
    }
  }
  return out;
}

export function labToTorch(data: ArrayLike<number>, labShape: readonly number[], layout: TorchLayout): Float32Array {
  const perm = PERMUTATION_LAB_TO_TORCH[layout];
  if (!perm) return Float32Array.from(data);
  checkRank(labShape, perm.length, layout);
  return permute(data, labShape, perm);
}

export function torchToLab(data: ArrayLike<number>, torchShape: readonly number[], layout: TorchLayout): Float32Array {
  const perm = PERMUTATION_TORCH_TO_LAB[layout];
  if (!perm) return Float32Array.from(data);
  checkRank(torchShape, perm.length, layout);
  return permute(data, torchShape, perm);
}

export interface ImportOptions {
  /**
   * Parameters to leave as they are (typically the classifier when its class count differs from the
   * file's): not required, and a file entry for them is neither checked nor imported.
   */
  skip?: readonly string[];
  /** Require adapter parameters too (default: imported if present, not required). */
  requireAdapters?: boolean;
  /** Name of the source, for messages (file name). */
  source?: string;
}

export interface ImportResult {
  /** Values in lab layout, by parameter name. */
  values: Record<string, Float32Array>;
  /** Spec parameters that got no value (skipped or optional adapters absent from the file). */
  notLoaded: string[];
  /** File keys that were ignored (num_batches_tracked buffers, skipped parameters). */
  ignored: string[];
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Map a torchvision state_dict onto the spec's parameters (lab layout). Checks everything first and
 * throws one Error listing every problem (missing key, unexpected key, wrong shape, non-float dtype),
 * each naming the key and, for shapes, both the expected and the found shape.
 */
export function importTorchStateDict(
  spec: ModelSpec,
  stateDict: Record<string, StateDictTensor>,
  options: ImportOptions = {},
): ImportResult {
  const source = options.source ?? 'state_dict';
  const skip = new Set(options.skip ?? []);
  const layouts = paramLayouts(spec);
  // Grouped so that the telling problems (wrong shapes, foreign keys) come first in the message.
  const mismatched: string[] = [];
  const unexpected: string[] = [];
  const missing: string[] = [];
  const ignored: string[] = [];
  const notLoaded: string[] = [];
  const bnBufferPrefixes = new Set(
    spec.nodes.flatMap((n) => (n.op === 'batchnorm' ? [n.runningMean.slice(0, n.runningMean.lastIndexOf('.'))] : [])),
  );

  for (const [name, p] of Object.entries(spec.params)) {
    const isAdapter = p.role === 'adapter_a' || p.role === 'adapter_b' || p.role === 'adapter_magnitude';
    const tensor = stateDict[name];
    if (skip.has(name)) {
      notLoaded.push(name);
      if (tensor) ignored.push(name);
      continue;
    }
    if (!tensor) {
      if (isAdapter && !options.requireAdapters) notLoaded.push(name);
      else missing.push(`missing key "${name}" (expected shape ${shapeString(torchShapeOf(p.shape, layouts[name]))})`);
      continue;
    }
    const expected = torchShapeOf(p.shape, layouts[name]);
    mismatched.push(...tensorProblems(name, tensor, expected, ' (torch layout)'));
  }
  for (const name of Object.keys(stateDict)) {
    if (name in spec.params) continue;
    if (name.endsWith(NUM_BATCHES_TRACKED) && bnBufferPrefixes.has(name.slice(0, -NUM_BATCHES_TRACKED.length))) {
      ignored.push(name);
      continue;
    }
    unexpected.push(`unexpected key "${name}" (shape ${shapeString(stateDict[name].shape)}): the model has no such parameter`);
  }
  throwIfMismatched(`${source} does not match ${spec.options.model}`, { mismatched, unexpected, missing });

  const values: Record<string, Float32Array> = {};
  for (const name of Object.keys(spec.params)) {
    const tensor = stateDict[name];
    if (!tensor || skip.has(name)) continue;
    values[name] = torchToLab(tensor.data, tensor.shape, layouts[name]);
  }
  return { values, notLoaded, ignored };
}

export interface ExportOptions {
  /** Also write each BN's `num_batches_tracked` as I64 (value below), as torchvision's state_dict has. */
  numBatchesTracked?: number | false;
  /** Only these parameters (default: all of the spec's parameters present in `values`, which must then be all). */
  names?: readonly string[];
}

/**
 * Lab-layout values → a torchvision state_dict (torch layouts, F32), ready for writeSafetensors.
 * Every requested parameter must be present with its spec size.
 */
export function exportTorchStateDict(
  spec: ModelSpec,
  values: Record<string, ArrayLike<number>>,
  options: ExportOptions = {},
): Record<string, TensorToWrite & { shape: number[]; data: Float32Array | number[] }> {
  const layouts = paramLayouts(spec);
  const names = options.names ?? Object.keys(spec.params);
  const out: Record<string, TensorToWrite & { shape: number[]; data: Float32Array | number[] }> = {};
  const problems: string[] = [];
  for (const name of names) {
    const p = spec.params[name];
    if (!p) {
      problems.push(`unknown parameter "${name}"`);
      continue;
    }
    const data = values[name];
    const size = p.shape.reduce((a, b) => a * b, 1);
    if (!data) problems.push(`missing value for "${name}"`);
    else if (data.length !== size) problems.push(`"${name}": ${data.length} values, shape ${shapeString(p.shape)} needs ${size}`);
  }
  if (problems.length > 0) throw new Error(`exportTorchStateDict: ${problems.join('; ')}`);
  for (const name of names) {
    const p = spec.params[name];
    out[name] = { dtype: 'F32', shape: torchShapeOf(p.shape, layouts[name]), data: labToTorch(values[name], p.shape, layouts[name]) };
  }
  if (options.numBatchesTracked !== undefined && options.numBatchesTracked !== false) {
    for (const node of spec.nodes) {
      if (node.op !== 'batchnorm' || !names.includes(node.runningMean)) continue;
      const key = node.runningMean.slice(0, node.runningMean.lastIndexOf('.')) + NUM_BATCHES_TRACKED;
      out[key] = { dtype: 'I64', shape: [], data: [options.numBatchesTracked] };
    }
  }
  return out;
}

/** What is wrong with a file's tensor standing for one of torch shape `expected` (none: empty). */
export function tensorProblems(name: string, tensor: StateDictTensor, expected: readonly number[], layoutNote = ''): string[] {
  const problems: string[] = [];
  if (tensor.dtype !== undefined && !isFloatDtype(tensor.dtype)) problems.push(`key "${name}": dtype ${tensor.dtype}, expected a float dtype (F32, F16, BF16, F64)`);
  if (!sameShape(tensor.shape, expected)) {
    problems.push(`key "${name}": shape ${shapeString(tensor.shape)} in the file, expected ${shapeString(expected)}${layoutNote}`);
  } else if (tensor.data.length !== expected.reduce((a, b) => a * b, 1)) {
    problems.push(`key "${name}": ${tensor.data.length} values for shape ${shapeString(expected)}`);
  }
  return problems;
}

/** Throws the import error (`what`, then every problem by kind, the first ten of each listed) when there is any. */
export function throwIfMismatched(what: string, { mismatched, unexpected, missing }: { mismatched: string[]; unexpected: string[]; missing: string[] }): void {
  if (mismatched.length + unexpected.length + missing.length === 0) return;
  const shown = (list: string[]): string[] => (list.length > MAX_LISTED ? [...list.slice(0, MAX_LISTED), `… and ${list.length - MAX_LISTED} more like this`] : list);
  const counts = [
    mismatched.length ? `${mismatched.length} wrong shape/dtype` : '',
    unexpected.length ? `${unexpected.length} unexpected` : '',
    missing.length ? `${missing.length} missing` : '',
  ].filter(Boolean);
  throw new Error(`${what} (${counts.join(', ')}; nothing was loaded):\n  ` + [...shown(mismatched), ...shown(unexpected), ...shown(missing)].join('\n  '));
}

/** The parameters of the classifier layer that produces the logits (what to `skip` when class counts differ). */
export function headParamNames(spec: ModelSpec): string[] {
  const byId = new Map(spec.nodes.map((n) => [n.id, n]));
  let node = byId.get(spec.output);
  while (node && node.op !== 'linear' && node.op !== 'conv2d' && node.inputs.length === 1) node = byId.get(node.inputs[0]);
  if (!node || (node.op !== 'linear' && node.op !== 'conv2d')) return [];
  return node.bias ? [node.weight, node.bias] : [node.weight];
}
