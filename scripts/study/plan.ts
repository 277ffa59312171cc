// `npm run study` flags and the grid they describe: models × methods × tasks × ranks × seeds, the
// study's schedule by default (Adam, r = 4, α = 4, 5 epochs, patience 10), in a fixed order so
// that shards and resumed runs agree on what each run is.
import { existsSync, statSync } from 'node:fs';
import { FROZEN_WEIGHT_FORMATS, isOneOf, METHOD_IDS, MODEL_IDS, type FrozenWeightFormat, type MethodId, type ModelId } from '../../src/core/ids';
import { frozenWeightsProblem } from '../../src/core/quant/quantizeBase';
import { CORRUPTION_NAMES } from '../../src/core/data/corruptions';
import { DEFAULT_CONFIG, hasErrors, validateConfig, VIT_LAB_SIZE, type LabConfig } from '../../src/lab/config';
import { isTransformerModel } from '../../src/lab/ids';
import { takesOption } from '../../src/lab/methods';
import type { CellKey, StudySettings, StudyTask } from '../../src/lab/study/report';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Shard {
  index: number;
  count: number;
}

export interface StudyPlan {
  mode: 'run';
  models: ModelId[];
  methods: MethodId[];
  tasks: StudyTask[];
  ranks: number[];
  /** How the frozen base is stored: one cell per format (fp32 only for FFT and GaLore). */
  frozenWeights: FrozenWeightFormat[];
  seeds: number[];
  settings: StudySettings;
  backend: 'wasm' | 'cpu';
  /** In headless Chromium on WebGPU instead of Node. */
  browser: boolean;
  shard: Shard | null;
  parallel: number;
  resume: boolean;
  outDir: string;
  quick: boolean;
  /** Stop after this many runs (a test's stand-in for a killed study). */
  maxRuns: number | null;
}

export type StudyCommand = StudyPlan | { mode: 'merge'; outDir: string } | { mode: 'help' };

export interface PlannedRun {
  cell: CellKey;
  seed: number;
  config: LabConfig;
}

/** The study's own schedule (DESIGN.md, the paper): what a full grid runs. */
export const STUDY_SETTINGS: StudySettings = {
  width: DEFAULT_CONFIG.width,
  resolution: DEFAULT_CONFIG.resolution,
  stem: DEFAULT_CONFIG.stem,
  trainImages: DEFAULT_CONFIG.trainImages,
  epochs: 5,
  batchSize: DEFAULT_CONFIG.batchSize,
  learningRate: DEFAULT_CONFIG.learningRate,
  patience: 10,
  alpha: 4,
  dataSource: 'synthetic',
  baseWeights: 'shipped',
};

/**
 * --quick: sized to finish in under 20 minutes on 2 cores (two processes on the wasm backend):
 * 30 runs of 192 training images × 5 epochs (6 steps of 32 per epoch), evaluated on 96 test images.
 */
export const QUICK = {
  models: ['mobilenet_v2'] as ModelId[],
  tasks: ['brightness:5', 'impulse_noise:5'],
  ranks: [4],
  seeds: [0, 1, 2],
  trainImages: 192,
  parallel: 2,
};

export const HELP = `npm run study -- [flags]: fine-tune a grid with the lab's own run loop (Node, wasm) over seeds,
and write study-results/<date>-<device>.json, .md and SVG figures, with the study's accuracy claims judged.

  --quick               MobileNetV2 w0.35 32×32, brightness and impulse noise at severity 5, five methods,
                        r = 4, seeds 0,1,2, ${QUICK.trainImages} training images × 5 epochs, 2 processes (< 20 min on 2 cores)
  --models LIST         ${MODEL_IDS.join(',')} (default mobilenet_v2)
  --methods LIST        ${METHOD_IDS.join(',')} (default all)
  --tasks LIST          shifts as corruption:severity (e.g. impulse_noise:5), unseen_classes, and
                        images:FOLDER (your own images, one sub-folder per class, PNG or JPEG)
                        (default brightness:5,impulse_noise:5)
  --ranks LIST          ranks of LoRA, DoRA and GaLore (default 4)
  --frozen-weights LIST fp32,int8,nf4: how the frozen base is stored (default fp32); FFT and GaLore
                        update the base, so they run on fp32 only
  --depth N             ViT-Tiny's blocks (default ${VIT_LAB_SIZE.depth}); --vit-width W its width (default ${VIT_LAB_SIZE.width}):
                        the lab's ViT size; the CNNs keep width ${STUDY_SETTINGS.width}
  --seeds LIST          seeds (default 0,1,2)
  --train-images N      training images per run (default ${STUDY_SETTINGS.trainImages}; --quick ${QUICK.trainImages})
  --epochs N            epochs (default 5), --patience N (default 10), --batch N (default 32), --lr X (default 0.001)
  --backend wasm|cpu    tfjs backend (default wasm)
  --parallel N          processes, each a shard of the grid (default 1; --quick 2)
  --shard i/n           run the i-th of n parts; merge the parts with --merge
  --merge               merge the shard reports in --out into one report
  --resume              skip the runs already finished in --out (after a kill or a crash)
  --out DIR             output folder (default study-results)
  --max-runs N          stop after N runs (as a killed study would)
  --browser             the same grid in headless Chromium on WebGPU, the engine the lab runs (for a
                        machine with a GPU; on SwiftShader it is slow). --backend and --parallel do not apply
`;

function list<T extends string>(raw: string, valid: readonly T[], flag: string): T[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((item) => !isOneOf(valid, item));
  if (items.length === 0 || bad.length > 0) throw new UsageError(`--${flag} ${JSON.stringify(raw)}: each must be one of ${valid.join(', ')}`);
  return [...new Set(items)] as T[];
}

function integers(raw: string, flag: string, min: number): number[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (items.length === 0 || items.some((n) => !Number.isInteger(n) || n < min)) throw new UsageError(`--${flag} ${JSON.stringify(raw)}: a comma-separated list of integers ≥ ${min}`);
  return [...new Set(items)].sort((a, b) => a - b);
}

/** The folder of an `images:<folder>` task, or null. */
export const imagesFolderOf = (studyTask: StudyTask): string | null => (studyTask.startsWith('images:') ? studyTask.slice('images:'.length) : null);

function task(raw: string): StudyTask {
  if (raw === 'unseen_classes') return raw;
  const folder = imagesFolderOf(raw);
  if (folder !== null) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new UsageError(`--tasks ${raw}: ${folder} is not a folder (one sub-folder per class)`);
    return raw;
  }
  const [corruption, severity] = raw.split(':');
  if (!isOneOf(CORRUPTION_NAMES, corruption) || !/^[1-5]$/.test(severity ?? '')) {
    throw new UsageError(`--tasks: ${JSON.stringify(raw)} is no task (corruption:severity with a corruption of ${CORRUPTION_NAMES.join(', ')} and severity 1–5, unseen_classes, or images:FOLDER)`);
  }
  return raw;
}

export function parseStudyArgs(argv: readonly string[]): StudyCommand {
  const values = new Map<string, string | true>();
  const switches = new Set(['quick', 'merge', 'resume', 'browser', 'help']);
  const valued = new Set(['models', 'methods', 'tasks', 'ranks', 'frozen-weights', 'depth', 'vit-width', 'seeds', 'train-images', 'epochs', 'patience', 'batch', 'lr', 'backend', 'parallel', 'shard', 'out', 'max-runs']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const [, name, inline] = match;
    if (values.has(name)) throw new UsageError(`--${name} given twice`);
    if (switches.has(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values.set(name, true);
    } else if (valued.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown flag --${name} (valid: ${[...switches, ...valued].map((f) => `--${f}`).join(', ')})`);
    }
  }
  const str = (name: string) => values.get(name) as string | undefined;
  if (values.has('help')) return { mode: 'help' };
  const outDir = str('out') ?? 'study-results';
  if (values.has('merge')) return { mode: 'merge', outDir };
  const quick = values.has('quick');
  const one = (name: string, fallback: number, min: number) => (str(name) === undefined ? fallback : integers(str(name) as string, name, min)[0]);
  const settings: StudySettings = {
    ...STUDY_SETTINGS,
    trainImages: one('train-images', quick ? QUICK.trainImages : STUDY_SETTINGS.trainImages, 8),
    epochs: one('epochs', STUDY_SETTINGS.epochs, 1),
    patience: one('patience', STUDY_SETTINGS.patience, 1),
    batchSize: one('batch', STUDY_SETTINGS.batchSize, 1),
    learningRate: str('lr') === undefined ? STUDY_SETTINGS.learningRate : Number(str('lr')),
  };
  if (!(settings.learningRate > 0 && Number.isFinite(settings.learningRate))) throw new UsageError(`--lr ${str('lr')}: a positive number`);
  const models = str('models') ? list(str('models') as string, MODEL_IDS, 'models') : quick ? QUICK.models : (['mobilenet_v2'] as ModelId[]);
  if (models.some(isTransformerModel)) {
    const vitWidth = str('vit-width') === undefined ? VIT_LAB_SIZE.width : Number(str('vit-width'));
    if (!(vitWidth > 0 && Number.isFinite(vitWidth))) throw new UsageError(`--vit-width ${str('vit-width')}: a positive number`);
    settings.vit = { width: vitWidth, depth: one('depth', VIT_LAB_SIZE.depth, 1) };
  } else if (str('depth') !== undefined || str('vit-width') !== undefined) {
    throw new UsageError('--depth and --vit-width size the ViT: add vit_tiny to --models');
  }
  const backend = str('backend') ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new UsageError(`--backend ${backend}: wasm or cpu`);
  let shard: Shard | null = null;
  if (str('shard') !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(str('shard') as string);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard ${str('shard')}: i/n with 1 ≤ i ≤ n`);
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  if (values.has('browser') && (str('tasks') ?? '').includes('images:')) throw new UsageError('--browser cannot read an images folder from disk: run images:FOLDER tasks in Node');
  const plan: StudyPlan = {
    mode: 'run',
    models,
    methods: str('methods') ? list(str('methods') as string, METHOD_IDS, 'methods') : [...METHOD_IDS],
    tasks: (str('tasks') ?? QUICK.tasks.join(',')).split(',').filter(Boolean).map(task),
    ranks: str('ranks') ? integers(str('ranks') as string, 'ranks', 1) : QUICK.ranks,
    frozenWeights: str('frozen-weights') ? list(str('frozen-weights') as string, FROZEN_WEIGHT_FORMATS, 'frozen-weights') : ['fp32'],
    seeds: str('seeds') ? integers(str('seeds') as string, 'seeds', 0) : QUICK.seeds,
    settings,
    backend,
    browser: values.has('browser'),
    shard,
    parallel: one('parallel', quick ? QUICK.parallel : 1, 1),
    resume: values.has('resume'),
    outDir,
    quick,
    maxRuns: str('max-runs') === undefined ? null : one('max-runs', 0, 1),
  };
  const runs = planRuns(plan);
  if (runs.length === 0) throw new UsageError(`--frozen-weights ${plan.frozenWeights.join(',')}: FFT and GaLore update the base weights, so they run on fp32 only: add fp32, or a method that keeps the base frozen`);
  for (const run of runs) {
    const issues = validateConfig(run.config);
    if (hasErrors(issues)) throw new UsageError(`${run.cell.model} ${run.cell.method} ${run.cell.task}: ${issues.filter((i) => i.severity === 'error').map((i) => `${i.field}: ${i.message}`).join(' ')}`);
  }
  return plan;
}

/** Every run of the grid in order: model, task, method, frozen-weights format, rank, seed. */
export function planRuns(plan: Pick<StudyPlan, 'models' | 'methods' | 'tasks' | 'ranks' | 'seeds' | 'settings'> & { frozenWeights?: FrozenWeightFormat[] }): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const model of plan.models) {
    for (const studyTask of plan.tasks) {
      for (const method of plan.methods) {
        const ranks: (number | null)[] = takesOption(method, 'rank') ? plan.ranks : [null];
        const formats = (plan.frozenWeights ?? ['fp32']).filter((format) => frozenWeightsProblem(method, format) === null);
        for (const format of formats) {
          for (const rank of ranks) {
            for (const seed of plan.seeds) {
              const cell: CellKey = { model, method, task: studyTask, rank, ...(format === 'fp32' ? {} : { frozenWeights: format }) };
              runs.push({ cell, seed, config: { ...configOf(plan.settings, model, method, studyTask, rank, seed), frozenWeights: format } });
            }
          }
        }
      }
    }
  }
  return runs;
}

function configOf(settings: StudySettings, model: ModelId, method: MethodId, studyTask: StudyTask, rank: number | null, seed: number): LabConfig {
  const [corruption, severity] = studyTask.split(':');
  return {
    ...DEFAULT_CONFIG,
    model,
    width: settings.width,
    ...(isTransformerModel(model) && settings.vit ? settings.vit : {}),
    resolution: settings.resolution,
    stem: settings.stem as LabConfig['stem'],
    method,
    rank: rank ?? DEFAULT_CONFIG.rank,
    alpha: settings.alpha,
    task: studyTask === 'unseen_classes' ? 'unseen_classes' : imagesFolderOf(studyTask) ? 'custom' : 'shift',
    ...(studyTask === 'unseen_classes' || imagesFolderOf(studyTask) ? {} : { corruption: corruption as LabConfig['corruption'], severity: Number(severity) }),
    dataSource: settings.dataSource as LabConfig['dataSource'],
    baseWeights: settings.baseWeights as LabConfig['baseWeights'],
    optimizer: 'adam',
    learningRate: settings.learningRate,
    batchSize: settings.batchSize,
    epochs: settings.epochs,
    patience: settings.patience,
    seed,
    trainImages: settings.trainImages,
  };
}

/** The runs of shard i of n: every n-th run, so each shard gets a share of every cell's cost. */
export function shardRuns<T>(runs: readonly T[], shard: Shard | null): T[] {
  return shard ? runs.filter((_, i) => i % shard.count === shard.index - 1) : [...runs];
}
