// What the profiler reads off a spec before counting: who consumes each tensor, which parameters
// each node owns, and which tensors need a gradient (the gradient frontier).
import type { ModelSpec, NodeSpec, ParamSpec } from '../models/spec';

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameters and buffers a node owns (a DoRA node owns its magnitude and bias; the base weight and
 * the LoRA factors it reads for its norm belong to their convs; a ViT's embedding owns the class
 * token and the position embedding). */
export function ownedParamNames(node: NodeSpec): string[] {
  const names: (string | undefined)[] = [];
  switch (node.op) {
    case 'conv2d':
    case 'linear':
      names.push(node.weight, node.bias);
      break;
    case 'batchnorm':
      names.push(node.gamma, node.beta, node.runningMean, node.runningVar);
      break;
    case 'layernorm':
      names.push(node.gamma, node.beta);
      break;
    case 'token_embed':
      names.push(node.classToken, node.positionEmbedding);
      break;
    case 'dora_combine':
      names.push(node.magnitude, node.bias);
      break;
    default:
      break;
  }
  return names.filter((n): n is string => n !== undefined);
}

export interface SpecGraph {
  spec: ModelSpec;
  nodeById: Map<string, NodeSpec>;
  /** Consumers of each node's output, one entry per input slot that reads it, in forward order. */
  consumers: Map<string, string[]>;
  /** Whether a node's output needs a gradient: some parameter at or before it trains. Nodes whose
   * output needs none lie below the gradient frontier: no backward runs there and nothing is kept. */
  requiresGrad: Map<string, boolean>;
  param(name: string): ParamSpec;
  /** Trainable parameters a node owns. */
  trainableParams(node: NodeSpec): ParamSpec[];
  /** Elements of a node's output per example. */
  elementsPerExample(id: string): number;
}

export function analyseSpec(spec: ModelSpec): SpecGraph {
  const nodeById = new Map<string, NodeSpec>();
  const consumers = new Map<string, string[]>();
  for (const node of spec.nodes) {
    nodeById.set(node.id, node);
    consumers.set(node.id, []);
    for (const input of node.inputs) {
      const list = consumers.get(input);
      if (!list) throw new Error(`profile: node ${node.id} reads ${input}, which is not an earlier node`);
      list.push(node.id);
    }
  }
  if (!nodeById.has(spec.output)) throw new Error(`profile: the spec's output ${spec.output} is not a node`);

  const param = (name: string): ParamSpec => {
    const p = spec.params[name];
    if (!p) throw new Error(`profile: unknown parameter ${name}`);
    return p;
  };
  const trainableParams = (node: NodeSpec): ParamSpec[] => ownedParamNames(node).map(param).filter((p) => p.trainable);

  const requiresGrad = new Map<string, boolean>();
  for (const node of spec.nodes) {
    requiresGrad.set(node.id, trainableParams(node).length > 0 || node.inputs.some((id) => requiresGrad.get(id)));
  }

  return {
    spec,
    nodeById,
    consumers,
    requiresGrad,
    param,
    trainableParams,
    elementsPerExample: (id) => numel((nodeById.get(id) as NodeSpec).outShape),
  };
}
