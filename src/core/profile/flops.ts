// FLOPs of one training step by node, kind and phase (FLOPs = 2 × multiply-accumulates; every
// other elementwise arithmetic op, comparisons and sqrt included, counts 1).
//
// Conv / linear: forward 2·MACs (+1 per output element for a bias); input gradient 2·MACs when the
// input needs a gradient (never for the first layer, nor anywhere below the gradient frontier);
// weight gradient 2·MACs when the weight trains — for a depthwise conv that is 2·N·C·k²·H'·W', as
// its forward. The 'torch' convention multiplies a grouped conv's weight-gradient MACs by the
// number of groups, as torch.utils.flop_counter's conv_backward_flop does: it counts grad_weight as
// conv(xᵀ, dYᵀ) with the input's full channel count as the batch and dY's channels as the filters,
// i.e. N·H'·W'·k²·C_in·C_out, where a grouped conv does N·H'·W'·k²·(C_in/g)·C_out.
// A linear layer over a ViT's tokens costs its MACs once per token.
//
// Attention (per example, T tokens, h heads of d): forward q·kᵀ and P·v, h·T²·d MACs each; its
// backward (when its input needs a gradient: it has no parameters) computes dP = dO·vᵀ, dv = Pᵀ·dO,
// dq = dS·k, dk = dSᵀ·q: both matmuls again for each of their operands. These are what
// torch.utils.flop_counter counts (its bmm), so the two conventions agree there.
import { FLOP_PHASES, type FlopPhase } from '../ids';
import { attentionMacs } from '../models/count';
import type { NodeSpec } from '../models/spec';
import { numel, type SpecGraph } from './graph';
import { optimizerCosts, type ParamOptimizerCost } from './optimizerCost';
import {
  FLOP_KINDS,
  sumOf,
  zeroFlopsByPhase,
  type FlopConvention,
  type FlopKind,
  type FlopProfile,
  type FlopsByPhase,
  type NodeFlops,
  type OptimizerCostSpec,
} from './types';

/** BN in training mode, per element: mean (1), variance (x−μ, square, sum: 3), x̂ (2), γ·x̂ + β (2). */
export const BATCHNORM_FORWARD_FLOPS = 8;
/** BN's input gradient per element, given Σ dY and Σ dY·x̂: γ/σ · (dY − Σ dY/M − x̂ · Σ dY·x̂/M). */
export const BATCHNORM_INPUT_GRAD_FLOPS = 4;
/** Layer norm per element, forward: as BN's, over a token's features instead of a channel's batch. */
export const LAYERNORM_FORWARD_FLOPS = 8;
/** Layer norm's input gradient per element: its per-token sums are not dγ's and dβ's (those sum
 * over tokens), so they are its own: g = γ·dY (1), Σ g (1), Σ g·x̂ (2), 1/σ · (g − Σg/D − x̂·Σg·x̂/D) (4). */
export const LAYERNORM_INPUT_GRAD_FLOPS = 8;
/** Softmax per score, forward: row max, subtract, exp, row sum, divide. Backward (given P and dP):
 * dS = P ⊙ (dP − Σ dP⊙P): multiply, row sum, subtract, multiply. */
export const SOFTMAX_FLOPS = { forward: 5, backward: 4 } as const;

/** Activations per element: forward, and input gradient. relu: max / mask; relu6: max, min / mask;
 * hardsigmoid relu6(x+3)/6: add, max, min, divide / mask, ×1/6; hardswish x·relu6(x+3)/6: those
 * and a multiply / (2x+3)/6 inside (−3, 3): compare, multiply-add, divide, × dY; gelu (exact,
 * erf counted as one op, as sqrt is) x·½(1 + erf(x/√2)): divide, erf, add, two multiplies /
 * Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π): Φ (divide, erf, add, multiply: 4), x², ×−½, exp, ×1/√(2π),
 * ×x, add, × dY (7). */
export const ACTIVATION_FLOPS = {
  relu: { forward: 1, backward: 1 },
  relu6: { forward: 2, backward: 1 },
  hardsigmoid: { forward: 4, backward: 2 },
  hardswish: { forward: 5, backward: 4 },
  gelu: { forward: 5, backward: 11 },
} as const;

type PartialKindFlops = Partial<Record<FlopKind, FlopsByPhase>>;

function add(byKind: PartialKindFlops, kind: FlopKind, phase: FlopPhase, flops: number): void {
  if (flops === 0) return;
  const row = byKind[kind] ?? (byKind[kind] = zeroFlopsByPhase());
  row[phase] += flops;
}

/** A node's own FLOPs (optimizer and projection are added per parameter by `countFlops`). */
export function nodeFlops(node: NodeSpec, graph: SpecGraph, batch: number, convention: FlopConvention): PartialKindFlops {
  const byKind: PartialKindFlops = {};
  const outputNeedsGrad = graph.requiresGrad.get(node.id) === true;
  const inputNeedsGrad = node.inputs.map((id) => graph.requiresGrad.get(id) === true);
  const trains = (name: string | undefined): boolean => name !== undefined && graph.param(name).trainable;
  const outElements = batch * numel(node.outShape);
  const inElements = node.inputs.length > 0 ? batch * graph.elementsPerExample(node.inputs[0]) : 0;

  switch (node.op) {
    case 'conv2d':
    case 'linear': {
      const kind: FlopKind = node.op === 'conv2d' ? 'conv' : 'linear';
      const macs =
        node.op === 'conv2d'
          ? outElements * (node.inChannels / node.groups) * node.kernel * node.kernel
          : outElements * node.inFeatures;
      const groups = node.op === 'conv2d' ? node.groups : 1;
      const weightGradMacs = convention === 'torch' ? macs * groups : macs;
      const biasAdds = node.bias ? outElements : 0;
      add(byKind, kind, 'forward', 2 * macs + biasAdds);
      if (inputNeedsGrad[0]) add(byKind, kind, 'backward_input', 2 * macs);
      if (trains(node.weight)) add(byKind, kind, 'backward_weight', 2 * weightGradMacs);
      if (trains(node.bias)) add(byKind, kind, 'backward_weight', outElements);
      break;
    }
    case 'batchnorm': {
      add(byKind, 'batchnorm', 'forward', BATCHNORM_FORWARD_FLOPS * outElements);
      if (!outputNeedsGrad) break;
      // Σ dY (1 per element) and Σ dY·x̂ (2) serve β's and γ's gradients and the input's.
      const needsInput = inputNeedsGrad[0];
      if (trains(node.beta) || needsInput) add(byKind, 'batchnorm', trains(node.beta) ? 'backward_weight' : 'backward_input', outElements);
      if (trains(node.gamma) || needsInput) {
        add(byKind, 'batchnorm', trains(node.gamma) ? 'backward_weight' : 'backward_input', 2 * outElements);
      }
      if (needsInput) add(byKind, 'batchnorm', 'backward_input', BATCHNORM_INPUT_GRAD_FLOPS * outElements);
      break;
    }
    case 'layernorm': {
      add(byKind, 'layernorm', 'forward', LAYERNORM_FORWARD_FLOPS * outElements);
      if (!outputNeedsGrad) break;
      // dβ = Σ_tokens dY (1 per element), dγ = Σ_tokens dY·x̂ (2).
      if (trains(node.beta)) add(byKind, 'layernorm', 'backward_weight', outElements);
      if (trains(node.gamma)) add(byKind, 'layernorm', 'backward_weight', 2 * outElements);
      if (inputNeedsGrad[0]) add(byKind, 'layernorm', 'backward_input', LAYERNORM_INPUT_GRAD_FLOPS * outElements);
      break;
    }
    case 'attention': {
      const macs = batch * attentionMacs(node);
      const scores = batch * node.heads * node.outShape[0] * node.outShape[0];
      const queries = outElements; // q·scale, one multiply per element of q
      add(byKind, 'attention', 'forward', 2 * macs);
      add(byKind, 'softmax', 'forward', SOFTMAX_FLOPS.forward * scores);
      add(byKind, 'elementwise', 'forward', queries);
      if (inputNeedsGrad[0]) {
        add(byKind, 'attention', 'backward_input', 2 * 2 * macs);
        add(byKind, 'softmax', 'backward_input', SOFTMAX_FLOPS.backward * scores);
        add(byKind, 'elementwise', 'backward_input', queries);
      }
      break;
    }
    case 'token_embed': {
      // [class token; x] + position embedding: the concatenation is a copy, the sum one add each.
      add(byKind, 'elementwise', 'forward', outElements);
      // Their gradients sum dY over the batch: the embedding's every element, the class token's row.
      if (trains(node.positionEmbedding)) add(byKind, 'elementwise', 'backward_weight', outElements);
      if (trains(node.classToken)) add(byKind, 'elementwise', 'backward_weight', batch * node.outShape[1]);
      break;
    }
    case 'activation': {
      const cost = ACTIVATION_FLOPS[node.fn];
      add(byKind, 'activation', 'forward', cost.forward * outElements);
      if (inputNeedsGrad[0]) add(byKind, 'activation', 'backward_input', cost.backward * outElements);
      break;
    }
    case 'add':
      // Its gradient passes to both inputs unchanged; the sums at forks are counted at the fork.
      add(byKind, 'elementwise', 'forward', outElements);
      break;
    case 'scale_channels':
      add(byKind, 'elementwise', 'forward', outElements);
      if (inputNeedsGrad[0]) add(byKind, 'elementwise', 'backward_input', outElements); // dY·s
      if (inputNeedsGrad[1]) add(byKind, 'elementwise', 'backward_input', 2 * outElements); // Σ_hw dY·x
      break;
    case 'global_avg_pool':
      add(byKind, 'elementwise', 'forward', inElements);
      if (inputNeedsGrad[0]) add(byKind, 'elementwise', 'backward_input', inElements); // dY/(H·W) broadcast
      break;
    case 'maxpool':
      add(byKind, 'elementwise', 'forward', node.kernel * node.kernel * outElements);
      if (inputNeedsGrad[0]) add(byKind, 'elementwise', 'backward_input', outElements); // scatter to the argmax
      break;
    case 'dropout':
      add(byKind, 'elementwise', 'forward', 2 * outElements); // draw < p, × mask/(1−p)
      if (inputNeedsGrad[0]) add(byKind, 'elementwise', 'backward_input', outElements);
      break;
    case 'lora_add':
      add(byKind, 'elementwise', 'forward', 2 * outElements); // base + s·lora
      if (inputNeedsGrad[1]) add(byKind, 'elementwise', 'backward_input', outElements); // s·dY
      break;
    case 'dora_combine': {
      const channels = node.outShape[node.outShape.length - 1];
      const weightElements = numel(graph.param(node.baseWeight).shape);
      const loraA = graph.param(node.loraA).shape;
      const rank = loraA[loraA.length - 1];
      // The norm, once per step: B·A (2·r per weight element), W + s·BA (2), Σ squares (2),
      // then √ and m/‖·‖ per channel.
      add(byKind, 'elementwise', 'forward', (2 * rank + 4) * weightElements + 2 * channels);
      // P = base + s·lora (2), c ⊙ P (1), + bias (1).
      add(byKind, 'elementwise', 'forward', (node.bias ? 4 : 3) * outElements);
      if (inputNeedsGrad[0] || inputNeedsGrad[1]) add(byKind, 'elementwise', 'backward_input', outElements); // c ⊙ dY
      if (inputNeedsGrad[1]) add(byKind, 'elementwise', 'backward_input', outElements); // s·(c ⊙ dY)
      if (trains(node.magnitude)) add(byKind, 'elementwise', 'backward_weight', 2 * outElements + channels); // Σ dY⊙P / ‖·‖
      if (trains(node.bias)) add(byKind, 'elementwise', 'backward_weight', outElements);
      break;
    }
    // Shapes only: a reshape, and the class token's row (its gradient a scatter into zeros).
    case 'to_tokens':
    case 'class_token':
    case 'flatten':
    case 'input':
      break;
  }

  // A tensor read by several nodes needing its gradient sums their parts: one add per element each.
  const readers = graph.consumers.get(node.id)?.length ?? 0;
  if (outputNeedsGrad && readers > 1) add(byKind, 'elementwise', 'backward_input', (readers - 1) * outElements);
  return byKind;
}

/** The FLOP row a parameter's optimizer update belongs to: its owner's. */
function kindOfNode(node: NodeSpec): FlopKind {
  switch (node.op) {
    case 'conv2d':
      return 'conv';
    case 'linear':
      return 'linear';
    case 'batchnorm':
      return 'batchnorm';
    case 'layernorm':
      return 'layernorm';
    case 'activation':
      return 'activation';
    default:
      return 'elementwise';
  }
}

export function countFlops(graph: SpecGraph, batch: number, optimizer: OptimizerCostSpec, convention: FlopConvention): FlopProfile {
  const refreshEverySteps = optimizer.kind === 'galore' ? optimizer.updateProjGap : 1;
  const costs = optimizerCosts(graph.spec, optimizer);
  let projectorRefresh = 0;
  const perNode: NodeFlops[] = graph.spec.nodes.map((node) => {
    const byKind = nodeFlops(node, graph, batch, convention);
    for (const param of graph.trainableParams(node)) {
      const cost = costs.get(param.name) as ParamOptimizerCost;
      add(byKind, kindOfNode(node), 'optimizer', cost.optimizerFlops);
      // GaLore's projections run every step; its decomposition once every refreshEverySteps.
      add(byKind, 'decomposition', 'projection', cost.projectionFlops + cost.refreshFlops / refreshEverySteps);
      projectorRefresh += cost.refreshFlops;
    }
    return { nodeId: node.id, op: node.op, byKind };
  });

  const byKind = Object.fromEntries(FLOP_KINDS.map((k) => [k, zeroFlopsByPhase()])) as Record<FlopKind, FlopsByPhase>;
  const byPhase = zeroFlopsByPhase();
  for (const { byKind: nodeKinds } of perNode) {
    for (const [kind, phases] of Object.entries(nodeKinds) as [FlopKind, FlopsByPhase][]) {
      for (const phase of FLOP_PHASES) {
        byKind[kind][phase] += phases[phase];
        byPhase[phase] += phases[phase];
      }
    }
  }
  return { convention, byPhase, total: sumOf(byPhase), byKind, perNode, projectorRefresh, refreshEverySteps };
}
