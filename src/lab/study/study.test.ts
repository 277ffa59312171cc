// The study's statistics and verdicts on hand-made numbers: the interval against a worked example,
// each verdict rule on cells built to land on each side of its threshold, and a report that does
// not follow from its runs refused.
import { describe, expect, it } from 'vitest';
import type { MethodId } from '../../core/ids';
import { parseStudyReport, STUDY_SCHEMA, summariseStudy, type StudyReport, type StudyRun } from './report';
import { meanInterval, pairedDifference, tQuantile975 } from './stats';

describe('the 95% Student-t interval', () => {
  it('matches a worked example: 0.80, 0.85, 0.90 → 0.85 ± 4.303 · 0.05 / √3', () => {
    // By hand: s = 0.05, t(0.975, 2) = 4.303 (table), half-width = 4.303 × 0.05 / 1.7320508 = 0.124217.
    const interval = meanInterval([0.8, 0.85, 0.9]);
    expect(interval.mean).toBeCloseTo(0.85, 12);
    expect(interval.sd).toBeCloseTo(0.05, 12);
    expect(interval.low).toBeCloseTo(0.725783, 6);
    expect(interval.high).toBeCloseTo(0.974217, 6);
    expect(tQuantile975(9)).toBe(2.262);
    expect(tQuantile975(200)).toBe(1.96);
  });

  it('pairs differences by seed; one value has no spread', () => {
    expect(pairedDifference([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])).toMatchObject({ mean: expect.closeTo(0.1, 12), sd: expect.closeTo(0, 12), n: 3 });
    expect(meanInterval([0.3])).toEqual({ mean: 0.3, low: 0.3, high: 0.3, sd: 0, n: 1 });
    expect(() => meanInterval([])).toThrow(/no values/);
  });
});

const BYTES: Record<MethodId, number> = { fft: 100, bn_head: 40, lora: 60, dora: 80, galore: 90 };

function run(method: MethodId, task: string, seed: number, finalAccuracy: number, curve: number[] = [finalAccuracy]): StudyRun {
  return {
    cell: { model: 'mobilenet_v2', method, task, rank: method === 'lora' || method === 'dora' || method === 'galore' ? 4 : null },
    seed,
    baselineAccuracy: 0.1,
    cleanAccuracy: 0.9,
    evalCurve: curve.map((accuracy, i) => ({ epoch: i + 1, step: 10 * (i + 1), accuracy, loss: 1 })),
    finalAccuracy,
    bestAccuracy: Math.max(0.1, ...curve),
    steps: 10 * curve.length,
    stepsPerEpoch: 10,
    peakBytes: BYTES[method],
    peakBytesByGroup: { param: BYTES[method], grad: 0, act: 0, opt: 0, temp: 0 },
    flopsPerStep: 1,
    flopsByPhase: { forward: 1, backward_input: 0, backward_weight: 0, optimizer: 0, projection: 0 },
    timing: { wallSeconds: 1, trainSeconds: 1, imagesPerSecond: 1 },
    failure: null,
  };
}

/** Three seeds of a method whose accuracy is `mean` plus a seed effect shared by every method. */
const seeds = (method: MethodId, task: string, mean: number, jitter = [0, 0.004, -0.004], curves?: number[][]) =>
  [0, 1, 2].map((seed) => run(method, task, seed, mean + [0.01, -0.01, 0][seed] + jitter[seed], curves?.[seed]));

const verdictOf = (runs: StudyRun[], claim: string) => summariseStudy(runs).verdicts.find((v) => v.claimId === claim)!;

describe('verdicts', () => {
  it('BN+H far behind on impulse noise and not on brightness: reproduced; not far behind: contradicted; noisy: inconclusive', () => {
    const far = [...seeds('fft', 'impulse_noise:5', 0.8), ...seeds('bn_head', 'impulse_noise:5', 0.5), ...seeds('fft', 'brightness:5', 0.9), ...seeds('bn_head', 'brightness:5', 0.89)];
    expect(verdictOf(far, 'bn_head_hard_shift').verdict).toBe('reproduced');
    const near = [...seeds('fft', 'impulse_noise:5', 0.8), ...seeds('bn_head', 'impulse_noise:5', 0.78)];
    expect(verdictOf(near, 'bn_head_hard_shift')).toMatchObject({ verdict: 'contradicted', evidence: [expect.stringMatching(/FFT − BN\+H = 2\.0 points \[95% CI .*; 3 seeds\] \(claim: > 10\.0\)/)] });
    const noisy = [...seeds('fft', 'impulse_noise:5', 0.8), ...seeds('bn_head', 'impulse_noise:5', 0.68, [0.1, -0.1, 0])];
    expect(verdictOf(noisy, 'bn_head_hard_shift').verdict).toBe('inconclusive');
  });

  it('DoRA no better than LoRA: reproduced within 2 points, contradicted when clearly better', () => {
    expect(verdictOf([...seeds('lora', 'impulse_noise:5', 0.7), ...seeds('dora', 'impulse_noise:5', 0.705)], 'dora_no_accuracy_gain').verdict).toBe('reproduced');
    expect(verdictOf([...seeds('lora', 'impulse_noise:5', 0.7), ...seeds('dora', 'impulse_noise:5', 0.8)], 'dora_no_accuracy_gain').verdict).toBe('contradicted');
    expect(verdictOf(seeds('lora', 'impulse_noise:5', 0.7), 'dora_no_accuracy_gain').verdict).toBe('not measured');
  });

  it('GaLore close to FFT and faster to the target than LoRA: reproduced; slower: contradicted', () => {
    const fast = [[0.75, 0.8], [0.75, 0.8], [0.75, 0.8]];
    const slow = [[0.3, 0.8], [0.4, 0.8], [0.35, 0.8]];
    const runs = [...seeds('fft', 'impulse_noise:5', 0.8, undefined, fast), ...seeds('galore', 'impulse_noise:5', 0.8, undefined, fast), ...seeds('lora', 'impulse_noise:5', 0.8, undefined, slow)];
    expect(verdictOf(runs, 'galore_close_to_fft').verdict).toBe('reproduced');
    const swapped = [...seeds('fft', 'impulse_noise:5', 0.8, undefined, fast), ...seeds('galore', 'impulse_noise:5', 0.8, undefined, slow), ...seeds('lora', 'impulse_noise:5', 0.8, undefined, fast)];
    expect(verdictOf(swapped, 'galore_close_to_fft').verdict).toBe('contradicted');
  });

  it('LoRA the best trade-off: cheaper methods clearly worse, costlier ones not clearly better', () => {
    const good = [...seeds('bn_head', 'impulse_noise:5', 0.5), ...seeds('lora', 'impulse_noise:5', 0.7), ...seeds('fft', 'impulse_noise:5', 0.705)];
    expect(verdictOf(good, 'lora_best_tradeoff').verdict).toBe('reproduced');
    const bad = [...seeds('bn_head', 'impulse_noise:5', 0.75), ...seeds('lora', 'impulse_noise:5', 0.7)];
    expect(verdictOf(bad, 'lora_best_tradeoff').verdict).toBe('contradicted');
  });
});

describe('parseStudyReport', () => {
  const runs = [...seeds('fft', 'impulse_noise:5', 0.8), ...seeds('bn_head', 'impulse_noise:5', 0.5)];
  const report: StudyReport = { schema: STUDY_SCHEMA, createdAt: '2026-12-05T00:00:00Z', backend: 'wasm', device: 'node-wasm', command: 'test', settings: { width: 0.35, resolution: 32, stem: 'cifar', trainImages: 8, epochs: 1, batchSize: 8, learningRate: 1e-3, patience: 10, alpha: 4, dataSource: 'synthetic', baseWeights: 'shipped' }, runs, ...summariseStudy(runs) };

  it('accepts a report whose cells and verdicts follow from its runs (as JSON round-trips it)', () => {
    expect(parseStudyReport(JSON.parse(JSON.stringify(report)))).toEqual({ report: JSON.parse(JSON.stringify(report)) });
  });

  it('refuses another schema, a truncated one, and edited numbers, saying why', () => {
    expect(parseStudyReport({ ...report, schema: 'peft-edge-lab/study@0' })).toEqual({ error: expect.stringMatching(/^schema "peft-edge-lab\/study@0" is not peft-edge-lab\/study@1/) });
    expect(parseStudyReport({ ...report, runs: report.runs.slice(1) })).toEqual({ error: 'its cells do not follow from its runs (edited or truncated)' });
    const edited = structuredClone(report);
    edited.cells[0].finalAccuracy.mean = 0.99;
    expect(parseStudyReport(edited)).toEqual({ error: 'its cells do not follow from its runs (edited or truncated)' });
    const verdict = structuredClone(report);
    verdict.verdicts[0].verdict = verdict.verdicts[0].verdict === 'reproduced' ? 'contradicted' : 'reproduced';
    expect(parseStudyReport(verdict)).toEqual({ error: 'its verdicts do not follow from its cells (edited)' });
    const badRun = structuredClone(report);
    badRun.runs[0].finalAccuracy = 7;
    expect(parseStudyReport(badRun)).toEqual({ error: 'run 1: an accuracy is not in [0, 1]' });
    expect(parseStudyReport('[')).toEqual({ error: 'not a JSON object' });
  });
});

describe('cells the study did not make (a ViT, a quantized base)', () => {
  const on = (runs: StudyRun[], cell: Partial<StudyRun['cell']>) => runs.map((r) => ({ ...r, cell: { ...r.cell, ...cell } }));

  it('are cells of their own, named by model and base, and never enter a verdict', () => {
    const cnn = [...seeds('fft', 'impulse_noise:5', 0.8), ...seeds('bn_head', 'impulse_noise:5', 0.5)];
    // On the ViT, LN+head is as good as FFT: were it judged, the claim would read contradicted.
    const vit = on([...seeds('fft', 'impulse_noise:5', 0.8), ...seeds('bn_head', 'impulse_noise:5', 0.8)], { model: 'vit_tiny' });
    const quantized = on(seeds('lora', 'impulse_noise:5', 0.2), { frozenWeights: 'nf4' });
    const { cells, verdicts } = summariseStudy([...cnn, ...vit, ...quantized, ...seeds('lora', 'impulse_noise:5', 0.7)]);
    expect(cells.map((c) => `${c.model}/${c.method}${c.frozenWeights ? `@${c.frozenWeights}` : ''}`)).toEqual([
      'mobilenet_v2/fft',
      'mobilenet_v2/bn_head',
      'mobilenet_v2/lora',
      'mobilenet_v2/lora@nf4',
      'vit_tiny/fft',
      'vit_tiny/bn_head',
    ]);
    expect(verdicts).toEqual(summariseStudy([...cnn, ...seeds('lora', 'impulse_noise:5', 0.7)]).verdicts);
    expect(verdictOf(vit, 'bn_head_hard_shift').verdict).toBe('not measured');
  });

  it('read back from JSON, and a base that is no format is refused', () => {
    const runs = on(seeds('lora', 'brightness:5', 0.7), { frozenWeights: 'int8' });
    const settings = { width: 0.35, resolution: 32, stem: 'cifar', trainImages: 8, epochs: 1, batchSize: 8, learningRate: 1e-3, patience: 10, alpha: 4, dataSource: 'synthetic', baseWeights: 'shipped' };
    const report: StudyReport = { schema: STUDY_SCHEMA, createdAt: '2026-12-05T00:00:00Z', device: 'test', command: 'test', backend: 'wasm', settings, runs, ...summariseStudy(runs) };
    expect('report' in parseStudyReport(JSON.parse(JSON.stringify(report)))).toBe(true);
    const bad = { ...report, runs: on(runs, { frozenWeights: 'int4' as 'int8' }) };
    expect(parseStudyReport(bad)).toEqual({ error: 'run 1: its frozen weights are neither int8 nor nf4' });
  });
});
