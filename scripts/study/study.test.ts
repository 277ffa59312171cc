// `npm run study` loses at most the run in progress: a study stopped after its first run and then
// resumed gives the same results (everything but timings) as one that ran straight through — which
// also shows that the same seed on the same backend gives the same accuracy.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cellKeyString, resultsOf, STUDY_SCHEMA, summariseStudy, type StudyReport, type StudyRun } from '../../src/lab/study/report';
import { renderStudyMarkdown } from './output';
import { parseStudyArgs, planRuns, shardRuns, STUDY_SETTINGS, UsageError, type StudyPlan } from './plan';
import { runPlanned } from './runner';
import { useWasmBackend } from '../cli/wasm';

beforeAll(async () => {
  await useWasmBackend();
});

const GRID: Pick<StudyPlan, 'models' | 'methods' | 'tasks' | 'ranks' | 'seeds' | 'settings'> = {
  models: ['mobilenet_v2'],
  methods: ['bn_head', 'lora'],
  tasks: ['impulse_noise:5'],
  ranks: [2],
  seeds: [0, 1],
  settings: { ...STUDY_SETTINGS, trainImages: 16, epochs: 1, batchSize: 8 },
};
const options = (resume: boolean, maxRuns: number | null) => ({ settings: GRID.settings, backend: 'wasm' as const, resume, maxRuns });
const report = (runs: StudyRun[]): StudyReport => ({ schema: STUDY_SCHEMA, createdAt: '', backend: 'wasm', device: 'node-wasm', command: '', settings: GRID.settings, runs, ...summariseStudy(runs) });

describe('a study', () => {
  it('resumed after a stop gives the results of an uninterrupted one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-'));
    const planned = planRuns(GRID);
    expect(planned.map((run) => `${run.cell.method}/${run.seed}`)).toEqual(['bn_head/0', 'bn_head/1', 'lora/0', 'lora/1']);
    const straight = await runPlanned(planned, options(false, null), join(dir, 'a.jsonl'), () => {});

    const stopped = await runPlanned(planned, options(false, 1), join(dir, 'b.jsonl'), () => {});
    expect(stopped).toHaveLength(1);
    // A second start without --resume is refused; one with other settings too.
    await expect(runPlanned(planned, options(false, null), join(dir, 'b.jsonl'), () => {})).rejects.toThrow(/--resume/);
    await expect(runPlanned(planned, { ...options(true, null), settings: { ...GRID.settings, epochs: 2 } }, join(dir, 'b.jsonl'), () => {})).rejects.toThrow(/other settings/);
    // A line cut off by the kill is ignored.
    const partial = readFileSync(join(dir, 'b.jsonl'), 'utf8');
    expect(partial.trim().split('\n')).toHaveLength(2);
    let resumedRuns = 0;
    const resumed = await runPlanned(planned, options(true, null), join(dir, 'b.jsonl'), () => resumedRuns++);
    expect(resumedRuns).toBe(3);
    expect(resultsOf(report(resumed))).toEqual(resultsOf(report(straight)));
    expect(straight.every((run) => run.failure === null)).toBe(true);
  }, 300_000);

  it('shards split the grid into disjoint parts that cover it', () => {
    const all = planRuns({ ...GRID, methods: ['fft', 'bn_head', 'lora', 'dora', 'galore'], seeds: [0, 1, 2] });
    const parts = [1, 2, 3].map((index) => shardRuns(all, { index, count: 3 }));
    expect(parts.flat().length).toBe(all.length);
    expect(new Set(parts.flat()).size).toBe(all.length);
  });

  it('refuses bad flags naming what is valid', () => {
    expect(() => parseStudyArgs(['--tasks', 'fog:9'])).toThrow(UsageError);
    expect(() => parseStudyArgs(['--methods', 'lora,nope'])).toThrow(/each must be one of fft, bn_head, lora, dora, galore/);
    expect(() => parseStudyArgs(['--shard', '3/2'])).toThrow(/1 ≤ i ≤ n/);
    expect(() => parseStudyArgs(['--frobnicate'])).toThrow(/unknown flag --frobnicate/);
    const quick = parseStudyArgs(['--quick']);
    expect(quick).toMatchObject({ mode: 'run', models: ['mobilenet_v2'], tasks: ['brightness:5', 'impulse_noise:5'], ranks: [4], seeds: [0, 1, 2], parallel: 2 });
    expect(planRuns(quick as StudyPlan)).toHaveLength(30);
  });

  it('--frozen-weights makes a cell per base for the methods that keep it frozen (FFT and GaLore stay fp32); the report names the base', async () => {
    const plan = parseStudyArgs(['--methods', 'fft,lora,galore', '--frozen-weights', 'fp32,int8,nf4', '--seeds', '0', '--tasks', 'impulse_noise:5']) as StudyPlan;
    expect(plan.frozenWeights).toEqual(['fp32', 'int8', 'nf4']);
    const planned = planRuns(plan);
    expect(planned.map((run) => cellKeyString(run.cell))).toEqual([
      'mobilenet_v2/fft/impulse_noise:5',
      'mobilenet_v2/lora/impulse_noise:5/r4',
      'mobilenet_v2/lora/impulse_noise:5/r4@int8',
      'mobilenet_v2/lora/impulse_noise:5/r4@nf4',
      'mobilenet_v2/galore/impulse_noise:5/r4',
    ]);
    expect(planned.map((run) => run.config.frozenWeights)).toEqual(['fp32', 'fp32', 'int8', 'nf4', 'fp32']);
    expect((parseStudyArgs(['--quick']) as StudyPlan).frozenWeights).toEqual(['fp32']);
    expect(() => parseStudyArgs(['--frozen-weights', 'fp16'])).toThrow(/each must be one of fp32, int8, nf4/);
    expect(() => parseStudyArgs(['--methods', 'fft,galore', '--frozen-weights', 'nf4'])).toThrow(/run on fp32 only/);

    // One LoRA run on each of fp32 and NF4: the NF4 run trains on the quantized base (a smaller
    // peak), and its cell is named by its base in the report, apart from the fp32 one.
    const tiny = planRuns({ ...GRID, methods: ['lora'], seeds: [0], frozenWeights: ['fp32', 'nf4'] });
    const runs = await runPlanned(tiny, options(false, null), join(mkdtempSync(join(tmpdir(), 'study-')), 'q.jsonl'), () => {});
    expect(runs.every((run) => run.failure === null)).toBe(true);
    const cells = report(runs).cells;
    expect(cells.map((cell) => cell.frozenWeights)).toEqual([undefined, 'nf4']);
    expect(cells[1].peakBytes).toBeLessThan(cells[0].peakBytes);
    expect(renderStudyMarkdown(report(runs), 'q')).toContain('LoRA r=2, nf4 base');
  }, 300_000);

  it('takes ViT-Tiny at the lab’s ViT size (or --depth / --vit-width), the CNNs at theirs', () => {
    const plan = parseStudyArgs(['--models', 'vit_tiny,mobilenet_v2', '--methods', 'lora', '--depth', '2']) as StudyPlan;
    expect(plan.settings.vit).toEqual({ width: 0.25, depth: 2 });
    const byModel = Object.fromEntries(planRuns(plan).map((r) => [r.cell.model, r.config]));
    expect(byModel.vit_tiny).toMatchObject({ model: 'vit_tiny', width: 0.25, depth: 2, resolution: 32, stem: 'cifar' });
    expect(byModel.mobilenet_v2).toMatchObject({ model: 'mobilenet_v2', width: STUDY_SETTINGS.width });
    expect((parseStudyArgs(['--quick']) as StudyPlan).settings.vit).toBeUndefined();
    expect(() => parseStudyArgs(['--depth', '2'])).toThrow(/add vit_tiny to --models/);
    expect(() => parseStudyArgs(['--models', 'vit_tiny', '--depth', '13'])).toThrow(/depth/i);
  });
});
