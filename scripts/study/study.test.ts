// `npm run study` loses at most the run in progress: a study stopped after its first run and then
// resumed gives the same results (everything but timings) as one that ran straight through — which
// also shows that the same seed on the same backend gives the same accuracy.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resultsOf, STUDY_SCHEMA, summariseStudy, type StudyReport, type StudyRun } from '../../src/lab/study/report';
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
