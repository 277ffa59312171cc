import { describe, expect, it } from 'vitest';

import { buildModelSpec } from '../models/registry';
import { layerKind, summariseDispatches } from './dispatches';
import type { MeasuredKernel } from './measured';

const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution: 16, numClasses: 10, stem: 'cifar' });

function kernel(phase: MeasuredKernel['phase'], node: string | null, dispatches: number): MeasuredKernel {
  return { name: 'K', phase, node, outputShapes: [], dispatches, timeMs: null, backendBytes: null };
}

describe('dispatch summary', () => {
  it('names layer kinds from the spec', () => {
    const kinds = new Set(spec.nodes.map(layerKind));
    for (const kind of ['conv 1×1', 'conv 3×3', 'conv depthwise', 'batch norm', 'activation (relu6)', 'add', 'linear']) expect(kinds).toContain(kind);
  });

  it("names a ViT's layer kinds", () => {
    const vit = buildModelSpec({ model: 'vit_tiny', width: 0.25, resolution: 32, numClasses: 10, stem: 'cifar', depth: 1 });
    expect(new Set(vit.nodes.map(layerKind))).toEqual(
      new Set(['input', 'conv 4×4', 'tokens (reshape, class token)', 'class token + position embedding', 'layer norm', 'linear', 'attention', 'add', 'activation (gelu)']),
    );
  });

  it('adds dispatches by phase and by kind; reshapes (0 dispatches) count nowhere; unattributed kernels go to the loss or the optimizer', () => {
    const bn = spec.nodes.find((node) => node.op === 'batchnorm')?.id as string;
    const depthwise = spec.nodes.find((node) => node.op === 'conv2d' && node.groups > 1)?.id as string;
    const summary = summariseDispatches(
      [kernel('forward', bn, 2), kernel('forward', depthwise, 1), kernel('forward', bn, 0), kernel('forward', null, 5), kernel('backward', bn, 2), kernel('backward', null, 3), kernel('optimizer', null, 4)],
      spec,
    );
    expect(summary.total).toBe(17);
    expect(summary.kernels).toBe(7);
    expect(summary.byPhase).toEqual({ forward: 8, backward: 5, optimizer: 4 });
    expect(summary.byKind.map((row) => [row.kind, row.total])).toEqual([
      ['loss', 8],
      ['batch norm', 4],
      ['optimizer', 4],
      ['conv depthwise', 1],
    ]);
    expect(summary.byKind[1].byPhase).toEqual({ forward: 2, backward: 2, optimizer: 0 });
  });
});
