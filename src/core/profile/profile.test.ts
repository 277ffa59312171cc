// The analytic profiler on hand-counted tiny nets (tinyNets.ts): conv(3×3, 2→3, no bias) → BN(3)
// → ReLU → global pool → flatten → linear(3→2, bias), 4×4×2 inputs, batch N = 2.
// Per-step tensor sizes (float32): input 2·32·4 = 256 B; conv, BN, ReLU outputs 2·48·4 = 384 B;
// pool 2·3·4 = 24 B; logits and softmax probabilities 2·2·4 = 16 B; a BN per-channel vector 12 B.
// Parameters: conv 54, BN 4 × 3 (γ, β, running mean, running var), linear 6 + 2 = 74 floats = 296 B.
import { describe, expect, it } from 'vitest';
import { applyMethod, methodOptions } from '../adapters';
import { MEMORY_GROUPS, type MethodId } from '../ids';
import { smallSvdFlops, topLeftSingularSubspaceCost } from '../optim/linalg';
import { optimizerCostOfMethod, profileSpec } from './profile';
import { tinyConvBnReluLinear, tinyDepthwise, tinyLoraConv } from './tinyNets';
import type { AnalyticProfile, FlopKind, FlopsByPhase, MemoryProfile, OptimizerCostSpec } from './types';

const ADAM: OptimizerCostSpec = { kind: 'adam' };
const BATCH = 2;

function phases(forward: number, backward_input: number, backward_weight: number, optimizer = 0, projection = 0): FlopsByPhase {
  return { forward, backward_input, backward_weight, optimizer, projection };
}

function pointAt(profile: MemoryProfile, phase: string, op: string) {
  const point = profile.timeline.find((p) => p.phase === phase && p.op === op);
  if (!point) throw new Error(`no timeline point ${phase} ${op}`);
  return point.bytes;
}

function expectTimelineInvariants(profile: AnalyticProfile): void {
  for (const memory of [profile.memory.analytic, profile.memory.pytorch]) {
    const first = memory.timeline[0].bytes;
    let largest = 0;
    for (const point of memory.timeline) {
      for (const group of MEMORY_GROUPS) expect(point.bytes[group]).toBeGreaterThanOrEqual(0);
      expect(point.bytes.param).toBe(first.param);
      expect(point.bytes.opt).toBe(first.opt);
      expect(point.total).toBe(MEMORY_GROUPS.reduce((sum, g) => sum + point.bytes[g], 0));
      largest = Math.max(largest, point.total);
    }
    expect(memory.peak.total).toBe(largest);
    expect(memory.timeline[memory.peak.index].total).toBe(largest);
    expect(memory.sumOfGroupMaxima).toBeGreaterThanOrEqual(memory.peak.total);
    // Every kept tensor is released by the end of backward; the optimizer sees every gradient.
    const optimizerPoints = memory.timeline.filter((p) => p.phase === 'optimizer');
    expect(optimizerPoints.length).toBeGreaterThan(0);
    for (const point of optimizerPoints) expect(point.bytes.act).toBe(0);
    expect(memory.maxBytesByGroup.grad).toBe(4 * profile.params.trainable);
  }
}

describe('analytic profile of the tiny net, everything trainable (Adam)', () => {
  const profile = profileSpec(tinyConvBnReluLinear('all'), { batch: BATCH, optimizer: ADAM });
  const lab = profile.memory.analytic;
  const torch = profile.memory.pytorch;

  it('counts parameters, gradients and Adam state', () => {
    expect(profile.params).toEqual({ total: 68, trainable: 68 });
    expect(lab.timeline[0].bytes.param).toBe(296);
    expect(lab.maxBytesByGroup.grad).toBe(68 * 4);
    expect(lab.maxBytesByGroup.opt).toBe(2 * 68 * 4);
  });

  it('keeps what the lab engine needs, op by op', () => {
    // conv keeps its input (its weight trains): 256.
    expect(pointAt(lab, 'forward', 'conv')).toMatchObject({ act: 256, temp: 384 });
    // BN keeps its input, the conv's output (384), and the batch mean and variance (24); live: BN out.
    expect(pointAt(lab, 'forward', 'bn')).toMatchObject({ act: 256 + 384 + 24, temp: 384 });
    // ReLU keeps its output (384), which is the BN's own buffer: the BN applied it (models/fusion.ts).
    expect(pointAt(lab, 'forward', 'relu')).toMatchObject({ act: 1048, temp: 0 });
    // The linear keeps its input (the pooled 24 B); the loss its probabilities (16 B).
    expect(pointAt(lab, 'forward', 'fc')).toMatchObject({ act: 1072, temp: 16 });
    expect(pointAt(lab, 'forward', 'loss')).toMatchObject({ act: 1088, temp: 16 });
    expect(lab.maxBytesByGroup.act).toBe(1088);
  });

  it('walks the backward pass: gradients appear, kept tensors go', () => {
    expect(pointAt(lab, 'backward', 'fc')).toMatchObject({ grad: 32, act: 1072, temp: 16 + 24 });
    // Pool: dY (24) and the broadcast dX (384).
    expect(pointAt(lab, 'backward', 'pool')).toMatchObject({ grad: 32, act: 1048, temp: 408 });
    expect(pointAt(lab, 'backward', 'relu')).toMatchObject({ grad: 32, act: 1048, temp: 768 });
    // BN: dY, dX and the per-channel sums Σ dY, Σ dY·x̂ (24); γ, β gradients.
    expect(pointAt(lab, 'backward', 'bn')).toMatchObject({ grad: 56, act: 664, temp: 792 });
    // The first conv produces no input gradient.
    expect(pointAt(lab, 'backward', 'conv')).toMatchObject({ grad: 272, act: 256, temp: 384 });
    // Adam updates every parameter in place (one multi-tensor kernel): no temporary.
    expect(pointAt(lab, 'optimizer', 'conv.weight')).toMatchObject({ grad: 272, act: 0, temp: 0 });
  });

  it('finds the simultaneous peak and the sum of per-group maxima', () => {
    expect(lab.peak).toMatchObject({ phase: 'backward', op: 'relu', total: 2688 });
    expect(lab.peak.bytes).toEqual({ param: 296, grad: 32, act: 1048, opt: 544, temp: 768 });
    // param 296 + grad 272 + act 1088 + opt 544 + temp 792 (BN backward).
    expect(lab.maxBytesByGroup).toEqual({ param: 296, grad: 272, act: 1088, opt: 544, temp: 792 });
    expect(lab.sumOfGroupMaxima).toBe(2992);
  });

  it("keeps what PyTorch's autograd keeps", () => {
    // BN keeps its input (384) and save_mean, save_invstd (24); the in-place ReLU its output,
    // which is the BN output's storage (no new tensor, so no TEMP at ReLU).
    expect(pointAt(torch, 'forward', 'bn')).toMatchObject({ act: 256 + 384 + 24, temp: 384 });
    expect(pointAt(torch, 'forward', 'relu')).toMatchObject({ act: 1048, temp: 0 });
    expect(torch.maxBytesByGroup.act).toBe(1088);
    // foreach Adam: √v + ε for every parameter at once.
    expect(pointAt(torch, 'optimizer', 'adam (foreach)')).toMatchObject({ grad: 272, temp: 272 });
    expect(torch.peak).toMatchObject({ phase: 'backward', op: 'relu', total: 2688 });
  });

  it('counts FLOPs by kind and phase', () => {
    const { byKind, byPhase } = profile.flops.correct;
    // conv: 2 · N·H'·W'·C_out · C_in·k² = 2 · 2·16·3 · 18 = 3456; no input gradient (first layer).
    // Adam: 13 per element (54 → 702).
    expect(byKind.conv).toEqual(phases(3456, 0, 3456, 702));
    // BN, E = 96 elements: forward 8E; Σ dY (E) → β, Σ dY·x̂ (2E) → γ; dX 4E. Adam on γ, β: 13·6.
    expect(byKind.batchnorm).toEqual(phases(768, 384, 288, 78));
    expect(byKind.activation).toEqual(phases(96, 96, 0));
    // Global pool: one add per input element, its gradient one per element.
    expect(byKind.elementwise).toEqual(phases(96, 96, 0));
    // linear: 2·N·3·2 = 24, + bias 4; its bias gradient Σ dY (4). Adam: 13·8.
    expect(byKind.linear).toEqual(phases(28, 24, 28, 104));
    expect(byKind.decomposition).toEqual(phases(0, 0, 0));
    expect(byPhase).toEqual(phases(4444, 600, 3772, 884));
    expect(profile.flops.correct.total).toBe(9700);
    // No grouped conv: PyTorch's counter convention agrees.
    expect(profile.flops.torchConvention.byPhase).toEqual(byPhase);
  });

  it('keeps the timeline invariants', () => expectTimelineInvariants(profile));
});

describe('only the classifier trains: nothing is kept or differentiated below it', () => {
  const profile = profileSpec(tinyConvBnReluLinear('linear'), { batch: BATCH, optimizer: ADAM });
  const lab = profile.memory.analytic;

  it('keeps only the classifier input and the loss probabilities', () => {
    expect(lab.maxBytesByGroup.act).toBe(24 + 16);
    expect(profile.memory.pytorch.maxBytesByGroup.act).toBe(24 + 16);
    expect(profile.nodes.filter((n) => n.keptBytes.analytic > 0).map((n) => n.nodeId)).toEqual(['fc']);
    // The peak is BN's forward: its input and output, and both per-channel statistics as workspace.
    expect(lab.peak).toMatchObject({ phase: 'forward', op: 'bn', total: 296 + 64 + 792 });
    expect(lab.peak.bytes).toEqual({ param: 296, grad: 0, act: 0, opt: 64, temp: 792 });
    // No gradient reaches below the classifier: the backward stops there.
    expect(lab.timeline.filter((p) => p.phase === 'backward').map((p) => p.op)).toEqual(['loss', 'fc']);
  });

  it('counts no backward below the frontier', () => {
    const { byKind } = profile.flops.correct;
    expect(byKind.conv).toEqual(phases(3456, 0, 0));
    expect(byKind.batchnorm).toEqual(phases(768, 0, 0));
    expect(byKind.activation).toEqual(phases(96, 0, 0));
    // The classifier's input needs no gradient either.
    expect(byKind.linear).toEqual(phases(28, 0, 28, 104));
  });

  it('keeps the timeline invariants', () => expectTimelineInvariants(profile));
});

describe('BN affine only', () => {
  const profile = profileSpec(tinyConvBnReluLinear('bn'), { batch: BATCH, optimizer: ADAM });

  it('keeps x and the batch statistics for γ (x̂ is recomputed) though the conv below needs no gradient', () => {
    const lab = profile.memory.analytic;
    // BN input 384 + batch mean and variance 24 + ReLU output 384 + probabilities 16; the frozen
    // classifier keeps nothing.
    expect(lab.maxBytesByGroup.act).toBe(808);
    expect(pointAt(lab, 'forward', 'bn')).toMatchObject({ act: 384 + 24, temp: 384 });
    expect(pointAt(lab, 'backward', 'bn')).toMatchObject({ grad: 24, act: 384 + 24, temp: 384 + 24 });
    expect(lab.peak).toMatchObject({ phase: 'backward', op: 'relu', total: 296 + 48 + 792 + 768 });
  });

  it('PyTorch keeps the BN input and statistics whatever trains', () => {
    // BN input 384 + save_mean, save_invstd 24 + ReLU output 384 + probabilities 16.
    expect(profile.memory.pytorch.maxBytesByGroup.act).toBe(808);
  });

  it('differentiates γ, β and everything above, nothing below', () => {
    const { byKind } = profile.flops.correct;
    expect(byKind.conv).toEqual(phases(3456, 0, 0));
    expect(byKind.batchnorm).toEqual(phases(768, 0, 288, 78));
    expect(byKind.activation).toEqual(phases(96, 96, 0));
    // The frozen classifier still passes the gradient down.
    expect(byKind.linear).toEqual(phases(28, 24, 0));
  });

  it('keeps the timeline invariants', () => expectTimelineInvariants(profile));
});

describe('LoRA on the conv (r = 2, α = 4), classifier trainable', () => {
  const profile = profileSpec(tinyLoraConv(2, 4), { batch: BATCH, optimizer: ADAM });

  it('keeps the adapters’ inputs, not the frozen conv’s', () => {
    const kept = Object.fromEntries(profile.nodes.map((n) => [n.nodeId, n.keptBytes]));
    expect(kept['conv']).toEqual({ analytic: 0, pytorch: 0 }); // below the frontier
    expect(kept['conv.lora_A']).toEqual({ analytic: 256, pytorch: 256 }); // the image
    expect(kept['conv.lora_B']).toEqual({ analytic: 256, pytorch: 256 }); // A's output, 2·16·2·4
    expect(kept['conv.lora']).toEqual({ analytic: 0, pytorch: 0 });
    expect(kept['bn']).toEqual({ analytic: 384 + 24, pytorch: 384 + 24 });
    // 256 + 256 + 408 + 384 (ReLU) + 24 (classifier input) + 16 (probabilities).
    expect(profile.memory.analytic.maxBytesByGroup.act).toBe(1344);
    expect(profile.memory.pytorch.maxBytesByGroup.act).toBe(1344);
    // A 36 + B 6 + classifier 8 trainable floats.
    expect(profile.params.trainable).toBe(50);
    expect(profile.memory.analytic.maxBytesByGroup).toMatchObject({ grad: 200, opt: 400 });
  });

  it('counts the adapters’ FLOPs and skips the frozen conv’s backward', () => {
    const { byKind } = profile.flops.correct;
    // Base 3456 forward only; A (3×3, 2→2): 2·2·16·2·18 = 2304 forward and weight gradient, no input
    // gradient (the image); B (1×1, 2→3): 2·2·16·3·2 = 384 for each of the three. Adam 13·42.
    expect(byKind.conv).toEqual(phases(3456 + 2304 + 384, 384, 2304 + 384, 13 * 42));
    // base + s·lora (2E) forward, s·dY (E) backward.
    // Pool 96/96. BN frozen: its sums go to the input gradient (3E + 4E).
    expect(byKind.elementwise).toEqual(phases(192 + 96, 96 + 96, 0));
    expect(byKind.batchnorm).toEqual(phases(768, 672, 0));
  });

  it('keeps the timeline invariants', () => expectTimelineInvariants(profile));
});

describe('GaLore on the tiny net (rank 2)', () => {
  const galore: OptimizerCostSpec = { kind: 'galore', rank: 2, updateProjGap: 200, oversampling: 8, powerIterations: 2 };
  const profile = profileSpec(tinyConvBnReluLinear('all'), { batch: BATCH, optimizer: galore });

  it('keeps projected moments and projectors for ≥2-D weights, Adam for the rest', () => {
    // conv (3 × 18): 2·2·18 + 3·2 = 78; linear (2 × 3): 2·2·3 + 2·2 = 16; γ, β, bias: 2·(3+3+2) = 16.
    expect(profile.memory.analytic.maxBytesByGroup.opt).toBe(4 * 110);
  });

  it('counts projections every step and the decomposition amortised', () => {
    // Both matrices are small enough for the exact small SVD (the sketch would span their rows).
    const refresh = topLeftSingularSubspaceCost(3, 18, 2).totalFlops + topLeftSingularSubspaceCost(2, 3, 2).totalFlops;
    expect(refresh).toBe(smallSvdFlops(3, 18) + smallSvdFlops(2, 3));
    const { correct } = profile.flops;
    // Pᵀ·G and P·N: 2 · 2·(small·large·r): conv 4·3·18·2 = 432, linear 4·2·3·2 = 48.
    expect(correct.byPhase.projection).toBeCloseTo(480 + refresh / 200, 9);
    expect(correct.byKind.decomposition.projection).toBe(correct.byPhase.projection);
    expect(correct.projectorRefresh).toBe(refresh);
    expect(correct.refreshEverySteps).toBe(200);
    // Adam on r × large (11 per element: its last scale and subtract run at full size), then the
    // full-size apply (2 per weight element): conv 11·36 + 2·54, linear 11·6 + 2·6; plain Adam
    // (13 per element) for the bias 2 and BN 6.
    expect(correct.byPhase.optimizer).toBe(504 + 78 + 13 * 8);
  });

  it('shows the projection workspace in the optimizer phase', () => {
    const lab = profile.memory.analytic;
    // Projected gradient and update (2 · 2·18) and the full-size update back (54).
    expect(pointAt(lab, 'optimizer', 'conv.weight')).toMatchObject({ temp: 4 * (72 + 54) });
    expect(pointAt(lab, 'optimizer', 'conv.weight (projector refresh)').temp).toBeGreaterThan(0);
    // PyTorch's GaLore: torch.linalg.svd of the 3 × 18 gradient, U 3·3 + S 3 + Vh 3·18.
    expect(pointAt(profile.memory.pytorch, 'optimizer', 'conv.weight (projector refresh)')).toMatchObject({ temp: 4 * (9 + 3 + 54) });
  });

  it('keeps the timeline invariants', () => expectTimelineInvariants(profile));
});

describe('a new classifier trained fully (trainHead) on the tiny net, r = 2, α = 4', () => {
  // The base spec: conv 54, BN γ, β 6 (+ running stats 6), classifier 6 + 2 = 74 floats (296 B).
  const base = tinyConvBnReluLinear('all');
  const options = methodOptions({ rank: 2, alpha: 4, trainHead: true, galore: { rank: 2, updateProjGap: 200, scale: 1 } });
  const groups = (method: MethodId, methodOpts = options) => {
    const profile = profileSpec(applyMethod(base, method, methodOpts), { batch: BATCH, optimizer: optimizerCostOfMethod(method, methodOpts) });
    expectTimelineInvariants(profile);
    const { param, grad, opt } = profile.memory.analytic.maxBytesByGroup;
    return { trainable: profile.params.trainable, param, grad, opt };
  };

  it('fft and bn_head: as without it (the classifier trains anyway)', () => {
    expect(groups('fft')).toEqual({ trainable: 68, param: 296, grad: 4 * 68, opt: 4 * 2 * 68 });
    // γ, β 6 + classifier 8.
    expect(groups('bn_head')).toEqual({ trainable: 14, param: 296, grad: 4 * 14, opt: 4 * 2 * 14 });
  });

  it('lora: A 36 + B 6 on the conv, none on the classifier, which trains in full (8)', () => {
    expect(groups('lora')).toEqual({ trainable: 50, param: 4 * (74 + 42), grad: 4 * 50, opt: 4 * 2 * 50 });
    // Without it: the classifier gets A 3·2 + B 2·2 and its own 8 floats freeze.
    expect(groups('lora', { ...options, trainHead: false })).toEqual({ trainable: 52, param: 4 * (74 + 52), grad: 4 * 52, opt: 4 * 2 * 52 });
  });

  it('dora: LoRA’s plus the conv’s 3 magnitudes', () => {
    expect(groups('dora')).toEqual({ trainable: 53, param: 4 * (74 + 45), grad: 4 * 53, opt: 4 * 2 * 53 });
  });

  it('galore: the classifier weight takes plain Adam; only the conv is projected', () => {
    // conv (3 × 18): 2·2·18 + 3·2 = 78; classifier weight 2·6 (plain); γ, β, bias 2·(3 + 3 + 2) = 16.
    expect(groups('galore')).toEqual({ trainable: 68, param: 296, grad: 4 * 68, opt: 4 * (78 + 12 + 16) });
    // Projected, the classifier weight (2 × 3) would hold 2·2·3 + 2·2 = 16 floats instead of 12.
    expect(groups('galore', { ...options, trainHead: false }).opt).toBe(4 * (78 + 16 + 16));
    const flops = profileSpec(applyMethod(base, 'galore', options), { batch: BATCH, optimizer: optimizerCostOfMethod('galore', options) }).flops.correct;
    // Adam (13 per element) on the classifier weight 6, its bias 2 and BN 6; the conv as projected.
    expect(flops.byPhase.optimizer).toBe(504 + 13 * 14);
    // Projections of the conv only: 4·3·18·2 = 432, plus its decomposition amortised.
    expect(flops.byPhase.projection).toBeCloseTo(432 + flops.projectorRefresh / 200, 9);
    expect(flops.projectorRefresh).toBe(topLeftSingularSubspaceCost(3, 18, 2).totalFlops);
  });

  it('optimizerCostOfMethod: the one method → optimizer mapping', () => {
    expect(optimizerCostOfMethod('lora', options)).toEqual({ kind: 'adam' });
    expect(optimizerCostOfMethod('bn_head', options, 'sgd')).toEqual({ kind: 'sgd' });
    expect(optimizerCostOfMethod('galore', options, 'sgd')).toMatchObject({ kind: 'galore', rank: 2, updateProjGap: 200, plainClassifier: true });
    expect(optimizerCostOfMethod('galore', methodOptions())).toMatchObject({ kind: 'galore', rank: 4, plainClassifier: false });
  });
});

describe('depthwise convs', () => {
  // C = 4 channels, 3×3 map, N = 1; every weight trains; the image needs no gradient.
  const profile = profileSpec(tinyDepthwise(4, 3), { batch: 1, optimizer: { kind: 'sgd' } });
  const dw = (convention: 'correct' | 'torchConvention'): Partial<Record<FlopKind, FlopsByPhase>> =>
    profile.flops[convention].perNode.find((n) => n.nodeId === 'dw')?.byKind ?? {};

  it('count N·C·k²·H′·W′ MACs for the weight gradient, as for the forward', () => {
    // 1·4·9·9 = 324 MACs; SGD 2 FLOPs per element of its 36 weights.
    expect(dw('correct').conv).toEqual(phases(648, 0, 648, 72));
  });

  it("multiply it by the groups in PyTorch's counter convention", () => {
    expect(dw('torchConvention').conv).toEqual(phases(648, 0, 4 * 648, 72));
    // The dense 1×1 conv is the same in both: 9·4·2 = 72 MACs.
    const pw = profile.flops.torchConvention.perNode.find((n) => n.nodeId === 'pw')?.byKind.conv;
    expect(pw).toEqual(phases(144, 144, 144, 16));
  });

  it('keeps the timeline invariants', () => expectTimelineInvariants(profile));
});
