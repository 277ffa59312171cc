// The measured profile beside the analytic one: per-group agreement, and where tfjs keeps more (or
// less) than the lab's ideal engine, which node, how much, and why — as data the UI can show.
import type { ModelSpec } from '../models/spec';
import type { MeasuredNodeKept, MeasuredStep } from './measured';
import { BYTES_PER_FLOAT, type AnalyticProfile, type BytesByGroup } from './types';

export interface Agreement {
  measured: number;
  analytic: number;
  /** measured / analytic (1 when both are 0). */
  ratio: number;
}

/** A node whose kept bytes (ACT at the end of the forward pass) differ between tfjs and the lab's engine. */
export interface KeptDifference {
  /** A spec node id, or 'loss' for the cross-entropy. */
  node: string;
  op: string;
  measuredBytes: number;
  analyticBytes: number;
  reason: string;
}

/** A difference of the whole step rather than of one node. */
export interface StepDifference {
  kind: 'kept_until_backward_ends' | 'gradients_until_backward_ends' | 'nodes_unattributed';
  /** Measured and analytic bytes of what it concerns, right after the last backward kernel. */
  measuredBytes: number;
  analyticBytes: number;
  reason: string;
}

export interface MeasuredVsAnalytic {
  /** Each group's maximum over the step; PARAM, GRAD and OPT should agree to the byte. */
  maxBytesByGroup: Record<keyof BytesByGroup, Agreement>;
  /** The simultaneous peak's total. */
  peak: Agreement;
  differences: KeptDifference[];
  stepDifferences: StepDifference[];
}

const agreement = (measured: number, analytic: number): Agreement => ({
  measured,
  analytic,
  ratio: analytic === 0 ? (measured === 0 ? 1 : Infinity) : measured / analytic,
});

/** Why tfjs's gradient of a kernel keeps an input or output, where the lab's engine would not. */
const KEPT_BECAUSE: Record<string, string> = {
  Add: 'only for its shape',
  Sub: 'only for its shape',
  Reshape: 'only for its shape',
  Mean: 'only for its shape',
  Sum: 'only for its shape',
  Conv2D: 'whatever trains',
  DepthwiseConv2dNative: 'whatever trains',
  BatchMatMul: 'whatever trains',
  Multiply: 'whatever trains',
};

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 2 ** 20).toFixed(2)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

function keptReason(kept: MeasuredNodeKept | undefined, analyticBytes: number): string {
  if (!kept) return `tfjs keeps nothing here; the lab's engine keeps ${formatBytes(analyticBytes)}`;
  const items = kept.saved.map((s) => {
    const what = s.kernel === 'customGrad' ? `the lab's custom gradient ${s.slot}` : `${s.kernel} ${s.slot}`;
    const because = KEPT_BECAUSE[s.kernel];
    return `${what} ${formatBytes(s.bytes)}${because ? ` (${because})` : ''}`;
  });
  if (kept.outsideTapeBytes > 0) {
    items.push(`${formatBytes(kept.outsideTapeBytes)} held outside the tape until after the backward`);
  }
  return `tfjs keeps ${items.join(', ')}; the lab's engine keeps ${formatBytes(analyticBytes)}`;
}

/** Compares a measured step with the analytic profile of the same spec, batch and optimizer. */
export function compareMeasuredWithAnalytic(measured: MeasuredStep, analytic: AnalyticProfile, spec: ModelSpec): MeasuredVsAnalytic {
  const ideal = analytic.memory.analytic;
  const maxBytesByGroup = Object.fromEntries(
    (Object.keys(ideal.maxBytesByGroup) as (keyof BytesByGroup)[]).map((g) => [g, agreement(measured.memory.maxBytesByGroup[g], ideal.maxBytesByGroup[g])]),
  ) as Record<keyof BytesByGroup, Agreement>;

  const differences: KeptDifference[] = [];
  const stepDifferences: StepDifference[] = [];
  const idealAtBackwardEnd = ideal.timeline.filter((p) => p.phase === 'backward').at(-1)?.bytes;
  if (measured.keptByNode) {
    const keptByNode = new Map(measured.keptByNode.map((k) => [k.node, k]));
    // The loss keeps the softmax probabilities in the lab's engine.
    const classes = spec.nodes.find((n) => n.id === spec.output)?.outShape.at(-1) ?? 0;
    const rows = [
      ...analytic.nodes.filter((n) => n.op !== 'input').map((n) => ({ node: n.nodeId, op: n.op, analyticBytes: n.keptBytes.analytic })),
      { node: 'loss', op: 'cross_entropy', analyticBytes: analytic.options.batch * classes * BYTES_PER_FLOAT },
    ];
    for (const { node, op, analyticBytes } of rows) {
      const kept = keptByNode.get(node);
      const measuredBytes = kept?.bytes ?? 0;
      if (measuredBytes !== analyticBytes) differences.push({ node, op, measuredBytes, analyticBytes, reason: keptReason(kept, analyticBytes) });
    }
  } else {
    stepDifferences.push({
      kind: 'nodes_unattributed',
      measuredBytes: measured.memory.maxBytesByGroup.act,
      analyticBytes: ideal.maxBytesByGroup.act,
      reason: 'the forward pass did not run one scope per spec node, so what the tape keeps could not be attributed to nodes',
    });
  }
  if (idealAtBackwardEnd && measured.atBackwardEnd.act > idealAtBackwardEnd.act) {
    stepDifferences.push({
      kind: 'kept_until_backward_ends',
      measuredBytes: measured.atBackwardEnd.act,
      analyticBytes: idealAtBackwardEnd.act,
      reason:
        "tfjs frees what its tape keeps only when the whole backward pass ends (engine.gradients disposes every node's " +
        "saved tensors after backpropagating); the lab's engine frees each node's after its own backward",
    });
  }
  if (idealAtBackwardEnd && measured.atBackwardEnd.temp > idealAtBackwardEnd.temp) {
    stepDifferences.push({
      kind: 'gradients_until_backward_ends',
      measuredBytes: measured.atBackwardEnd.temp,
      analyticBytes: idealAtBackwardEnd.temp,
      reason:
        'tfjs keeps the gradient of every intermediate tensor until the whole backward pass ends (its tape maps each ' +
        "tensor to its gradient and frees the map with the backward's scope); the lab's engine frees each once the node below has used it",
    });
  }
  return { maxBytesByGroup, peak: agreement(measured.memory.peak.total, ideal.peak.total), differences, stepDifferences };
}
