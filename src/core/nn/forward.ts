// The tfjs interpreter of a ModelSpec's nodes (NHWC).
//
// Memory: each node's intermediate tensors are freed when the node is done (a tf.tidy per node)
// and each node's output as soon as its last consumer has run. Under a gradient tape this is
// safe: tfjs keeps its own clone of whatever a kernel's gradient needs. What the tape keeps is
// decided per kernel, not per trainable set, so it keeps more than ideal:
// - a conv keeps its input x even when its weight is frozen (x is needed only for dW); and the
//   first conv keeps the image although nothing needs dX there;
// - a conv keeps its filter even when no gradient flows to the conv's input (first layer);
// - kernels off the path from the trainable variables to the loss still record and keep inputs
//   (tfjs prunes that part of the tape only when backpropagating);
// - eval-mode BN's multiply keeps x even when γ is frozen (x is needed only for dγ).
// A later "fast backward" (one backward per node, from the spec) can keep exactly what the
// trainable set needs; the analytic profiler should count both.
import * as tf from '@tensorflow/tfjs';
import { mixSeed } from '../data/rng';
import type { Conv2dNode, LinearNode, NodeSpec } from '../models/spec';
import { ACTIVATIONS } from './activations';
import { doraCombine, loraAdd } from './adapterOps';
import { batchNormEval, batchNormTraining, type BatchStatsSink } from './batchnorm';
import type { Model } from './model';

export interface ForwardOptions {
  /** Batch norm uses batch statistics (true) or running statistics (false). */
  training: boolean;
  /** Dropout is applied only in training mode, and only with a seed: training-mode checks against
   * PyTorch run with batch statistics but no dropout. */
  dropoutSeed?: number;
  /** Receives each training-mode batch norm's batch statistics, to update running statistics
   * after the gradient computation (see applyRunningStatUpdates). */
  batchStats?: BatchStatsSink;
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

  const values = new Map<string, tf.Tensor>([[inputNode.id, x]]);
  try {
    spec.nodes.forEach((node, index) => {
      if (node.op === 'input') return;
      const inputs = node.inputs.map((id) => values.get(id) as tf.Tensor);
      values.set(node.id, tf.tidy(() => runNode(model, node, index, inputs, options)));
      for (const id of node.inputs) {
        const left = (usesLeft.get(id) as number) - 1;
        usesLeft.set(id, left);
        if (left === 0 && id !== inputNode.id) {
          values.get(id)?.dispose();
          values.delete(id);
        }
      }
    });
  } catch (error) {
    for (const [id, value] of values) if (id !== inputNode.id) value.dispose();
    throw error;
  }
  return values.get(spec.output) as tf.Tensor;
}

function runNode(model: Model, node: NodeSpec, index: number, inputs: tf.Tensor[], options: ForwardOptions): tf.Tensor {
  const param = (name: string) => {
    const variable = model.variables.get(name);
    if (!variable) throw new Error(`forward: node ${node.id} needs parameter ${name}, which the model lacks`);
    return variable;
  };
  const [x] = inputs;
  switch (node.op) {
    case 'input':
      throw new Error(`forward: input node ${node.id} must be the spec's first node`);
    case 'conv2d':
      return conv2d(node, x as tf.Tensor4D, param);
    case 'batchnorm': {
      const gamma = param(node.gamma) as tf.Tensor1D;
      const beta = param(node.beta) as tf.Tensor1D;
      if (options.training) return batchNormTraining(x, gamma, beta, node, options.batchStats);
      return batchNormEval(x, gamma, beta, param(node.runningMean) as tf.Tensor1D, param(node.runningVar) as tf.Tensor1D, node.eps);
    }
    case 'activation':
      return ACTIVATIONS[node.fn](x);
    case 'add':
      return tf.add(x, inputs[1]);
    case 'scale_channels':
      return tf.mul(x, inputs[1]);
    case 'global_avg_pool':
      return tf.mean(x, [1, 2], true);
    case 'maxpool':
      return tf.maxPool(x as tf.Tensor4D, node.kernel, node.stride, node.padding);
    case 'flatten':
      return tf.reshape(x, [x.shape[0], -1]);
    case 'linear':
      return linear(node, x as tf.Tensor2D, param);
    case 'dropout':
      if (options.training && options.dropoutSeed !== undefined && node.p > 0) {
        return tf.dropout(x, node.p, undefined, mixSeed(options.dropoutSeed, index));
      }
      // A new tensor object: the caller disposes the input after its last use.
      return tf.clone(x);
    case 'lora_add':
      return loraAdd(node, x, inputs[1]);
    case 'dora_combine':
      return doraCombine(node, x, inputs[1], param);
    default: {
      const unknown: never = node;
      throw new Error(`forward: unknown node op ${(unknown as NodeSpec).op}`);
    }
  }
}

function conv2d(node: Conv2dNode, x: tf.Tensor4D, param: (name: string) => tf.Variable): tf.Tensor {
  const weight = param(node.weight) as tf.Tensor4D;
  // A number is torch's symmetric padding (tfjs's 'same' pads asymmetrically at stride 2).
  let y: tf.Tensor;
  if (node.groups === 1 && node.kernel === 1 && node.stride === 1 && node.padding === 0) {
    // A pointwise conv is a matmul over N·H·W rows. Its backward is two matmuls, where tfjs's
    // Conv2DBackpropFilter on the CPU backend is a naive loop (~50× slower at these shapes).
    const [n, h, w, c] = x.shape;
    const rows = tf.matMul(tf.reshape(x, [n * h * w, c]), tf.reshape(weight, [c, node.outChannels]));
    y = tf.reshape(rows, [n, h, w, node.outChannels]);
  } else if (node.groups === 1) {
    y = tf.conv2d(x, weight, node.stride, node.padding);
  } else if (node.groups === node.inChannels && node.outChannels === node.inChannels) {
    y = tf.depthwiseConv2d(x, weight, node.stride, node.padding);
  } else {
    throw new Error(`forward: conv ${node.id} has groups = ${node.groups}; only dense and depthwise convs are supported`);
  }
  return node.bias ? tf.add(y, param(node.bias)) : y;
}

function linear(node: LinearNode, x: tf.Tensor2D, param: (name: string) => tf.Variable): tf.Tensor {
  const y = tf.matMul(x, param(node.weight) as tf.Tensor2D);
  return node.bias ? tf.add(y, param(node.bias)) : y;
}
