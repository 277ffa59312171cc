// Analytic memory of one training step: which tensors autograd keeps (ACT), and a timeline of the
// bytes alive by group through forward, backward and the optimizer, in two views: the lab's ideal
// engine ('analytic', keeps only what the trainable set's gradients need) and PyTorch's autograd
// ('pytorch'). Everything follows from shapes; every tensor is float32 unless a rule says otherwise.
//
// The step, as simulated (both views):
// - PARAM (every parameter and buffer) and OPT (optimizer state, steady state) are constant.
// - Forward, node by node in topological order: the node's output is allocated (TEMP), what its
//   backward needs is kept (ACT); a tensor is freed after its last consumer has run unless kept.
//   The loss (softmax cross-entropy, not a spec node) keeps the softmax probabilities. The labels
//   (integers) and the loss's FLOPs are left out.
// - Backward, in reverse: each node reads its output gradient and produces its inputs' gradients
//   (TEMP) and its trainable parameters' gradients (GRAD); its kept tensors are freed after it. A
//   tensor read by several nodes (a residual fork) holds its gradient until every branch has added
//   its part; nothing is produced for tensors below the gradient frontier.
// - Optimizer: parameter by parameter, the update's temporaries (TEMP); gradients stay alive until
//   the step ends (PyTorch frees them at the next zero_grad, tfjs after applying them all). For
//   GaLore the phase shown is a projector-refresh step (its workspace is the larger).
// Each timeline point is an op's high-water mark: everything it reads, writes and keeps, at once.
// A quantized base (ParamSpec.storage, src/core/quant): PARAM counts each quantized weight at its
// stored bytes (packed codes plus float32 scales); its float32 copy is TEMP while its layer runs in
// the forward pass, and again in the backward when the layer passes an input gradient (the engine
// saves the packed weight, not the copy). DoRA's norm reads its own copy of the base weight.
import { fusedActivations, isAppliedByBatchNorm, recomputedActivations } from '../models/fusion';
import { MEMORY_GROUPS, type MemoryGroup } from '../ids';
import type { ActivationNode, AttentionNode, NodeSpec } from '../models/spec';
import { storedParamBytes } from '../quant/blockwise';
import { numel, ownedParamNames, type SpecGraph } from './graph';
import { optimizerCosts, torchGaloreSvdBytes, torchGaloreUpdateElements, type ParamOptimizerCost } from './optimizerCost';
import {
  BYTES_PER_FLOAT,
  sumOf,
  zeroBytesByGroup,
  type BytesByGroup,
  type MemoryPeak,
  type MemoryProfile,
  type NodeMemory,
  type ProfileOptions,
  type StepPhase,
  type TimelinePoint,
} from './types';

export type AutogradView = 'analytic' | 'pytorch';

const floats = (count: number): number => count * BYTES_PER_FLOAT;

/** A tensor a node keeps for its backward: one of its inputs, its output, or a new tensor. */
type KeptTensor =
  | { kind: 'input'; slot: number }
  | { kind: 'output' }
  /** A tensor of its own: `perExample` bytes per image plus `perStep` bytes (per-channel statistics). */
  | { kind: 'new'; what: string; perExample: number; perStep: number };

const perExample = (what: string, bytes: number): KeptTensor => ({ kind: 'new', what, perExample: bytes, perStep: 0 });
const perChannel = (what: string, node: NodeSpec): KeptTensor => ({
  kind: 'new',
  what,
  perExample: 0,
  perStep: floats(node.outShape[node.outShape.length - 1]),
});

/** Tokens of a [T, D] tensor (1 for a vector). */
const tokensOf = (node: NodeSpec): number => numel(node.outShape) / node.outShape[node.outShape.length - 1];
/** Layer norm's per-token mean and 1/σ. */
const layerNormStats = (node: NodeSpec, names: [string, string]): KeptTensor[] =>
  names.map((name) => perExample(name, floats(tokensOf(node))));
/** Attention's softmax probabilities (or scores): [heads, T, T] per example. */
const attentionScores = (node: AttentionNode): number => floats(node.heads * node.outShape[0] * node.outShape[0]);

/** Bytes of a bool mask element (PyTorch's native_dropout) and of an int64 / int32 index. */
const BOOL_BYTES = 1;
const INT64_BYTES = 8;
const INT32_BYTES = 4;

interface NodeContext {
  graph: SpecGraph;
  batch: number;
  /** Whether each input slot needs a gradient. */
  inputNeedsGrad: boolean[];
  outputNeedsGrad: boolean;
  trains(paramName: string | undefined): boolean;
  /** The lab engine's recomputed activations (models/fusion.ts): id → its batch norm's id. Empty in
   * the PyTorch view, where torchvision's in-place activations keep their output. */
  recomputed: ReadonlyMap<string, string>;
}

function contextOf(graph: SpecGraph, node: NodeSpec, batch: number, recomputed: ReadonlyMap<string, string> = new Map()): NodeContext {
  return {
    graph,
    batch,
    inputNeedsGrad: node.inputs.map((id) => graph.requiresGrad.get(id) === true),
    outputNeedsGrad: graph.requiresGrad.get(node.id) === true,
    trains: (name) => name !== undefined && graph.param(name).trainable,
    recomputed,
  };
}

/** The activations the lab's engine recomputes in a training step (models/fusion.ts): those whose
 * batch norm keeps its input, which labKeptTensors' batch norm rule decides. */
function labRecomputedActivations(graph: SpecGraph, batch: number): Map<string, string> {
  const nodes = new Map(graph.spec.nodes.map((node) => [node.id, node]));
  return recomputedActivations(graph.spec, (batchNormId) => {
    const node = nodes.get(batchNormId) as NodeSpec;
    return labKeptTensors(node, contextOf(graph, node, batch)).some((kept) => kept.kind === 'input');
  });
}

/** Whether a conv or linear layer recomputes its input (a recomputed activation) for its weight
 * gradient instead of keeping it. */
const recomputesInput = (node: NodeSpec, ctx: NodeContext): boolean =>
  (node.op === 'conv2d' || node.op === 'linear') && ctx.trains(node.weight) && ctx.recomputed.has(node.inputs[0]);

/**
 * The lab's ideal autograd: a node keeps only what the gradients that are actually needed read.
 * Nothing is kept where no gradient flows through the node (below the frontier).
 */
function labKeptTensors(node: NodeSpec, ctx: NodeContext): KeptTensor[] {
  if (!ctx.outputNeedsGrad) return [];
  const [inputGrad, secondInputGrad] = ctx.inputNeedsGrad;
  const elements = numel(node.outShape);
  switch (node.op) {
    case 'conv2d':
    case 'linear':
      // dW = x ⋆ dY needs the input; dX = dY ⋆ W needs only the weight (a parameter); db only dY.
      // An adapter reading the same input is its own node and keeps the same tensor (counted once).
      // An input the engine recomputes (a batch norm's applied activation) is not kept: what
      // recomputes it, the batch norm keeps (models/fusion.ts).
      return ctx.trains(node.weight) && !recomputesInput(node, ctx) ? [{ kind: 'input', slot: 0 }] : [];
    case 'batchnorm': {
      // dγ = Σ dY·x̂; dβ = Σ dY; dX = γ/σ · (dY − mean(dY) − x̂·mean(dY·x̂)): dγ and dX read x̂,
      // which the lab's backward recomputes from x and the batch mean and variance (the same bytes
      // as keeping x̂, plus a per-channel vector). Only β training (and no input gradient) keeps nothing.
      if (!inputGrad && !ctx.trains(node.gamma)) return [];
      return [{ kind: 'input', slot: 0 }, perChannel('batch mean', node), perChannel('batch variance', node)];
    }
    case 'layernorm':
      // dγ = Σ dY·x̂ and dX (which reads x̂ and 1/σ) recompute x̂ from x and the per-token mean and
      // 1/σ; dβ = Σ dY needs nothing.
      if (!inputGrad && !ctx.trains(node.gamma)) return [];
      return [{ kind: 'input', slot: 0 }, ...layerNormStats(node, ['mean', '1/σ'])];
    case 'attention':
      // dP = dO·vᵀ and dv = Pᵀ·dO read v and P; dS = P ⊙ (dP − Σ dP⊙P); dq = dS·k, dk = dSᵀ·q read
      // q and k: qkv and P are all of it (no parameters: nothing unless the input needs a gradient).
      return inputGrad ? [{ kind: 'input', slot: 0 }, perExample('softmax P', attentionScores(node))] : [];
    case 'activation':
      // A recomputed activation's mask is applied by its batch norm's backward (models/fusion.ts).
      if (!inputGrad || ctx.recomputed.has(node.id)) return [];
      // relu/relu6/hardsigmoid: the derivative is a mask readable off the output (a 1-byte mask would
      // do; tfjs keeps the float output, so count that). hardswish's and gelu's derivatives need the input.
      return node.fn === 'hardswish' || node.fn === 'gelu' ? [{ kind: 'input', slot: 0 }] : [{ kind: 'output' }];
    case 'scale_channels': {
      // y = x·s: dx = dY·s needs s, ds = Σ_hw dY·x needs x.
      const kept: KeptTensor[] = [];
      if (inputGrad) kept.push({ kind: 'input', slot: 1 });
      if (secondInputGrad) kept.push({ kind: 'input', slot: 0 });
      return kept;
    }
    case 'maxpool':
      // The argmax of each window as int32 indices, output-sized.
      return inputGrad ? [perExample('argmax', elements * INT32_BYTES)] : [];
    case 'dropout':
      // The mask with 1/(1−p) folded in, float32 as tfjs keeps it.
      return inputGrad ? [perExample('mask', floats(elements))] : [];
    case 'dora_combine': {
      // y = c ⊙ P + b with P = base + s·lora and c = m/‖W + s·BA‖ (the norm a constant):
      // dP = c ⊙ dY needs the per-channel ‖·‖ (m is a parameter); dm = Σ dY ⊙ P / ‖·‖ needs P
      // and ‖·‖; db needs neither.
      const trainsMagnitude = ctx.trains(node.magnitude);
      const kept: KeptTensor[] = [];
      if (inputGrad || secondInputGrad || trainsMagnitude) kept.push(perChannel('‖W + s·BA‖', node));
      if (trainsMagnitude) kept.push(perExample('base + s·lora', floats(elements)));
      return kept;
    }
    // add: dY passes to both; global_avg_pool: dY/(H·W) broadcast (shape only); flatten, to_tokens:
    // views; lora_add: dY and s·dY; token_embed: dY's rows, and Σ dY for its parameters;
    // class_token: dY scattered into the class token's row.
    case 'add':
    case 'global_avg_pool':
    case 'flatten':
    case 'lora_add':
    case 'to_tokens':
    case 'token_embed':
    case 'class_token':
    case 'input':
      return [];
  }
}

/**
 * torchvision applies ReLU, ReLU6 and Hardswish in place (inplace=True) right after a BatchNorm
 * (Conv2dNormActivation) or a residual sum (ResNet's blocks); squeeze-and-excitation's activations
 * are not in place. In place means the output reuses the input's storage.
 */
function isTorchInplace(node: NodeSpec, graph: SpecGraph): node is ActivationNode {
  if (node.op !== 'activation' || node.fn === 'hardsigmoid') return false;
  const producer = graph.nodeById.get(node.inputs[0]);
  const soleConsumer = graph.consumers.get(node.inputs[0])?.length === 1;
  return soleConsumer && (producer?.op === 'batchnorm' || producer?.op === 'add');
}

/**
 * What PyTorch's autograd keeps (tools/autograd/derivatives.yaml; a saved tensor is guarded by
 * "is that gradient needed" only when a single derivative formula uses it):
 * - convolution: one formula for input, weight and bias, so input and weight are saved whenever
 *   any gradient flows through the conv, even with a frozen weight;
 * - linear (addmm): the input only for the weight's gradient (a guarded save);
 * - batch norm (training): its input and save_mean, save_invstd whenever any gradient flows;
 * - relu (in place or not) saves its result; relu6 is hardtanh, whose formula reads `self`, and
 *   hardswish reads `self`: in place, autograd must save a copy of the original input;
 *   hardsigmoid (SE, not in place) saves its input;
 * - mul (SE's scale): each operand only for the other's gradient; mean (global pool), add, views,
 *   multiplications by a Python scalar (LoRA's scaling): nothing;
 * - max_pool2d_with_indices: its input and int64 indices; native_dropout: a bool mask;
 * - DoRA (PEFT): (m/‖·‖ − 1)·base + (m/‖·‖)·lora·s saves base and lora for m's gradient and the
 *   per-channel scales for theirs.
 * timm's ViT (measured with saved-tensor hooks: fixtures/torch/autograd_profile.json):
 * - native_layer_norm: one formula for input, γ and β, so its input, mean and rstd (a float per
 *   token each) whenever any gradient flows;
 * - linear over tokens: addmm on a [N·T, in] view of its input, guarded as above;
 * - Attention without fused SDPA: q·scale (a new tensor; a Python scalar is not saved), then
 *   bmm(q·scale, kᵀ) and bmm(P, v) save both operands and softmax its result P. k and v are
 *   strided views of the qkv output that bmm's batch reshape can keep as views only at batch 1
 *   (then the qkv output itself is kept); at a larger batch it copies each (T·D per example);
 * - gelu saves its input; cat (class token), the position embedding's add, reshapes and the class
 *   token's select save nothing (the head then keeps its input's storage: the whole [T, D] tensor).
 */
function torchKeptTensors(node: NodeSpec, ctx: NodeContext): KeptTensor[] {
  if (!ctx.outputNeedsGrad) return [];
  const [inputGrad, secondInputGrad] = ctx.inputNeedsGrad;
  const elements = numel(node.outShape);
  switch (node.op) {
    case 'conv2d':
      // A quantized weight is dequantized for F.conv2d, which then saves that float32 copy.
      return [{ kind: 'input', slot: 0 }, ...(isQuantized(ctx.graph, node.weight) ? [dequantizedWeight(ctx.graph, node.weight)] : [])];
    case 'linear':
      // bitsandbytes' 4-bit/8-bit matmuls save the quantized state, not a float32 copy.
      return ctx.trains(node.weight) ? [{ kind: 'input', slot: 0 }] : [];
    case 'batchnorm':
      return [
        { kind: 'input', slot: 0 },
        perChannel('save_mean', node),
        perChannel('save_invstd', node),
      ];
    case 'layernorm':
      return [{ kind: 'input', slot: 0 }, ...layerNormStats(node, ['mean', 'rstd'])];
    case 'attention': {
      const qkv: KeptTensor[] =
        ctx.batch === 1
          ? [{ kind: 'input', slot: 0 }]
          : [perExample('k (contiguous copy)', floats(elements)), perExample('v (contiguous copy)', floats(elements))];
      return [perExample('q·scale', floats(elements)), ...qkv, perExample('softmax P', attentionScores(node))];
    }
    case 'activation': {
      if (!inputGrad) return [];
      if (node.fn === 'relu') return [{ kind: 'output' }];
      if (isTorchInplace(node, ctx.graph)) return [perExample('copy of the input', floats(elements))];
      return [{ kind: 'input', slot: 0 }];
    }
    case 'scale_channels': {
      const kept: KeptTensor[] = [];
      if (inputGrad) kept.push({ kind: 'input', slot: 1 });
      if (secondInputGrad) kept.push({ kind: 'input', slot: 0 });
      return kept;
    }
    case 'maxpool':
      return inputGrad
        ? [{ kind: 'input', slot: 0 }, perExample('indices', elements * INT64_BYTES)]
        : [];
    case 'dropout':
      // (MobileNetV3's Dropout(inplace=True) saves a float mask instead: 3 bytes × N·1280 more.)
      return inputGrad ? [perExample('mask', elements * BOOL_BYTES)] : [];
    case 'dora_combine': {
      const kept: KeptTensor[] = [];
      if (ctx.trains(node.magnitude)) kept.push({ kind: 'input', slot: 0 }, { kind: 'input', slot: 1 });
      if (inputGrad) kept.push(perChannel('m/‖W + s·BA‖ − 1', node));
      if (secondInputGrad) kept.push(perChannel('m/‖W + s·BA‖', node));
      return kept;
    }
    case 'add':
    case 'global_avg_pool':
    case 'flatten':
    case 'lora_add':
    case 'to_tokens':
    case 'token_embed':
    case 'class_token':
    case 'input':
      return [];
  }
}

const isQuantized = (graph: SpecGraph, name: string): boolean => graph.param(name).storage !== undefined;

const DEQUANTIZED_WEIGHT = 'dequantized weight';

/** A quantized weight's float32 copy kept for a backward (per step, not per example). */
function dequantizedWeight(graph: SpecGraph, name: string): KeptTensor {
  return { kind: 'new', what: DEQUANTIZED_WEIGHT, perExample: 0, perStep: floats(numel(graph.param(name).shape)) };
}

/** Bytes of the float32 copy of a quantized weight a node reads (0 for a float32 one). */
function dequantizedBytes(graph: SpecGraph, name: string): number {
  return isQuantized(graph, name) ? floats(numel(graph.param(name).shape)) : 0;
}

/** Bytes of a kept tensor for a batch. */
function keptBytes(node: NodeSpec, kept: KeptTensor, graph: SpecGraph, batch: number): number {
  switch (kept.kind) {
    case 'input':
      return floats(batch * graph.elementsPerExample(node.inputs[kept.slot]));
    case 'output':
      return floats(batch * numel(node.outShape));
    case 'new':
      return batch * kept.perExample + kept.perStep;
  }
}

/** Transient per-op workspace in the forward pass (freed when the op ends). */
function forwardWorkspaceBytes(node: NodeSpec, graph: SpecGraph, view: AutogradView, kept: KeptTensor[], batch: number): number {
  if (node.op === 'conv2d' || node.op === 'linear') {
    // A quantized weight's float32 copy, unless kept (then ACT).
    return kept.some((k) => k.kind === 'new' && k.what === DEQUANTIZED_WEIGHT) ? 0 : dequantizedBytes(graph, node.weight);
  }
  if (node.op === 'layernorm') {
    // The per-token mean and 1/σ, unless kept (then ACT).
    return kept.some((k) => k.kind === 'new') ? 0 : batch * 2 * floats(tokensOf(node));
  }
  if (node.op === 'attention') return batch * attentionScores(node); // the scores before the softmax
  if (node.op === 'batchnorm') {
    // Batch mean and variance per channel, less those kept (then counted as ACT).
    const keptPerChannel = kept.filter((k) => k.kind === 'new' && k.perStep > 0).length;
    return floats(node.channels * Math.max(0, 2 - keptPerChannel));
  }
  if (node.op === 'dora_combine') {
    // The norm of W + s·BA: the lab's kernel forms it a row at a time (kernels/fused.ts
    // compositeNorm), no weight-sized buffer; PEFT holds B@A, s·(B@A) and the sum at once.
    const weightSized = view === 'pytorch' ? floats(3 * numel(graph.param(node.baseWeight).shape)) : 0;
    return weightSized + dequantizedBytes(graph, node.baseWeight);
  }
  return 0;
}

/** Transient per-op workspace in the backward pass: BN's per-channel Σ dY and Σ dY·x̂, layer
 * norm's per-token ones, attention's dP and dS ([heads, T, T] each); the float32 copy of a
 * quantized weight a conv/linear dequantizes again for its input gradient (the lab's engine;
 * PyTorch's conv kept its copy, bitsandbytes' matmul dequantizes again too). */
function backwardWorkspaceBytes(node: NodeSpec, batch: number, ctx: NodeContext, view: AutogradView): number {
  switch (node.op) {
    case 'batchnorm':
      return floats(2 * node.channels);
    case 'layernorm':
      return batch * 2 * floats(tokensOf(node));
    case 'attention':
      return batch * 2 * attentionScores(node);
    case 'conv2d':
    case 'linear': {
      const dequantized = ctx.inputNeedsGrad[0] && !(view === 'pytorch' && node.op === 'conv2d') ? dequantizedBytes(ctx.graph, node.weight) : 0;
      // The recomputed input, alive while the weight gradient is formed.
      const recomputedInput = recomputesInput(node, ctx) ? floats(batch * ctx.graph.elementsPerExample(node.inputs[0])) : 0;
      return dequantized + recomputedInput;
    }
    default:
      return 0;
  }
}

/** Backward ops whose input gradient is the output gradient itself (no new tensor): sums and
 * views (in PyTorch also the embedding's concatenation, whose input gradient is a slice of dY). */
function passesGradientThrough(node: NodeSpec, slot: number, view: AutogradView, ctx: NodeContext): boolean {
  return (
    ctx.recomputed.has(node.id) ||
    node.op === 'add' ||
    node.op === 'flatten' ||
    node.op === 'to_tokens' ||
    (node.op === 'lora_add' && slot === 0) ||
    (node.op === 'token_embed' && view === 'pytorch')
  );
}

/** Forward ops whose output is a view of their input's storage: reshapes, and in PyTorch the class
 * token's select and torchvision's in-place activations; in the lab the relu a batch norm applies. */
function aliasesInput(node: NodeSpec, graph: SpecGraph, view: AutogradView, fused: ReturnType<typeof fusedActivations>): boolean {
  if (node.op === 'flatten' || node.op === 'to_tokens') return true;
  if (view === 'pytorch') return node.op === 'class_token' || isTorchInplace(node, graph);
  return isAppliedByBatchNorm(node, fused);
}

interface Storage {
  bytes: number;
  /** 'activation': a forward tensor (ACT while kept, TEMP otherwise); 'gradient': TEMP. */
  kind: 'activation' | 'gradient';
  /** Forward reads still to come. */
  pendingReads: number;
  /** Nodes whose backward still needs it. */
  keptBy: number;
  /** Gradient slots (tensor ids) sharing this gradient storage. */
  gradRefs: number;
}

/** The live tensors of the simulation and the constant groups. */
class LiveBytes {
  private readonly storages = new Set<Storage>();
  gradBytes = 0;

  constructor(
    private readonly paramBytes: number,
    private readonly optBytes: number,
  ) {}

  allocate(bytes: number, kind: Storage['kind']): Storage {
    const storage: Storage = { bytes, kind, pendingReads: 0, keptBy: 0, gradRefs: 0 };
    this.storages.add(storage);
    return storage;
  }

  /** Frees the storage when nothing reads, keeps or shares it any more. */
  releaseIfUnused(storage: Storage): void {
    if (storage.pendingReads <= 0 && storage.keptBy <= 0 && storage.gradRefs <= 0) this.storages.delete(storage);
  }

  snapshot(workspaceBytes: number): BytesByGroup {
    const bytes = zeroBytesByGroup();
    bytes.param = this.paramBytes;
    bytes.opt = this.optBytes;
    bytes.grad = this.gradBytes;
    bytes.temp = workspaceBytes;
    for (const s of this.storages) {
      const group: MemoryGroup = s.kind === 'activation' && s.keptBy > 0 ? 'act' : 'temp';
      bytes[group] += s.bytes;
    }
    return bytes;
  }
}

export interface MemorySimulation {
  profile: MemoryProfile;
  /** Bytes each node keeps in this view. */
  keptBytesByNode: Map<string, number>;
}

/** Simulates one training step of `spec` in one view. */
export function simulateStep(graph: SpecGraph, options: ProfileOptions, view: AutogradView): MemorySimulation {
  const { spec } = graph;
  const { batch, optimizer } = options;
  const trainable = Object.values(spec.params).filter((p) => p.trainable);
  const paramBytes = Object.values(spec.params).reduce((sum, p) => sum + storedParamBytes(p), 0);
  const optCosts = optimizerCosts(spec, optimizer);
  const optBytes = floats([...optCosts.values()].reduce((sum, c) => sum + c.stateElements, 0));
  const live = new LiveBytes(paramBytes, optBytes);
  const timeline: TimelinePoint[] = [];
  const record = (phase: StepPhase, op: string, workspace = 0): void => {
    const bytes = live.snapshot(workspace);
    timeline.push({ phase, op, bytes, total: sumOf(bytes) });
  };

  const storageOf = new Map<string, Storage>();
  const keptByNode = new Map<string, Storage[]>();
  const keptBytesByNode = new Map<string, number>();
  const keptRule = view === 'analytic' ? labKeptTensors : torchKeptTensors;
  // The lab's relu/relu6 after a batch norm is applied by the batch norm: its output is that buffer.
  const fused = fusedActivations(spec);
  const recomputed = view === 'analytic' ? labRecomputedActivations(graph, batch) : new Map<string, string>();
  const readsOf = (id: string): number => (graph.consumers.get(id)?.length ?? 0) + (id === spec.output ? 1 : 0);

  // ---- forward ----
  for (const node of spec.nodes) {
    const ctx = contextOf(graph, node, batch, recomputed);
    const kept = keptRule(node, ctx);
    let output: Storage;
    if (aliasesInput(node, graph, view, fused)) {
      output = storageOf.get(node.inputs[0]) as Storage;
    } else {
      output = live.allocate(floats(batch * numel(node.outShape)), 'activation');
    }
    output.pendingReads += readsOf(node.id);
    storageOf.set(node.id, output);

    const keptStorages: Storage[] = [];
    let keptTotal = 0;
    for (const k of kept) {
      const bytes = keptBytes(node, k, graph, batch);
      keptTotal += bytes;
      const storage =
        k.kind === 'input' ? (storageOf.get(node.inputs[k.slot]) as Storage) : k.kind === 'output' ? output : live.allocate(bytes, 'activation');
      storage.keptBy++;
      keptStorages.push(storage);
    }
    keptByNode.set(node.id, keptStorages);
    keptBytesByNode.set(node.id, keptTotal);

    record('forward', node.id, forwardWorkspaceBytes(node, graph, view, kept, batch));
    for (const input of node.inputs) {
      const storage = storageOf.get(input) as Storage;
      storage.pendingReads--;
      live.releaseIfUnused(storage);
    }
    live.releaseIfUnused(output);
  }

  // The loss: softmax cross-entropy keeps the probabilities (batch × classes) for its backward.
  const logits = storageOf.get(spec.output) as Storage;
  const outputBytes = floats(batch * graph.elementsPerExample(spec.output));
  const probabilities = live.allocate(outputBytes, 'activation');
  probabilities.keptBy++;
  record('forward', 'loss');
  logits.pendingReads--;
  live.releaseIfUnused(logits);

  // ---- backward ----
  const gradientOf = new Map<string, Storage>();
  const logitsGradient = live.allocate(outputBytes, 'gradient');
  logitsGradient.gradRefs++;
  gradientOf.set(spec.output, logitsGradient);
  record('backward', 'loss');
  probabilities.keptBy--;
  live.releaseIfUnused(probabilities);

  for (let index = spec.nodes.length - 1; index >= 0; index--) {
    const node = spec.nodes[index];
    const outputGradient = gradientOf.get(node.id);
    if (!outputGradient) continue; // no gradient reaches it: below the frontier (or unused)
    const ctx = contextOf(graph, node, batch, recomputed);
    // Input gradients: the output gradient itself for sums and views, else new tensors.
    const contributions = node.inputs.map((input, slot) => {
      if (!ctx.inputNeedsGrad[slot]) return null;
      if (passesGradientThrough(node, slot, view, ctx)) {
        outputGradient.gradRefs++;
        return outputGradient;
      }
      const storage = live.allocate(floats(batch * graph.elementsPerExample(input)), 'gradient');
      storage.gradRefs++;
      return storage;
    });
    for (const p of graph.trainableParams(node)) live.gradBytes += floats(numel(p.shape));

    record('backward', node.id, backwardWorkspaceBytes(node, batch, ctx, view));

    for (const storage of keptByNode.get(node.id) ?? []) {
      storage.keptBy--;
      live.releaseIfUnused(storage);
    }
    node.inputs.forEach((input, slot) => {
      const contribution = contributions[slot];
      if (!contribution) return;
      const existing = gradientOf.get(input);
      if (!existing) {
        gradientOf.set(input, contribution);
        return;
      }
      // Accumulate into the branch gradient already held: in place when it is not shared,
      // otherwise into a new tensor (as PyTorch's InputBuffer does).
      if (existing.gradRefs > 1) {
        const sum = live.allocate(existing.bytes, 'gradient');
        sum.gradRefs++;
        gradientOf.set(input, sum);
        existing.gradRefs--;
        live.releaseIfUnused(existing);
      }
      contribution.gradRefs--;
      live.releaseIfUnused(contribution);
    });
    gradientOf.delete(node.id);
    outputGradient.gradRefs--;
    live.releaseIfUnused(outputGradient);
  }

  // ---- optimizer ----
  if (view === 'pytorch' && optimizer.kind !== 'galore') {
    // torch.optim's foreach implementation (the default on GPUs): Adam forms √v/√(1−β2ᵗ) + ε for
    // every parameter at once (one list the size of the trainable set); SGD updates in place.
    const trainableBytes = floats(trainable.reduce((sum, p) => sum + numel(p.shape), 0));
    record('optimizer', `${optimizer.kind} (foreach)`, optimizer.kind === 'adam' ? trainableBytes : 0);
  } else {
    for (const p of trainable) {
      const cost = optCosts.get(p.name) as ParamOptimizerCost;
      if (optimizer.kind !== 'galore' || cost.projectedUpdateElements === 0) {
        // The lab's Adam (plain, or GaLore's for unprojected parameters) updates in place, one
        // multi-tensor kernel (kernels/fused.ts adamMulti): no temporary. Otherwise one
        // parameter-sized temporary: SGD's update (lab) or Adam's denominator (GaLore's loop in PyTorch).
        const inPlace = view === 'analytic' && (optimizer.kind === 'adam' || optimizer.kind === 'galore');
        record('optimizer', p.name, inPlace ? 0 : floats(numel(p.shape)));
      } else if (view === 'analytic') {
        record('optimizer', `${p.name} (projector refresh)`, cost.refreshWorkspaceBytes);
        record('optimizer', p.name, floats(cost.projectedUpdateElements));
      } else {
        record('optimizer', `${p.name} (projector refresh)`, torchGaloreSvdBytes(cost));
        record('optimizer', p.name, floats(torchGaloreUpdateElements(cost, p)));
      }
    }
  }

  return { profile: summariseTimeline(view, timeline), keptBytesByNode };
}

/** Peak, per-group maxima and their sum, from a timeline (the measured tracker uses it too). */
export function summariseTimeline(view: MemoryProfile['view'], timeline: TimelinePoint[]): MemoryProfile {
  if (timeline.length === 0) throw new Error('profile: empty timeline');
  let peakIndex = 0;
  const maxBytesByGroup = zeroBytesByGroup();
  timeline.forEach((point, index) => {
    if (point.total > timeline[peakIndex].total) peakIndex = index;
    for (const group of MEMORY_GROUPS) {
      maxBytesByGroup[group] = Math.max(maxBytesByGroup[group], point.bytes[group]);
    }
  });
  const at = timeline[peakIndex];
  const peak: MemoryPeak = { index: peakIndex, phase: at.phase, op: at.op, bytes: { ...at.bytes }, total: at.total };
  return { view, timeline, peak, maxBytesByGroup, sumOfGroupMaxima: sumOf(maxBytesByGroup) };
}

/** Per-node PARAM/GRAD/OPT and kept bytes in both views. */
export function nodeMemory(
  graph: SpecGraph,
  options: ProfileOptions,
  kept: { analytic: Map<string, number>; pytorch: Map<string, number> },
): NodeMemory[] {
  const costs = optimizerCosts(graph.spec, options.optimizer);
  return graph.spec.nodes.map((node) => {
    const params = ownedParamNames(node).map(graph.param);
    const trainable = params.filter((p) => p.trainable);
    return {
      nodeId: node.id,
      op: node.op,
      outputBytes: node.op === 'flatten' || node.op === 'to_tokens' ? 0 : floats(options.batch * numel(node.outShape)),
      paramBytes: params.reduce((sum, p) => sum + storedParamBytes(p), 0),
      gradBytes: floats(trainable.reduce((sum, p) => sum + numel(p.shape), 0)),
      optBytes: floats(trainable.reduce((sum, p) => sum + (costs.get(p.name) as ParamOptimizerCost).stateElements, 0)),
      keptBytes: { analytic: kept.analytic.get(node.id) ?? 0, pytorch: kept.pytorch.get(node.id) ?? 0 },
    };
  });
}
