// Which nodes the lab's engine runs as one: a batch norm followed by the relu or relu6 that alone
// reads it applies the activation in its own normalisation pass (one WebGPU dispatch instead of
// two). The activation node's forward computes nothing: its output is the batch norm's, the same
// buffer, as torchvision's in-place activations reuse theirs. In a training step its mask is applied
// by the batch norm's backward and its output recomputed where needed (recomputedActivations), or
// else it keeps its output for its backward. The interpreter (nn/forward.ts) and the analytic
// profiler (profile/memory.ts) both read this, so what is run and what is counted stay one fact.
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

/**
 * The fused activations whose output the lab's engine never keeps in a training step: those whose
 * every reader is a conv or linear layer. When the batch norm keeps its input anyway (its input's
 * or γ's gradient is wanted, `bnKeepsInput`), the batch norm's backward applies the activation's
 * mask itself, recomputing x̂·γ + β from what it keeps, and each reader that needs the activation
 * for its weight gradient recomputes it in its backward from the same tensors (x, the batch
 * statistics, γ, β): one elementwise pass instead of a kept activation-sized tensor, as in-place
 * activated batch norm and activation checkpointing trade. A reader that keeps its input itself
 * (max pooling under tfjs's auto-diff) or a reader-less output keeps the activation as before.
 * Returns, for each such activation node, its batch norm's id.
 */
export function recomputedActivations(spec: ModelSpec, bnKeepsInput: (batchNormId: string) => boolean): Map<string, string> {
  const fused = fusedActivations(spec);
  const readersOf = new Map<string, NodeSpec[]>();
  for (const node of spec.nodes) for (const input of node.inputs) readersOf.set(input, [...(readersOf.get(input) ?? []), node]);
  const recomputed = new Map<string, string>();
  for (const node of spec.nodes) {
    if (!isAppliedByBatchNorm(node, fused) || node.id === spec.output) continue;
    const readers = readersOf.get(node.id) ?? [];
    const batchNormId = node.inputs[0];
    if (readers.length > 0 && readers.every((r) => r.op === 'conv2d' || r.op === 'linear') && bnKeepsInput(batchNormId)) recomputed.set(node.id, batchNormId);
  }
  return recomputed;
}
