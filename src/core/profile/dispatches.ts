// Where a measured step's compute dispatches go: by phase (forward, backward, optimizer) and by the
// kind of layer that ran them. On a GPU a step of the lab's small networks is bound by per-dispatch
// overhead, not arithmetic (DESIGN.md, "Speed"), so this is the table that says what to fuse next.
import type { ModelSpec, NodeSpec } from '../models/spec';
import type { MeasuredKernel } from './measured';
import { STEP_PHASES, type StepPhase } from './types';

export interface DispatchRow {
  /** A layer kind ('conv 1×1', 'conv depthwise', 'batch norm', …), 'loss' or 'optimizer'. */
  kind: string;
  byPhase: Record<StepPhase, number>;
  total: number;
}

export interface DispatchSummary {
  total: number;
  byPhase: Record<StepPhase, number>;
  /** Most dispatches first. */
  byKind: DispatchRow[];
  /** Kernels the engine ran, dispatching or not (tf.profile's count: reshapes and identities too). */
  kernels: number;
}

/** The kind of layer a node is, as the dispatch table names it. */
export function layerKind(node: NodeSpec): string {
  switch (node.op) {
    case 'conv2d':
      if (node.groups > 1) return 'conv depthwise';
      return node.kernel === 1 ? 'conv 1×1' : `conv ${node.kernel}×${node.kernel}`;
    case 'batchnorm':
      return 'batch norm';
    case 'activation':
      return `activation (${node.fn})`;
    case 'global_avg_pool':
      return 'pooling';
    case 'maxpool':
      return 'pooling';
    case 'scale_channels':
      return 'squeeze-excitation scale';
    case 'lora_add':
      return 'LoRA combine';
    case 'dora_combine':
      return 'DoRA combine';
    case 'layernorm':
      return 'layer norm';
    case 'attention':
      return 'attention';
    case 'to_tokens':
    case 'class_token':
      return 'tokens (reshape, class token)';
    case 'token_embed':
      return 'class token + position embedding';
    default:
      return node.op;
  }
}

const zeroPhases = (): Record<StepPhase, number> => Object.fromEntries(STEP_PHASES.map((phase) => [phase, 0])) as Record<StepPhase, number>;

/** Dispatches by phase and by layer kind; a kernel attributed to no node counts under 'loss' in the
 * forward and backward passes (the loss is the only code there outside the spec's nodes) and
 * under 'optimizer' in the optimizer phase. */
export function summariseDispatches(kernels: readonly MeasuredKernel[], spec: ModelSpec): DispatchSummary {
  const nodes = new Map(spec.nodes.map((node) => [node.id, node]));
  const rows = new Map<string, DispatchRow>();
  const byPhase = zeroPhases();
  let total = 0;
  for (const kernel of kernels) {
    if (kernel.dispatches === 0) continue;
    const node = kernel.node !== null ? nodes.get(kernel.node) : undefined;
    const kind = node ? layerKind(node) : kernel.phase === 'optimizer' ? 'optimizer' : 'loss';
    const row = rows.get(kind) ?? { kind, byPhase: zeroPhases(), total: 0 };
    row.byPhase[kernel.phase] += kernel.dispatches;
    row.total += kernel.dispatches;
    rows.set(kind, row);
    byPhase[kernel.phase] += kernel.dispatches;
    total += kernel.dispatches;
  }
  return { total, byPhase, byKind: [...rows.values()].sort((a, b) => b.total - a.total), kernels: kernels.length };
}
