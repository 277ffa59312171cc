// The tfjs interpreter of a ModelSpec's nodes (NHWC).
//
// Memory: each node's intermediate tensors are freed when the node is done (a tf.tidy per node)
// and each node's output as soon as its last consumer has run. Under a gradient tape, what is kept
// for the backward pass is decided per node from the spec and the gradient targets (the trainable
// set; gradientPlan.ts), not per kernel as tfjs's tape would:
// - nodes below the gradient frontier (whose output depends on nothing that needs a gradient) run
//   off the tape and keep nothing: with a frozen backbone the stem never computes or keeps a thing;
// - a conv or linear keeps its input only when its weight's gradient is wanted, and computes dX
//   only when its input needs a gradient (the first conv never does); a frozen conv keeps no
//   activation (its weight is a parameter, alive anyway); a linear over tokens likewise;
// - layer norm keeps x and the per-token mean and 1/σ (nothing for dβ alone); attention its qkv
//   input and the softmax probabilities; gelu its input; the token ops (to_tokens, token_embed,
//   class_token) nothing;
// - batch norm keeps x and its batch mean and variance (x̂ is recomputed); relu/relu6/hardsigmoid
//   their output, hardswish its input; residual adds, pooling, flatten and LoRA's sum keep
//   nothing; DoRA's combine keeps its
//   per-channel norm, and base + s·delta when the magnitude trains (adapterOps.ts);
// - a relu or relu6 that alone reads a batch norm is applied by the batch norm's own pass
//   (models/fusion.ts): the activation node passes that buffer on. In a training pass whose batch
//   norm keeps x and whose readers are all convs or linears, it keeps nothing: the batch norm's
//   backward applies its mask, and a reader that needs it for its weight gradient keeps what
//   recomputes it instead (x, the batch statistics, γ, β, all kept by the batch norm anyway);
//   otherwise it keeps its output for its backward;
// - the backward pass frees each op's saved tensors and output gradient as soon as the op's own
//   gradients exist (customOp.ts).
// Ops left to tfjs's auto-diff keep what tfjs keeps: squeeze-excitation's channel scaling (both
// inputs), dropout's mask and max pooling.
import * as tf from '@tensorflow/tfjs';
import { mixSeed } from '../rng';
import type { NodeSpec } from '../models/spec';
import { fusedActivations, isAppliedByBatchNorm, recomputedActivations, type FusedActivation } from '../models/fusion';
import type { ModelSpec } from '../models/spec';
import { ACTIVATIONS, APPLIED_ACTIVATIONS, passedThrough } from './activations';
import { doraCombine, loraAdd } from './adapterOps';
import { batchNormEval, batchNormTraining, type RecomputableInput } from './batchnorm';
import { offTape } from './customOp';
import { planGradients, type GradientPlan, type GradientTargets } from './gradientPlan';
import { attention } from './attention';
import { addLayer, conv2dLayer, flattenLayer, globalAvgPoolLayer, linearLayer } from './layers';
import { layerNorm } from './layerNorm';
import { classTokenOf, tokenEmbed, toTokens } from './tokens';
import type { Model } from './model';
import { dequantizeParam } from './quantized';

export interface ForwardOptions {
  /** Batch norm uses batch statistics (true) or running statistics (false). */
  training: boolean;
  /** Dropout is applied only in training mode, and only with a seed: training-mode checks against
   * PyTorch run with batch statistics but no dropout. */
  dropoutSeed?: number;
  /** Training mode: each batch norm updates its running statistics from the batch, as torch's
   * forward does (a training step's forward sets this; gradient checks and comparisons do not). */
  updateRunningStats?: boolean;
  /** What the caller will differentiate with respect to, so the pass keeps only what those
   * gradients need. Default: every trainable variable of the model and the input. A gradient
   * asked of tfjs outside these targets comes back missing or wrong. */
  gradients?: GradientTargets;
}

function defaultTargets(model: Model): GradientTargets {
  const params = new Set<string>();
  for (const [name, variable] of model.variables) if (variable.trainable) params.add(name);
  return { params, input: true };
}

const fusedBySpec = new WeakMap<ModelSpec, Map<string, FusedActivation>>();

/** The spec's batch-norm/activation pairs (models/fusion.ts), worked out once per spec. */
function fusedActivationsOf(spec: ModelSpec): Map<string, FusedActivation> {
  let fused = fusedBySpec.get(spec);
  if (!fused) fusedBySpec.set(spec, (fused = fusedActivations(spec)));
  return fused;
}

/** Logits [N, numClasses] of an NHWC batch [N, R, R, 3]. */
export function forward(model: Model, x: tf.Tensor4D, options: ForwardOptions): tf.Tensor2D {
  const out = runSpec(model, x, options);
  if (out.rank !== 2) {
    out.dispose();
    throw new Error(`forward: the spec's output ${model.spec.output} is rank ${out.rank}, logits must be rank 2`);
  }
  return out as tf.Tensor2D;
}

/** Runs the nodes and returns the output node's value (any rank; used for single layers too). */
export function runSpec(model: Model, x: tf.Tensor, options: ForwardOptions): tf.Tensor {
  const { spec } = model;
  const inputNode = spec.nodes[0];
  const expected = [x.shape[0], ...inputNode.outShape];
  if (x.shape.join() !== expected.join()) {
    throw new Error(`forward: input of shape [${x.shape.join(', ')}], the spec expects [N, ${inputNode.outShape.join(', ')}]`);
  }
  const usesLeft = new Map<string, number>();
  for (const node of spec.nodes) for (const id of node.inputs) usesLeft.set(id, (usesLeft.get(id) ?? 0) + 1);

  const plan = planGradients(spec, options.gradients ?? defaultTargets(model));
  const fused = fusedActivationsOf(spec);
  const recomputed = recomputedOf(spec, plan, options);
  const activationOf = new Map([...recomputed].map(([activationId, batchNormId]) => [batchNormId, activationId]));
  const pass: Pass = { plan, fused, recomputed, activationOf, recomputable: new Map() };
  const values = new Map<string, tf.Tensor>([[inputNode.id, x]]);
  const release = (id: string) => {
    values.get(id)?.dispose();
    values.delete(id);
    tf.dispose(pass.recomputable.get(id)?.tensors ?? []);
    pass.recomputable.delete(id);
  };
  try {
    spec.nodes.forEach((node, index) => {
      if (node.op === 'input') return;
      const inputs = node.inputs.map((id) => values.get(id) as tf.Tensor);
      const run = () => runNode(model, node, index, inputs, options, pass);
      values.set(node.id, tf.tidy(() => (plan.needsGrad(node.id) ? run() : offTape(run))));
      for (const id of node.inputs) {
        const left = (usesLeft.get(id) as number) - 1;
        usesLeft.set(id, left);
        if (left === 0 && id !== inputNode.id) release(id);
      }
    });
  } catch (error) {
    for (const id of [...values.keys()]) if (id !== inputNode.id) release(id);
    throw error;
  } finally {
    for (const id of [...pass.recomputable.keys()]) release(id);
  }
  return values.get(spec.output) as tf.Tensor;
}

/** What a forward pass decides once and its nodes read. */
interface Pass {
  plan: GradientPlan;
  fused: ReadonlyMap<string, FusedActivation>;
  /** Activations applied by their batch norm whose mask that batch norm's backward applies and whose
   * readers recompute them (models/fusion.ts), each with its batch norm's id. */
  recomputed: ReadonlyMap<string, string>;
  /** The same pairs from the batch norm's side: batch norm id → activation id. */
  activationOf: ReadonlyMap<string, string>;
  /** For each such activation, once its batch norm has run: what recomputes it (the pass's own
   * copies of the tensors, freed with the activation's value). */
  recomputable: Map<string, RecomputableInput>;
}

/** Training-mode passes recompute the activations whose batch norm keeps its input anyway (its
 * input's or γ's gradient wanted: nn/batchnorm.ts); other passes keep what they always kept. */
function recomputedOf(spec: ModelSpec, plan: GradientPlan, options: ForwardOptions): Map<string, string> {
  if (!options.training) return new Map();
  const nodes = new Map(spec.nodes.map((node) => [node.id, node]));
  return recomputedActivations(spec, (batchNormId) => {
    const node = nodes.get(batchNormId);
    return node?.op === 'batchnorm' && (plan.needsGrad(node.inputs[0]) || plan.wantsParam(node.gamma));
  });
}

function runNode(model: Model, node: NodeSpec, index: number, inputs: tf.Tensor[], options: ForwardOptions, pass: Pass): tf.Tensor {
  const { plan, fused } = pass;
  const param = (name: string) => {
    const variable = model.variables.get(name);
    if (!variable) throw new Error(`forward: node ${node.id} needs parameter ${name}, which the model lacks`);
    return variable;
  };
  // A quantized weight: the packed parameter for conv/linear layers (layers.ts dequantizes it), a
  // dequantized copy for other readers (DoRA's norm), freed with the node's tidy.
  const weight = (name: string) => model.quantized.get(name) ?? param(name);
  const value = (name: string): tf.Tensor => {
    const quantized = model.quantized.get(name);
    return quantized ? dequantizeParam(quantized) : param(name);
  };
  const [x] = inputs;
  const inputWanted = plan.needsGrad(node.inputs[0]);
  switch (node.op) {
    case 'input':
      throw new Error(`forward: input node ${node.id} must be the spec's first node`);
    case 'conv2d':
    case 'linear': {
      const wanted = {
        input: inputWanted,
        weight: plan.wantsParam(node.weight),
        bias: node.bias !== undefined && plan.wantsParam(node.bias),
      };
      const bias = node.bias ? (param(node.bias) as tf.Tensor1D) : undefined;
      const recomputable = pass.recomputable.get(node.inputs[0]);
      if (node.op === 'linear') return linearLayer(x, weight(node.weight), bias, wanted, recomputable);
      return conv2dLayer(node, x as tf.Tensor4D, weight(node.weight), bias, wanted, recomputable);
    }
    case 'batchnorm': {
      const gamma = param(node.gamma) as tf.Tensor1D;
      const beta = param(node.beta) as tf.Tensor1D;
      const wanted = { input: inputWanted, gamma: plan.wantsParam(node.gamma), beta: plan.wantsParam(node.beta) };
      if (options.training) {
        const running = options.updateRunningStats ? { mean: param(node.runningMean), variance: param(node.runningVar) } : undefined;
        const activationId = pass.activationOf.get(node.id);
        // The pass's own copies of what recomputes the activation (the same buffers), kept past this node's tidy.
        const folded = activationId
          ? { recomputable: ({ tensors, recompute }: RecomputableInput) => pass.recomputable.set(activationId, { tensors: tensors.map((t) => tf.keep(tf.clone(t))), recompute }) }
          : undefined;
        return batchNormTraining(x, gamma, beta, node, running, wanted, fused.get(node.id), folded);
      }
      const runningMean = param(node.runningMean) as tf.Tensor1D;
      return batchNormEval(x, gamma, beta, runningMean, param(node.runningVar) as tf.Tensor1D, node.eps, wanted, fused.get(node.id));
    }
    case 'activation':
      if (pass.recomputed.has(node.id)) return passedThrough(x);
      return isAppliedByBatchNorm(node, fused) ? APPLIED_ACTIVATIONS[node.fn as FusedActivation](x) : ACTIVATIONS[node.fn](x);
    case 'add':
      return addLayer(x, inputs[1], [inputWanted, plan.needsGrad(node.inputs[1])]);
    case 'scale_channels':
      return tf.mul(x, inputs[1]);
    case 'global_avg_pool':
      return globalAvgPoolLayer(x);
    case 'maxpool':
      return tf.maxPool(x as tf.Tensor4D, node.kernel, node.stride, node.padding);
    case 'flatten':
      return flattenLayer(x);
    case 'dropout':
      if (options.training && options.dropoutSeed !== undefined && node.p > 0) {
        return tf.dropout(x, node.p, undefined, mixSeed(options.dropoutSeed, index));
      }
      // A new tensor object: the caller disposes the input after its last use.
      return tf.clone(x);
    case 'lora_add':
      return loraAdd(node, x, inputs[1], [inputWanted, plan.needsGrad(node.inputs[1])]);
    case 'dora_combine':
      return doraCombine(node, x, inputs[1], value, {
        base: inputWanted,
        delta: plan.needsGrad(node.inputs[1]),
        magnitude: plan.wantsParam(node.magnitude),
        bias: node.bias !== undefined && plan.wantsParam(node.bias),
      });
    case 'layernorm':
      return layerNorm(node, x, param(node.gamma) as tf.Tensor1D, param(node.beta) as tf.Tensor1D, {
        input: inputWanted,
        gamma: plan.wantsParam(node.gamma),
        beta: plan.wantsParam(node.beta),
      });
    case 'to_tokens':
      return toTokens(x);
    case 'token_embed':
      return tokenEmbed(x, param(node.classToken), param(node.positionEmbedding), {
        input: inputWanted,
        classToken: plan.wantsParam(node.classToken),
        positionEmbedding: plan.wantsParam(node.positionEmbedding),
      });
    case 'attention':
      return attention(node, x, inputWanted);
    case 'class_token':
      return classTokenOf(x);
    default: {
      const unknown: never = node;
      throw new Error(`forward: unknown node op ${(unknown as NodeSpec).op}`);
    }
  }
}
