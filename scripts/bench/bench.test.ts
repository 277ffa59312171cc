import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { evaluateClaim, evaluateClaims, CLAIMS, type Basis, type CellCosts } from '../../src/lab/costClaims';
import { parseBenchArgs, soakPlan, UsageError, type RunPlan } from './flags';
import { renderMarkdown } from './markdown';
import { cellId, NEW_OPTION_CELLS } from './cells';
import { planJobs, shardJobs } from './grid';
import { deviceSlug, findShardFiles, mergeShardReports, REPORT_SCHEMA, type BenchReport, type CellRecord } from './report';
import { torchCellFor, TORCH_SCHEMA, type TorchCell, type TorchTimings } from './torch';
import { chooseVulkanIcd, ICD_DIRS, noAdapterMessage, NVIDIA_DRIVER_ICD, SWIFTSHADER_ICD, type IcdProbe } from './vulkanIcd';

function runPlan(argv: string[]): RunPlan {
  const plan = parseBenchArgs(argv);
  if (plan.mode !== 'grid' && plan.mode !== 'core-only') throw new Error(`expected a run plan, got ${plan.mode}`);
  return plan;
}

describe('bench flags', () => {
  it('--quick is issue 3\'s setting with every method at rank 4, and flags override it', () => {
    const plan = runPlan(['--quick', '--steps', '7']);
    expect(plan.models).toEqual(['mobilenet_v2']);
    expect(plan.methods).toEqual(['fft', 'bn_head', 'lora', 'dora', 'galore']);
    expect(plan.ranks).toEqual([4]);
    expect(plan.settings).toMatchObject({ width: 0.35, resolution: 32, stem: 'cifar', batch: 8, steps: 7 });
    expect(plan.baseline).toBe(true);
    expect(plan.uiRun).toBe(true);
    expect(runPlan(['--quick', '--no-ui-run']).uiRun).toBe(false);
    expect(runPlan(['--quick', '--shard', '2/2']).uiRun).toBe(false);
  });

  it('rejects bad values with a message naming what is valid', () => {
    const cases: [string[], RegExp][] = [
      [['--models', 'mobilenet_v2,vgg'], /valid: mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, resnet18/],
      [['--methods', 'adapter'], /valid: fft, bn_head, lora, dora, galore/],
      [['--ranks', '0'], /--ranks must be an integer >= 1/],
      [['--width', '0'], /--width must be a number > 0/],
      [['--width=-1'], /--width must be a number > 0/],
      [['--resolution', '4'], /--resolution must be an integer >= 8/],
      [['--shard', '0/2'], /--shard must be i\/n/],
      [['--stem', 'big'], /valid: imagenet, cifar/],
      [['--nope'], /Valid flags: .*--models/],
      [['--quick', '--core-only'], /choose one/],
      [['--core-only', '--methods', 'lora'], /does not apply/],
      [['--merge', '--quick'], /--merge takes only/],
    ];
    for (const [argv, message] of cases) expect(() => parseBenchArgs(argv), argv.join(' ')).toThrow(message);
    expect(() => parseBenchArgs(['--ranks', 'x'])).toThrow(UsageError);
  });

  it('--merge takes shard files; --help is its own mode', () => {
    expect(parseBenchArgs(['--merge', 'a.json', 'b.json', '--out', 'o'])).toEqual({ mode: 'merge', inputs: ['a.json', 'b.json'], outDir: 'o', torchFile: null });
    expect(parseBenchArgs(['--merge', 'r.json', '--torch', 't.json'])).toMatchObject({ mode: 'merge', inputs: ['r.json'], torchFile: 't.json' });
    expect(parseBenchArgs(['--help'])).toEqual({ mode: 'help' });
  });

  it('--node-webgpu runs any preset in Node; --torch names PyTorch\'s timings', () => {
    expect(runPlan(['--quick']).nodeWebgpu).toBe(false);
    for (const preset of [[], ['--quick'], ['--core-only']]) {
      const plan = runPlan([...preset, '--node-webgpu']);
      expect(plan.nodeWebgpu).toBe(true);
      expect(plan.models).toEqual(runPlan(preset).models);
    }
    expect(runPlan(['--quick', '--node-webgpu', '--torch', 'torch.json']).torchFile).toBe('torch.json');
    expect(runPlan(['--quick']).torchFile).toBeNull();
    expect(() => parseBenchArgs(['--torch'])).toThrow(UsageError);
  });
});

describe('bench grid and shards', () => {
  it('puts the lab-vs-tf.layers pair first, in place of the mobilenet_v2 fft cell', () => {
    const jobs = planJobs(runPlan(['--quick']));
    expect(jobs.map((job) => `${job.kind}:${cellId(job.cell)}`)).toEqual([
      'core_vs_tf_layers:mobilenet_v2/fft',
      'core:mobilenet_v2/bn_head',
      'core:mobilenet_v2/lora/r4',
      'core:mobilenet_v2/dora/r4',
      'core:mobilenet_v2/galore/r4',
      // Issue 19's options, each a cell of its own size.
      'core:vit_tiny/lora/r4@w0.25,d4',
      'core:vit_tiny/fft@w0.25,d4',
      'core:mobilenet_v2/lora/r4@int8',
      'core:mobilenet_v2/lora/r4@nf4',
    ]);
    expect(planJobs(runPlan(['--quick', '--no-baseline']))[0].kind).toBe('core');
    expect(planJobs(runPlan(['--core-only'])).map((job) => job.kind)).toEqual(['core_vs_tf_layers']);
  });

  it('--new-options runs only the cells of issue 19’s options, at --quick’s size; a grid of one’s own has none', () => {
    const plan = runPlan(['--new-options']);
    expect(planJobs(plan).map((job) => `${job.kind}:${cellId(job.cell)}`)).toEqual([
      'core:vit_tiny/lora/r4@w0.25,d4',
      'core:vit_tiny/fft@w0.25,d4',
      'core:mobilenet_v2/lora/r4@int8',
      'core:mobilenet_v2/lora/r4@nf4',
    ]);
    expect(planJobs(plan).slice(2).map((job) => job.cell.frozenWeights)).toEqual(['int8', 'nf4']);
    expect(runPlan(['--quick']).extraCells).toEqual(NEW_OPTION_CELLS);
    expect(plan.settings).toMatchObject({ resolution: 32, stem: 'cifar', batch: 8 });
    expect(plan).toMatchObject({ baseline: false, uiRun: false, soakSteps: 0 });
    expect(() => parseBenchArgs(['--new-options', '--models', 'resnet18'])).toThrow(/--new-options runs its own cells: not with --models/);
    expect(runPlan(['--quick', '--models', 'resnet18']).extraCells).toEqual([]);
    // --depth sizes the grid's ViT.
    expect(planJobs(runPlan(['--models', 'vit_tiny,resnet18', '--methods', 'fft', '--depth', '2'])).map((job) => cellId(job.cell))).toEqual(['resnet18/fft', 'vit_tiny/fft@d2']);
    expect(() => parseBenchArgs(['--depth', '13'])).toThrow(/at most 12/);
    // The full grid has the ViT at its reference size.
    expect(planJobs(runPlan([])).map((job) => cellId(job.cell))).toEqual(expect.arrayContaining(['vit_tiny/lora/r4', 'vit_tiny/fft']));
  });

  it('shards partition the job list: disjoint, complete, deterministic', () => {
    const jobs = planJobs(runPlan(['--ranks', '4,8']));
    const shards = [1, 2, 3].map((index) => shardJobs(jobs, { index, count: 3 }).map((job) => cellId(job.cell)));
    const all = shards.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(jobs.map((job) => cellId(job.cell)).sort());
    expect(shardJobs(jobs, { index: 2, count: 3 }).map((job) => cellId(job.cell))).toEqual(shards[1]);
  });
});

describe('Vulkan driver for --node-webgpu', () => {
  const probe = (files: string[]): IcdProbe => ({
    exists: (path) => files.includes(path),
    list: (dir) => files.filter((path) => path.startsWith(`${dir}/`)).map((path) => path.slice(dir.length + 1)),
  });
  // This machine: Mesa's manifests (lavapipe, and GPU drivers for hardware it lacks), no /dev/dri.
  const mesa = ['lvp_icd.x86_64.json', 'intel_icd.x86_64.json', 'radeon_icd.x86_64.json'].map((name) => `${ICD_DIRS[2]}/${name}`);

  it('keeps what the caller set', () => {
    for (const name of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES']) {
      const choice = chooseVulkanIcd({ [name]: '/x.json' }, probe([...mesa, SWIFTSHADER_ICD]));
      expect(choice).toMatchObject({ source: 'environment', env: {} });
      expect(choice.note).toContain(`${name}=/x.json`);
    }
  });

  it('without a GPU device, Chromium\'s SwiftShader, never lavapipe (which Dawn refuses)', () => {
    expect(chooseVulkanIcd({}, probe([...mesa, SWIFTSHADER_ICD]))).toMatchObject({ source: 'swiftshader', env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD } });
    const none = chooseVulkanIcd({}, probe(mesa));
    expect(none).toMatchObject({ source: 'system', env: {} });
    expect(noAdapterMessage(none)).toMatch(/Set VK_ICD_FILENAMES \(or VK_DRIVER_FILES\).*vk_swiftshader_icd\.json.*libvulkan/);
  });

  it('a GPU device with its driver on the loader\'s path: the loader\'s own search', () => {
    expect(chooseVulkanIcd({}, probe([...mesa, SWIFTSHADER_ICD, '/dev/dri/renderD128']))).toMatchObject({ source: 'gpu', env: {} });
    expect(chooseVulkanIcd({}, probe([SWIFTSHADER_ICD, '/dev/nvidia0', `${ICD_DIRS[0]}/nvidia_icd.json`]))).toMatchObject({ source: 'gpu', env: {} });
    // A render node with only software drivers is no GPU Dawn can use.
    expect(chooseVulkanIcd({}, probe([`${ICD_DIRS[2]}/lvp_icd.x86_64.json`, SWIFTSHADER_ICD, '/dev/dri/renderD128'])).source).toBe('swiftshader');
  });

  it('an NVIDIA device whose driver keeps its manifest outside the path (the lent machines): that manifest', () => {
    expect(chooseVulkanIcd({}, probe([...mesa, '/dev/nvidia0', NVIDIA_DRIVER_ICD]))).toMatchObject({ source: 'nvidia', env: { VK_DRIVER_FILES: NVIDIA_DRIVER_ICD } });
  });
});

describe('PyTorch step times beside the cells', () => {
  const torchCell = (overrides: Partial<TorchCell>): TorchCell => ({
    model: 'mobilenet_v2', method: 'lora', rank: 4, width: 0.35, resolution: 32, stem: 'cifar', numClasses: 10, batch: 8,
    warmup: 1, steps: 3, medianStepMs: 5, stepMs: [5], trainableParams: 1, implementation: 'torch', error: null, ...overrides,
  });
  const timings = (cells: TorchCell[]): TorchTimings => ({
    schema: TORCH_SCHEMA, createdAt: '', deviceKind: 'cuda', device: 'GPU', torchVersion: '', torchvisionVersion: '', peftVersion: null, threads: 1, cells,
  });
  const labCell = {
    id: 'mobilenet_v2/lora/r4', model: 'mobilenet_v2', method: 'lora', rank: 4, batch: 8,
    modelOptions: { model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' },
  } as CellRecord;

  it('joins on network, method, rank and batch, nothing less', () => {
    const match = torchCell({ medianStepMs: 7 });
    expect(torchCellFor(timings([torchCell({ rank: 8 }), match]), labCell)).toBe(match);
    // PyTorch's step is float32: a cell on a quantized base has no twin there.
    expect(torchCellFor(timings([match]), { ...labCell, frozenWeights: 'nf4' })).toBeUndefined();
    for (const other of [{ batch: 4 }, { width: 1 }, { resolution: 64 }, { stem: 'imagenet' as const }, { numClasses: 2 }, { method: 'dora' as const }]) {
      expect(torchCellFor(timings([torchCell(other)]), labCell), JSON.stringify(other)).toBeUndefined();
    }
  });
});

describe('study claims', () => {
  const cell = (model: CellCosts['model'], method: CellCosts['method'], peakBytes: number, rank: number | null = null): CellCosts => ({
    model, method, rank, peakBytes, torchFlops: null, galoreUpdateProjGap: null,
  });
  const bnHead = CLAIMS.find((claim) => claim.id === 'bn_head_memory')!;
  const basis = (cells: CellCosts[]): Basis => ({ id: 'analytic_run', label: 'test', cells });

  it('reproduced when every value lies in the widened range, contradicted otherwise, naming the value', () => {
    expect(evaluateClaim(bnHead, basis([cell('resnet18', 'fft', 100), cell('resnet18', 'bn_head', 40)])).verdict).toBe('reproduced');
    const contradicted = evaluateClaim(bnHead, basis([cell('mobilenet_v2', 'fft', 100), cell('mobilenet_v2', 'bn_head', 80)]));
    expect(contradicted.verdict).toBe('contradicted');
    expect(contradicted.reason).toContain('mobilenet_v2 bn_head 20.0%');
  });

  it('not comparable when the cells it needs are missing, saying which', () => {
    const evaluation = evaluateClaim(bnHead, basis([cell('mobilenet_v2', 'bn_head', 80)]));
    expect(evaluation.verdict).toBe('not comparable');
    expect(evaluation.reason).toContain('mobilenet_v2 fft');
  });

  it('leaves cells on a quantized base out of every verdict, saying so where nothing else is left', () => {
    const nf4 = (c: CellCosts): CellCosts => ({ ...c, frozenWeights: 'nf4' });
    const fp32 = [cell('resnet18', 'fft', 100), cell('resnet18', 'bn_head', 40)];
    // A quantized bn_head of 80 (a 20% saving) would contradict the claim if it counted.
    expect(evaluateClaim(bnHead, basis([...fp32, nf4(cell('resnet18', 'bn_head', 80))]))).toEqual(evaluateClaim(bnHead, basis(fp32)));
    const alone = evaluateClaim(bnHead, basis([cell('resnet18', 'fft', 100), nf4(cell('resnet18', 'bn_head', 40))]));
    expect(alone.verdict).toBe('not comparable');
    expect(alone.reason).toContain('quantized base the study did not profile: resnet18 bn_head on nf4');
  });

  it('FLOP claims are not judged on measured memory', () => {
    const measured: Basis = { id: 'measured', label: 'measured', cells: [] };
    for (const claim of evaluateClaims([measured])) {
      expect(claim.evaluations.length).toBe(claim.id.includes('flops') ? 0 : 1);
    }
  });
});

describe('bench reports', () => {
  it('names the device from the WebGPU adapter', () => {
    const adapter = { vendor: 'Google', architecture: 'SwiftShader', device: '', description: '', timestampQuery: false };
    expect(deviceSlug({ backend: 'webgpu', adapter, skipped: [] })).toBe('google-swiftshader');
    expect(deviceSlug({ backend: 'cpu', adapter: null, skipped: [] })).toBe('cpu');
  });

  it('merges shard files into one report, in grid order, and refuses incomplete sets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-merge-'));
    try {
      const plan = runPlan(['--models', 'mobilenet_v2', '--methods', 'fft,lora', '--ranks', '4,8', '--no-baseline', '--shard', '1/2']);
      const jobs = planJobs(plan);
      const shardReport = (index: number): BenchReport => ({
        schema: REPORT_SCHEMA,
        createdAt: '2025-01-01T00:00:00.000Z',
        argv: [],
        preset: 'full',
        grid: { models: plan.models, methods: plan.methods, ranks: plan.ranks, settings: plan.settings, baseline: false, matmulSize: 1024, shardCount: 2 },
        runs: [{ shard: { index, count: 2 }, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:01:00.000Z', device: 'google-swiftshader', environment: {} as never, roofline: {} as never }],
        cells: shardJobs(jobs, { index, count: 2 }).map((job): CellRecord => ({
          id: cellId(job.cell), ...job.cell, modelOptions: {} as never, batch: 1, galoreUpdateProjGap: null, run: 0, result: null, throughput: null, error: 'not run',
        })),
        baseline: null,
        uiRun: index === 1 ? { settings: { batch: 8, epochs: 1, trainingImages: 32 }, steps: 4, seconds: 9, longTasks: { count: 0, longestMs: 0, totalMs: 0 }, error: null } : null,
        claims: [],
      });
      writeFileSync(join(dir, 'x.shard-2-of-2.json'), JSON.stringify(shardReport(2)));
      expect(() => mergeShardReports(findShardFiles([], dir))).toThrow(/missing shard\(s\) 1 of 2/);
      writeFileSync(join(dir, 'x.shard-1-of-2.json'), JSON.stringify(shardReport(1)));
      const merged = mergeShardReports(findShardFiles([], dir));
      expect(merged.cells.map((cell) => cell.id)).toEqual(['mobilenet_v2/fft', 'mobilenet_v2/lora/r4', 'mobilenet_v2/lora/r8']);
      expect(merged.runs).toHaveLength(2);
      expect(merged.cells.find((cell) => cell.id === 'mobilenet_v2/lora/r4')!.run).toBe(1);
      expect(merged.uiRun?.steps).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench soak', () => {
  it('runs 500 steps in the full preset, 20 in --quick, none with --core-only or in a later shard; --soak overrides', () => {
    expect(runPlan([]).soakSteps).toBe(500);
    expect(runPlan(['--quick']).soakSteps).toBe(20);
    expect(runPlan(['--core-only']).soakSteps).toBe(0);
    expect(runPlan(['--quick', '--shard', '2/2']).soakSteps).toBe(0);
    expect(runPlan(['--quick', '--soak', '120']).soakSteps).toBe(120);
    expect(runPlan(['--soak', '0']).soakSteps).toBe(0);
    // A grid of one's own (e2e/bench.spec.ts's one cell) soaks only when asked.
    expect(runPlan(['--models', 'mobilenet_v2', '--methods', 'lora']).soakSteps).toBe(0);
    expect(runPlan(['--quick', '--batch', '2']).soakSteps).toBe(0);
    expect(runPlan(['--models', 'mobilenet_v2', '--soak', '30']).soakSteps).toBe(30);
    expect(() => parseBenchArgs(['--soak', '5'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--soak', 'many'])).toThrow(/--soak must be an integer >= 0/);
  });

  it('warms up for the first tenth and samples about 50 times', () => {
    expect(soakPlan(500)).toEqual({ warmupSteps: 50, sampleEvery: 10 });
    expect(soakPlan(20)).toEqual({ warmupSteps: 2, sampleEvery: 1 });
  });

  it('the report says flat or grows, with the growth after warm-up in exact bytes', () => {
    const sample = (step: number, numTensors: number, numBytes: number) => ({ step, numTensors, numBytes, numBytesInGPU: numBytes, numBytesAllocatedInGPU: 4096 });
    const request = { model: { model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' }, rank: 4, batch: 8, steps: 20, sampleEvery: 10, warmupSteps: 2, seed: 0, learningRate: 1e-3 } as const;
    const result = (method: 'lora' | 'fft', leak: number) => ({
      request: { ...request, method },
      samples: [sample(10, 300, 1000), sample(20, 300 + leak, 1000 + 4 * leak)],
      growth: { fromStep: 10, toStep: 20, tensors: leak, bytes: 4 * leak, bytesInGPU: 4 * leak, bytesAllocatedInGPU: 0 },
      flat: leak === 0,
      medianStepMs: 900,
      firstLoss: 2.3,
      lastLoss: 2.1,
    });
    const report = {
      schema: REPORT_SCHEMA, createdAt: '2026-12-05T00:00:00.000Z', argv: ['--soak', '20'], preset: 'full', runs: [], cells: [], baseline: null, uiRun: null, claims: [],
      grid: { models: [], methods: [], ranks: [], settings: runPlan([]).settings, baseline: false, matmulSize: 16, shardCount: 1 },
      soak: { steps: 20, cells: [{ method: 'lora', rank: 4, result: result('lora', 0), error: null }, { method: 'fft', rank: null, result: result('fft', 10), error: null }] },
    } as unknown as BenchReport;
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('## Soak: memory over many steps');
    expect(markdown).toContain('| lora r4 | **flat** | 2 | 10 → 20 | 0 | 0 B | 0 B | 0 B | 300 (0.00 MiB) | 900.0 ms | 2.300 → 2.100 |');
    expect(markdown).toContain('| fft | **grows** | 2 | 10 → 20 | +10 | +40 B | +40 B | 0 B |');
  });
});
