import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import type { ModelSpec, NodeSpec, ParamSpec } from '../models/spec';
import { Adam } from './adam';
import { GaloreAdam, galoreCost, galoreMatrices, projectedSide } from './galore';
import { gaussianMatrix, leftSingularVectorsOfWide } from './linalg';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function param(name: string, shape: number[]): ParamSpec {
  return { name, shape, role: shape.length > 1 ? 'linear_weight' : 'linear_bias', trainable: true, init: { kind: 'zeros' }, fanIn: 1, fanOut: 1 };
}

/** A spec that only carries parameters and the layers owning them (what GaloreAdam reads): conv
 * weights (`convOutputs`) get a conv node, other 2-D parameters a linear node. */
function paramsOnlySpec(params: ParamSpec[], convOutputs: Record<string, number> = {}): ModelSpec {
  const convs: NodeSpec[] = Object.entries(convOutputs).map(([weight, outChannels]) => {
    const shape = params.find((p) => p.name === weight)?.shape as number[];
    return {
      op: 'conv2d', id: weight.replace('.weight', ''), inputs: [], outShape: [1, 1, outChannels],
      inChannels: shape[2], outChannels, kernel: shape[0], stride: 1, padding: 0, groups: shape[3] === 1 ? outChannels : 1, weight,
    };
  });
  const linears: NodeSpec[] = params
    .filter((p) => p.shape.length === 2 && !(p.name in convOutputs))
    .map((p) => ({ op: 'linear', id: p.name, inputs: [], outShape: [p.shape[1]], inFeatures: p.shape[0], outFeatures: p.shape[1], weight: p.name }));
  return {
    options: { model: 'mobilenet_v2', width: 1, resolution: 8, numClasses: 2, stem: 'imagenet' },
    nodes: [...convs, ...linears],
    params: Object.fromEntries(params.map((p) => [p.name, p])),
    output: '',
    classifier: [],
  };
}

function variables(spec: ModelSpec, seed: number): Map<string, tf.Variable> {
  return new Map(
    Object.values(spec.params).map((p, i) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      return [p.name, tf.variable(tf.tensor(gaussianMatrix(1, size, seed + i), p.shape))];
    }),
  );
}

async function stepBoth(optimizer: GaloreAdam, grads: Map<string, tf.Tensor>): Promise<void> {
  await optimizer.prepareStep(grads);
  optimizer.step(grads);
}

describe('GaLore orientation (the torch rule in the lab layout)', () => {
  it('projects the smaller side; on a tie, torch\'s column (K) side', () => {
    const spec = paramsOnlySpec(
      [param('conv.weight', [3, 3, 2, 5]), param('dw.weight', [3, 3, 16, 1]), param('fc.weight', [3, 8]), param('sq.weight', [4, 4]), param('fc.bias', [8])],
      { 'conv.weight': 5, 'dw.weight': 16 },
    );
    const matrices = galoreMatrices(spec);
    expect(matrices.get('conv.weight')).toEqual({ rows: 18, cols: 5, side: 'cols' }); // torch (5, 18): left, U
    expect(matrices.get('dw.weight')).toEqual({ rows: 9, cols: 16, side: 'rows' }); // torch (16, 9): right, V
    expect(matrices.get('fc.weight')).toEqual({ rows: 3, cols: 8, side: 'rows' }); // torch (8, 3): right, V
    expect(matrices.get('sq.weight')?.side).toBe('rows'); // torch rows ≥ cols → right
    expect(matrices.has('fc.bias')).toBe(false);
    expect(projectedSide(18, 5)).toBe('cols');
  });
});

describe('GaLore at full rank takes the same steps as Adam', () => {
  // Adam is elementwise, so it commutes with a projection only when the projector is a signed
  // permutation: gradients supported on the diagonal, whose singular vectors are the axes. (For a
  // general gradient a full-rank projector is a rotation, and Adam in a rotated basis differs.)
  it('when the gradients\' singular vectors are the coordinate axes (refresh included)', async () => {
    const spec = paramsOnlySpec([param('w', [6, 4]), param('b', [4])]);
    const galoreParams = variables(spec, 1);
    const adamParams = new Map([...galoreParams].map(([name, v]) => [name, tf.variable(v.clone())]));
    const galore = new GaloreAdam(spec, galoreParams, { lr: 0.05, rank: 4, updateProjGap: 2, scale: 1 });
    const adam = new Adam(adamParams, { lr: 0.05 });
    for (let step = 0; step < 5; step++) {
      // Distinct magnitudes keep the singular values' order (so the kept moments stay aligned).
      const diagonal = [4, -3, 2, -1].map((d, i) => d * (1 + 0.1 * step) + 0.05 * i * step);
      const w = new Float32Array(24);
      diagonal.forEach((d, i) => (w[i * 4 + i] = d));
      const grads = new Map<string, tf.Tensor>([
        ['w', tf.tensor2d(w, [6, 4])],
        ['b', tf.tensor1d([0.5, -1, 2, 0.1].map((v) => v * (step + 1)))],
      ]);
      await stepBoth(galore, grads);
      adam.step(grads);
      tf.dispose([...grads.values()]);
    }
    for (const name of ['w', 'b']) {
      const differenceTensor = tf.tidy(() => tf.max(tf.abs(tf.sub(galoreParams.get(name) as tf.Variable, adamParams.get(name) as tf.Variable))));
      const difference = (await differenceTensor.data())[0];
      differenceTensor.dispose();
      expect(difference, name).toBeLessThan(1e-5);
    }
    galore.dispose();
    adam.dispose();
    tf.dispose([...galoreParams.values(), ...adamParams.values()]);
  });
});

/** torch's (out, K) matrix of a lab [kh, kw, cin, out] gradient, K ordered (cin, kh, kw) as torch. */
function torchMatrix(lab: Float32Array, [kh, kw, cin, out]: number[]): Float64Array {
  const k = cin * kh * kw;
  const m = new Float64Array(out * k);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let c = 0; c < cin; c++) for (let o = 0; o < out; o++) {
    m[o * k + (c * kh + y) * kw + x] = lab[((y * kw + x) * cin + c) * out + o];
  }
  return m;
}

/** The authors' algorithm in float64 on torch's matrix (rows × cols), with an exact SVD. */
class ReferenceGalore {
  private projector: Float64Array | null = null;
  private expAvg: Float64Array | null = null;
  private expAvgSq: Float64Array | null = null;
  private steps = 0;
  constructor(
    private readonly rows: number,
    private readonly cols: number,
    private readonly rank: number,
    private readonly gap: number,
    private readonly lr: number,
    private readonly scale: number,
  ) {}

  /** The update to subtract from the weight (torch layout). */
  update(g: Float64Array): Float64Array {
    const { rows, cols, rank } = this;
    const right = rows >= cols; // torch: project with V's top-r rows, else U's top-r columns
    if (!this.projector || this.steps % this.gap === 0) {
      // right: V = left singular vectors of Gᵀ (cols × cols); left: U of G (rows × rows).
      const [m, n] = right ? [cols, rows] : [rows, cols];
      const wide = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) wide[i * n + j] = right ? g[j * cols + i] : g[i * cols + j];
      const { vectors } = leftSingularVectorsOfWide(wide, m, n);
      this.projector = new Float64Array(m * rank);
      for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) this.projector[i * rank + j] = vectors[i * m + j];
    }
    const p = this.projector;
    // R = G·P (rows × rank) or Pᵀ·G (rank × cols).
    const [lowRows, lowCols] = right ? [rows, rank] : [rank, cols];
    const low = new Float64Array(lowRows * lowCols);
    for (let i = 0; i < lowRows; i++) for (let j = 0; j < lowCols; j++) {
      let sum = 0;
      if (right) for (let k = 0; k < cols; k++) sum += g[i * cols + k] * p[k * rank + j];
      else for (let k = 0; k < rows; k++) sum += p[k * rank + i] * g[k * cols + j];
      low[i * lowCols + j] = sum;
    }
    this.expAvg ??= new Float64Array(low.length);
    this.expAvgSq ??= new Float64Array(low.length);
    const t = ++this.steps;
    const normalized = low.map((r, i) => {
      (this.expAvg as Float64Array)[i] = 0.9 * (this.expAvg as Float64Array)[i] + 0.1 * r;
      (this.expAvgSq as Float64Array)[i] = 0.999 * (this.expAvgSq as Float64Array)[i] + 0.001 * r * r;
      return (this.expAvg as Float64Array)[i] / (Math.sqrt((this.expAvgSq as Float64Array)[i]) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
    });
    const stepSize = (this.lr / (1 - 0.9 ** t)) * this.scale;
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
      let sum = 0;
      if (right) for (let k = 0; k < rank; k++) sum += normalized[i * rank + k] * p[j * rank + k];
      else for (let k = 0; k < rank; k++) sum += p[i * rank + k] * normalized[k * cols + j];
      out[i * cols + j] = stepSize * sum;
    }
    return out;
  }
}

describe('GaLore against the reference algorithm (float64, exact SVD)', () => {
  it('projects, keeps moments across a projector refresh, and projects back in the right layout', async () => {
    const convShape = [3, 3, 2, 5]; // torch (5, 18): project the left (output) side
    const fcShape = [3, 8]; // torch (8, 3): project the right (input) side
    const spec = paramsOnlySpec([param('conv.weight', convShape), param('fc.weight', fcShape)], { 'conv.weight': 5 });
    const params = variables(spec, 20);
    const initial = new Map(await Promise.all([...params].map(async ([name, v]) => [name, Float32Array.from(await v.data())] as const)));
    const options = { lr: 0.01, rank: 2, updateProjGap: 2, scale: 0.5 };
    const galore = new GaloreAdam(spec, params, options);
    const convReference = new ReferenceGalore(5, 18, 2, 2, options.lr, options.scale);
    const fcReference = new ReferenceGalore(8, 3, 2, 2, options.lr, options.scale);
    let convTorch = torchMatrix(initial.get('conv.weight') as Float32Array, convShape);
    // fc lab [in, out] is torch (out, in) transposed.
    let fcTorch = torchMatrix(initial.get('fc.weight') as Float32Array, [1, 1, 3, 8]);
    for (let step = 0; step < 5; step++) {
      const convGrad = gaussianMatrix(1, 90, 100 + step);
      const fcGrad = gaussianMatrix(1, 24, 200 + step);
      const grads = new Map<string, tf.Tensor>([
        ['conv.weight', tf.tensor(convGrad, convShape)],
        ['fc.weight', tf.tensor(fcGrad, fcShape)],
      ]);
      await stepBoth(galore, grads);
      tf.dispose([...grads.values()]);
      const convUpdate = convReference.update(torchMatrix(convGrad, convShape));
      const fcUpdate = fcReference.update(torchMatrix(fcGrad, [1, 1, 3, 8]));
      convTorch = convTorch.map((w, i) => w - convUpdate[i]);
      fcTorch = fcTorch.map((w, i) => w - fcUpdate[i]);
    }
    const convResult = torchMatrix((await (params.get('conv.weight') as tf.Variable).data()) as Float32Array, convShape);
    const fcResult = torchMatrix((await (params.get('fc.weight') as tf.Variable).data()) as Float32Array, [1, 1, 3, 8]);
    const maxError = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(maxError(convResult, convTorch)).toBeLessThan(1e-5);
    expect(maxError(fcResult, fcTorch)).toBeLessThan(1e-5);
    // The weights did move (5 steps of ~lr·scale).
    expect(maxError(convResult, torchMatrix(initial.get('conv.weight') as Float32Array, convShape))).toBeGreaterThan(1e-3);
    galore.dispose();
    tf.dispose([...params.values()]);
  });
});

describe('GaLore state', () => {
  it('reports projectors and projected moments; needs prepareStep when a refresh is due; leaks nothing', async () => {
    const spec = paramsOnlySpec([param('w', [20, 30]), param('b', [30])]);
    const params = variables(spec, 3);
    const galore = new GaloreAdam(spec, params, { lr: 0.01, rank: 3, updateProjGap: 3, scale: 1 });
    const grads = new Map<string, tf.Tensor>([
      ['w', tf.tensor(gaussianMatrix(20, 30, 1), [20, 30])],
      ['b', tf.ones([30])],
    ]);
    expect(() => galore.step(grads)).toThrow(/prepareStep/);
    await stepBoth(galore, grads);
    const tensorsAfterOne = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await stepBoth(galore, grads); // two refreshes among them
    expect(tf.memory().numTensors).toBe(tensorsAfterOne);
    expect(galore.stateEntries().map((e) => [e.param, e.slot, e.shape])).toEqual([
      ['w', 'projector', [20, 3]],
      ['w', 'exp_avg', [3, 30]],
      ['w', 'exp_avg_sq', [3, 30]],
      ['b', 'exp_avg', [30]],
      ['b', 'exp_avg_sq', [30]],
    ]);
    expect(galore.stateBytes()).toBe(4 * (60 + 90 + 90 + 30 + 30));
    expect(galore.stateBytes()).toBe(galoreCost(spec, { rank: 3, updateProjGap: 3, scale: 1 }).optimizerBytes);
    galore.dispose();
    tf.dispose([...grads.values(), ...params.values()]);
  });

  it('dynamic rank keeps σᵢ ≥ ε·σ₁ and resizes the moments at a refresh', async () => {
    const spec = paramsOnlySpec([param('w', [4, 10])]);
    const params = variables(spec, 8);
    const galore = new GaloreAdam(spec, params, { lr: 0.01, rank: 4, updateProjGap: 1, scale: 1, threshold: 0.5 });
    // Singular values (10, 6, 1, 0.1) then (10, 1, 0.1, 0.01): rank 2, then 1.
    const withSpectrum = (sigma: number[]) => {
      const w = new Float32Array(40);
      sigma.forEach((s, i) => (w[i * 10 + i] = s));
      return new Map<string, tf.Tensor>([['w', tf.tensor2d(w, [4, 10])]]);
    };
    const first = withSpectrum([10, 6, 1, 0.1]);
    await stepBoth(galore, first);
    expect(galore.stateEntries().map((e) => e.shape)).toEqual([[4, 2], [2, 10], [2, 10]]);
    const second = withSpectrum([10, 1, 0.1, 0.01]);
    await stepBoth(galore, second);
    expect(galore.stateEntries().map((e) => e.shape)).toEqual([[4, 1], [1, 10], [1, 10]]);
    galore.dispose();
    tf.dispose([...first.values(), ...second.values(), ...params.values()]);
  });
});

describe('galoreCost', () => {
  it('counts projection FLOPs per step and OPT bytes from the matrix shapes', () => {
    const spec = paramsOnlySpec([param('conv.weight', [3, 3, 16, 32]), param('bn.weight', [32])], { 'conv.weight': 32 });
    const cost = galoreCost(spec, { rank: 4, updateProjGap: 200, scale: 1 });
    // [144, 32]: the 32 side is projected; projector 32×4, moments 4×144 each.
    expect(cost.projected[0].matrix).toEqual({ rows: 144, cols: 32, side: 'cols' });
    expect(cost.optimizerBytes).toBe(4 * (32 * 4 + 2 * 4 * 144) + 4 * 2 * 32);
    expect(cost.projectionFlopsPerStep).toBe(2 * 2 * 144 * 32 * 4);
    expect(cost.decompositionFlopsPerStepAmortized).toBeCloseTo(cost.decompositionFlopsPerRefresh / 200);
    expect(cost.plainParams).toEqual(['bn.weight']);
  });
});
