// Which gradients a forward pass must make possible, decided from the spec and the trainable set
// before any tensor exists. A node's output "needs a gradient" when it depends on a parameter whose
// gradient is wanted (or on the input, when its gradient is wanted). Nodes whose output needs none
// form the frozen region below the gradient frontier: the interpreter runs them off the tape, so
// nothing is recorded or kept for them. For the others, each input needs a gradient only when that
// input's own output needs one (the first conv never computes dX), and a parameter only when it is
// in the wanted set; the layer ops save only what those gradients read.
import type { ModelSpec, NodeSpec } from '../models/spec';

/** What the caller will differentiate the forward pass with respect to. */
export interface GradientTargets {
  /** Parameter names (torchvision keys) whose gradients are wanted. */
  params: ReadonlySet<string>;
  /** Whether the gradient with respect to the input batch is wanted. */
  input: boolean;
}

export interface GradientPlan {
  /** Whether the named node's output needs a gradient (the node runs on the tape). */
  needsGrad(nodeId: string): boolean;
  /** Whether the named parameter's gradient is wanted. */
  wantsParam(name: string): boolean;
}

/** Parameters a node reads that can receive a gradient (running statistics never do). */
export function differentiableParams(node: NodeSpec): string[] {
  switch (node.op) {
    case 'conv2d':
    case 'linear':
      return node.bias ? [node.weight, node.bias] : [node.weight];
    case 'batchnorm':
    case 'layernorm':
      return [node.gamma, node.beta];
    case 'token_embed':
      return [node.classToken, node.positionEmbedding];
    case 'dora_combine':
      return [node.magnitude, node.baseWeight, node.loraA, node.loraB, ...(node.bias ? [node.bias] : [])];
    default:
      return [];
  }
}

export function planGradients(spec: ModelSpec, targets: GradientTargets): GradientPlan {
  const needing = new Set<string>();
  for (const node of spec.nodes) {
    const fromInput = node.op === 'input' ? targets.input : node.inputs.some((id) => needing.has(id));
    if (fromInput || differentiableParams(node).some((name) => targets.params.has(name))) needing.add(node.id);
  }
  return {
    needsGrad: (nodeId) => needing.has(nodeId),
    wantsParam: (name) => targets.params.has(name),
  };
}
