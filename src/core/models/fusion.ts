// Which nodes the lab's engine runs as one: a batch norm followed by the relu or relu6 that alone
// reads it applies the activation in its own normalisation pass (one WebGPU dispatch instead of
// two). The activation node still keeps its output for its backward (the mask), but its forward
// computes nothing: its output is the batch norm's, the same buffer, as torchvision's in-place
// activations reuse theirs. The interpreter (nn/forward.ts) and the analytic profiler
// (profile/memory.ts) both read this, so what is run and what is counted stay one fact.
import type { ModelSpec, NodeSpec } from './spec';

export type FusedActivation = 'relu' | 'relu6';

/** For each batch norm whose sole consumer is a relu or relu6, that activation. */
export function fusedActivations(spec: ModelSpec): Map<string, FusedActivation> {
  const consumers = new Map<string, NodeSpec[]>();
  for (const node of spec.nodes) for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const fused = new Map<string, FusedActivation>();
  for (const node of spec.nodes) {
    if (node.op !== 'batchnorm' || node.id === spec.output) continue;
    const readers = consumers.get(node.id) ?? [];
    const [reader] = readers;
    if (readers.length === 1 && reader.op === 'activation' && (reader.fn === 'relu' || reader.fn === 'relu6')) fused.set(node.id, reader.fn);
  }
  return fused;
}

/** Whether `node` is an activation its batch norm already applied (see fusedActivations). */
export function isAppliedByBatchNorm(node: NodeSpec, fused: ReadonlyMap<string, FusedActivation>): boolean {
  return node.op === 'activation' && fused.has(node.inputs[0]);
}
