// `npm run bench` flags: parsed, validated at the boundary (exit 2 with what is valid), and turned
// into a plan. Defaults: the full grid at the study's profiling setting; --quick and --core-only
// at issue 3's setting (MobileNetV2 width 0.35, 32×32, batch 8).
import { parseArgs } from 'node:util';

import { isOneOf, METHOD_IDS, MODEL_IDS, STEM_IDS, type MethodId, type ModelId, type StemId } from '../../src/core/ids';
import { MODEL_OPTION_LIMITS } from '../../src/core/models/registry';
import { VIT_TINY } from '../../src/core/models/vit';
import { cellId, NEW_OPTION_CELLS, type CellKey } from './cells';

/** A bad command line: the runner prints the message and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Shard {
  /** 1-based, as Playwright's `--shard i/n`. */
  index: number;
  count: number;
}

/** The model options and step protocol every cell of a run shares. */
export interface GridSettings {
  width: number;
  resolution: number;
  numClasses: number;
  stem: StemId;
  batch: number;
  warmup: number;
  steps: number;
  seed: number;
  learningRate: number;
}

export interface RunPlan {
  mode: 'grid' | 'core-only';
  /** Name of the grid preset used for defaults: 'full', 'quick' or 'core-only'. */
  preset: 'full' | 'quick' | 'core-only';
  models: ModelId[];
  methods: MethodId[];
  ranks: number[];
  /** The ViT's blocks in the grid (null: its reference's 12). */
  depth: number | null;
  /** Cells beyond the grid's model × method × rank, each with options of its own (NEW_OPTION_CELLS). */
  extraCells: CellKey[];
  settings: GridSettings;
  /** Run the tf.layers MobileNetV2 peer beside the lab's MobileNetV2 (needs mobilenet_v2 in the grid). */
  baseline: boolean;
  /** Fine-tune a few steps through the lab's page and count main-thread long tasks. */
  uiRun: boolean;
  /** Steps of the soak (SOAK_SETTING, LoRA and FFT; tf.memory() sampled over them); 0: no soak. */
  soakSteps: number;
  /** Only the UI run and the first screens (no cells): to iterate on the page. */
  uiOnly: boolean;
  /** With uiOnly: a build to serve instead of building dist/ (to compare builds). */
  uiDist: string | null;
  matmulSize: number;
  shard: Shard | null;
  outDir: string;
  /** Run the cells in Node on Dawn (the npm package webgpu) instead of in Chromium. */
  nodeWebgpu: boolean;
  /** PyTorch step times to show beside the cells (scripts/fixtures/torch_step_timing.py's JSON). */
  torchFile: string | null;
}

export interface MergePlan {
  mode: 'merge';
  /** Shard JSON files to merge; empty: every shard file in outDir. */
  inputs: string[];
  outDir: string;
  torchFile: string | null;
}

export type BenchPlan = RunPlan | MergePlan | { mode: 'help' };

const ISSUE_3_SETTING = { width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar', batch: 8 } as const;

/** The soak fine-tunes at issue 3's small size whatever the grid's size: it looks for growth over
 * many steps, which a small network shows as well as a large one, in minutes rather than hours. */
export const SOAK_SETTING = { ...ISSUE_3_SETTING, methods: ['lora', 'fft'], rank: 4 } as const;

/** Soak steps by preset: 500 in the full run (seconds on a GPU; on SwiftShader ~2 s a step);
 * 20 in --quick (about 80 s of its ~10 min on SwiftShader, and still 18 steps after warm-up, where
 * a tensor leaked a step shows as 18); none with --core-only, which compares step time only. */
const SOAK_STEPS = { full: 500, quick: 20, 'core-only': 0 } as const;
/** Flags that make the grid one's own rather than a preset's. */
const GRID_FLAGS = ['models', 'methods', 'ranks', 'width', 'depth', 'resolution', 'classes', 'stem', 'batch', 'warmup', 'steps'] as const;

const PRESETS = {
  // The study profiled one 224×224 image at width 1.0 with r = 4 (DESIGN.md, Findings).
  full: {
    models: [...MODEL_IDS],
    methods: [...METHOD_IDS],
    ranks: [4, 8, 16],
    // The grid has every model, the ViT at its reference size (depth 12) among them.
    extraCells: [],
    settings: { width: 1, resolution: 224, numClasses: 10, stem: 'imagenet', batch: 1, warmup: 5, steps: 20 },
  },
  // Sized for < 10 min on 2 CPU cores with SwiftShader WebGPU, where a MobileNetV2 step takes seconds
  // and the first one also compiles the shaders (see bench-results/README.md).
  quick: {
    models: ['mobilenet_v2'],
    methods: [...METHOD_IDS],
    ranks: [4],
    extraCells: NEW_OPTION_CELLS,
    settings: { ...ISSUE_3_SETTING, warmup: 1, steps: 3 },
  },
  'core-only': {
    models: ['mobilenet_v2'],
    methods: ['fft'],
    ranks: [4],
    extraCells: [],
    settings: { ...ISSUE_3_SETTING, warmup: 1, steps: 5 },
  },
} as const satisfies Record<RunPlan['preset'], { models: readonly ModelId[]; methods: readonly MethodId[]; ranks: readonly number[]; extraCells: readonly CellKey[]; settings: Omit<GridSettings, 'seed' | 'learningRate'> }>;

export const HELP = `Usage: npm run bench -- [options]

Runs the benchmark grid (model × method × rank) in headless Chromium on WebGPU and writes
<out>/<date>-<device>.json and .md: analytic and measured memory by group, FLOPs by phase, step time,
achieved GFLOP/s against the in-run matmul rate, the tf.layers MobileNetV2 peer, and the study's claims.

Presets (explicit flags override them):
  (none)             full grid: ${PRESETS.full.models.join(', ')}; all methods; ranks ${PRESETS.full.ranks.join(',')};
                     width 1, 224×224, imagenet stem, batch 1, ${PRESETS.full.settings.warmup} warm-up + ${PRESETS.full.settings.steps} timed steps
  --quick            CI-sized: mobilenet_v2, all methods, rank 4, width 0.35, 32×32, cifar stem, batch 8,
                     ${PRESETS.quick.settings.warmup} warm-up + ${PRESETS.quick.settings.steps} timed steps
  --core-only        only the lab core vs tf.layers MobileNetV2 comparison (full fine-tuning, Adam),
                     width 0.35, 32×32, batch 8, ${PRESETS['core-only'].settings.warmup} warm-up + ${PRESETS['core-only'].settings.steps} timed steps
  --new-options      only the cells of issue 19's options, at --quick's size: ${NEW_OPTION_CELLS.map(cellId).join(', ')}
                     (--quick runs them too, after its grid; the full grid has the ViT at width 1, depth 12)

Grid:
  --models LIST      comma-separated: ${MODEL_IDS.join(', ')}
  --methods LIST     comma-separated: ${METHOD_IDS.join(', ')}
  --ranks LIST       comma-separated integers >= 1 (used by lora, dora, galore)
  --width W          width multiplier > 0
  --depth N          vit_tiny's blocks, 1–12 (default 12)
  --resolution R     input side, integer >= ${MODEL_OPTION_LIMITS.minResolution}
  --classes N        classes, integer >= ${MODEL_OPTION_LIMITS.minClasses} (default 10)
  --stem S           ${STEM_IDS.join(' | ')}
  --batch N          batch size, integer >= 1
  --warmup N         untimed steps before timing, integer >= 0
  --steps N          timed steps (median reported), integer >= 1
  --seed N           seed of weights and batches (default 0)
  --lr X             learning rate (default 1e-3)
  --matmul-size N    side of the roofline matmul, integer >= 16 (default 1024)
  --no-baseline      skip the tf.layers MobileNetV2 peer
  --soak N           soak: N steps of LoRA (r ${SOAK_SETTING.rank}) and of FFT at width ${SOAK_SETTING.width}, ${SOAK_SETTING.resolution}×${SOAK_SETTING.resolution}, batch ${SOAK_SETTING.batch},
                     tf.memory() sampled ~50 times: flat after warm-up (the first tenth) or not;
                     0 skips it (default ${SOAK_STEPS.full}; --quick ${SOAK_STEPS.quick}; --core-only ${SOAK_STEPS['core-only']};
                     0 when a grid flag above is given)
  --no-ui-run        skip the UI run (a few fine-tuning steps through the lab's page, counting
                     main-thread tasks over 50 ms with the Long Tasks API; not with --core-only)
  --ui-only          only the UI run, with the first screens' paint and bytes: no cells, no
                     roofline; writes <out>/<date>-ui.json and .md
  --dist DIR         with --ui-only: serve this build (vite build --outDir DIR) instead of dist/

Where it runs:
  --node-webgpu      the same cells in Node on Dawn (the npm package webgpu over Vulkan) instead of
                     Chromium: a GPU machine needs no browser. Without VK_ICD_FILENAMES / VK_DRIVER_FILES
                     it takes a GPU's Vulkan driver, else Chromium's SwiftShader (CPU); the UI run needs
                     the page and is reported as not run. npm run bench:bundle -- DIR packs it for a
                     machine without node_modules (bench-results/README.md)
  --torch FILE       PyTorch's step times for the same cells (python3 scripts/fixtures/torch_step_timing.py
                     --like REPORT.json), shown beside the lab's; also with --merge

Splitting and output:
  --shard i/n        run the i-th of n deterministic parts of the cell list (writes a shard file)
  --merge [FILES]    merge shard JSONs (default: every *.shard-*-of-*.json in --out) into one report;
                     a whole run's JSON is its own one shard (to add --torch to it)
  --out DIR          output folder (default bench-results)
  --help             this text

Exit codes: 0 ok, 1 a run failed, 2 bad flags.`;

const OPTIONS = {
  quick: { type: 'boolean' },
  'core-only': { type: 'boolean' },
  'new-options': { type: 'boolean' },
  merge: { type: 'boolean' },
  help: { type: 'boolean' },
  'no-baseline': { type: 'boolean' },
  'no-ui-run': { type: 'boolean' },
  soak: { type: 'string' },
  'ui-only': { type: 'boolean' },
  dist: { type: 'string' },
  'node-webgpu': { type: 'boolean' },
  torch: { type: 'string' },
  models: { type: 'string' },
  methods: { type: 'string' },
  ranks: { type: 'string' },
  width: { type: 'string' },
  depth: { type: 'string' },
  resolution: { type: 'string' },
  classes: { type: 'string' },
  stem: { type: 'string' },
  batch: { type: 'string' },
  warmup: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  'matmul-size': { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
} as const;

const VALID_FLAGS = Object.keys(OPTIONS).map((name) => `--${name}`).join(', ');

export function parseBenchArgs(argv: readonly string[]): BenchPlan {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nValid flags: ${VALID_FLAGS}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { mode: 'help' };
  const outDir = values.out ?? 'bench-results';
  const torchFile = values.torch ?? null;
  if (values.merge) {
    const runFlags = Object.keys(values).filter((name) => name !== 'merge' && name !== 'out' && name !== 'torch');
    if (runFlags.length > 0) throw new UsageError(`--merge takes only shard files, --torch and --out, not --${runFlags.join(', --')}`);
    return { mode: 'merge', inputs: positionals, outDir, torchFile };
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (files are for --merge)\nValid flags: ${VALID_FLAGS}`);
  if (values['ui-only'] && (values['core-only'] || values['no-ui-run'] || values['node-webgpu'] || values.shard !== undefined)) {
    throw new UsageError('--ui-only runs only the UI run in Chromium: not with --core-only, --no-ui-run, --node-webgpu or --shard');
  }
  if (values.dist !== undefined && !values['ui-only']) throw new UsageError('--dist is for --ui-only');
  if (values.quick && values['core-only']) throw new UsageError('--quick and --core-only are different presets: choose one');
  if (values['new-options']) {
    const others = Object.keys(values).filter((name) => !['new-options', 'out', 'node-webgpu', 'seed', 'lr', 'matmul-size', 'warmup', 'steps'].includes(name));
    if (others.length > 0) throw new UsageError(`--new-options runs its own cells: not with --${others.join(', --')}`);
    const quick = PRESETS.quick.settings;
    return {
      mode: 'grid',
      preset: 'quick',
      models: [],
      methods: [],
      ranks: [],
      depth: null,
      extraCells: [...NEW_OPTION_CELLS],
      settings: {
        ...quick,
        warmup: values.warmup === undefined ? quick.warmup : parseInteger('--warmup', values.warmup, 0),
        steps: values.steps === undefined ? quick.steps : parseInteger('--steps', values.steps, 1),
        seed: values.seed === undefined ? 0 : parseInteger('--seed', values.seed, 0),
        learningRate: values.lr === undefined ? 1e-3 : parsePositive('--lr', values.lr),
      },
      baseline: false,
      uiRun: false,
      soakSteps: 0,
      uiOnly: false,
      uiDist: null,
      matmulSize: values['matmul-size'] === undefined ? 1024 : parseInteger('--matmul-size', values['matmul-size'], 16),
      shard: null,
      outDir,
      nodeWebgpu: values['node-webgpu'] === true,
      torchFile,
    };
  }

  const preset: RunPlan['preset'] = values['core-only'] ? 'core-only' : values.quick ? 'quick' : 'full';
  const defaults = PRESETS[preset];
  if (preset === 'core-only') {
    for (const flag of ['models', 'methods', 'ranks', 'no-baseline', 'no-ui-run'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--core-only compares mobilenet_v2 full fine-tuning with tf.layers: --${flag} does not apply`);
    }
  }
  const models = values.models === undefined ? [...defaults.models] : parseIdList('--models', values.models, MODEL_IDS);
  const methods = values.methods === undefined ? [...defaults.methods] : parseIdList('--methods', values.methods, METHOD_IDS);
  const ranks = values.ranks === undefined ? [...defaults.ranks] : parseList('--ranks', values.ranks).map((text) => parseInteger('--ranks', text, 1));
  const settings: GridSettings = {
    width: values.width === undefined ? defaults.settings.width : parsePositive('--width', values.width),
    resolution: values.resolution === undefined ? defaults.settings.resolution : parseInteger('--resolution', values.resolution, MODEL_OPTION_LIMITS.minResolution),
    numClasses: values.classes === undefined ? defaults.settings.numClasses : parseInteger('--classes', values.classes, MODEL_OPTION_LIMITS.minClasses),
    stem: values.stem === undefined ? defaults.settings.stem : parseId('--stem', values.stem, STEM_IDS),
    batch: values.batch === undefined ? defaults.settings.batch : parseInteger('--batch', values.batch, 1),
    warmup: values.warmup === undefined ? defaults.settings.warmup : parseInteger('--warmup', values.warmup, 0),
    steps: values.steps === undefined ? defaults.settings.steps : parseInteger('--steps', values.steps, 1),
    seed: values.seed === undefined ? 0 : parseInteger('--seed', values.seed, 0),
    learningRate: values.lr === undefined ? 1e-3 : parsePositive('--lr', values.lr),
  };
  const baseline = preset === 'core-only' || (!values['no-baseline'] && models.includes('mobilenet_v2'));
  return {
    mode: preset === 'core-only' ? 'core-only' : 'grid',
    preset,
    models,
    methods,
    ranks: [...new Set(ranks)],
    depth: values.depth === undefined ? null : parseDepth(values.depth),
    // A grid of one's own is just that grid.
    extraCells: GRID_FLAGS.some((flag) => values[flag] !== undefined) ? [] : [...defaults.extraCells],
    settings,
    baseline,
    // One UI run per report: in the first shard of a split grid.
    uiRun: preset !== 'core-only' && !values['no-ui-run'] && (values.shard === undefined || parseShard(values.shard).index === 1),
    // One soak per report too.
    // A grid of one's own gets no 500-step soak unasked (a one-cell run would take half an hour).
    soakSteps:
      values.shard !== undefined && parseShard(values.shard).index !== 1
        ? 0
        : values.soak !== undefined
          ? parseSoakSteps(values.soak)
          : GRID_FLAGS.some((flag) => values[flag] !== undefined)
            ? 0
            : SOAK_STEPS[preset],
    uiOnly: values['ui-only'] === true,
    uiDist: values.dist ?? null,
    matmulSize: values['matmul-size'] === undefined ? 1024 : parseInteger('--matmul-size', values['matmul-size'], 16),
    shard: values.shard === undefined ? null : parseShard(values.shard),
    outDir,
    nodeWebgpu: values['node-webgpu'] === true,
    torchFile,
  };
}

function parseDepth(text: string): number {
  const depth = parseInteger('--depth', text, 1);
  if (depth > VIT_TINY.depth) throw new UsageError(`--depth must be at most ${VIT_TINY.depth} (vit_tiny's blocks), got ${depth}`);
  return depth;
}

/** 0, or enough steps for two samples after warm-up (soakPlan). */
function parseSoakSteps(text: string): number {
  const steps = parseInteger('--soak', text, 0);
  if (steps > 0 && steps < MIN_SOAK_STEPS) throw new UsageError(`--soak must be 0 (no soak) or at least ${MIN_SOAK_STEPS} steps, got ${steps}`);
  return steps;
}

const MIN_SOAK_STEPS = 10;

/** Warm-up (the first tenth) and the sampling interval (~50 samples) of an N-step soak. */
export function soakPlan(steps: number): { warmupSteps: number; sampleEvery: number } {
  return { warmupSteps: Math.ceil(steps / 10), sampleEvery: Math.max(1, Math.round(steps / 50)) };
}

function parseList(flag: string, text: string): string[] {
  const items = text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  return items;
}

function parseId<T extends string>(flag: string, text: string, valid: readonly T[]): T {
  if (!isOneOf(valid, text)) throw new UsageError(`${flag}: unknown value ${JSON.stringify(text)} (valid: ${valid.join(', ')})`);
  return text;
}

function parseIdList<T extends string>(flag: string, text: string, valid: readonly T[]): T[] {
  return [...new Set(parseList(flag, text).map((item) => parseId(flag, item, valid)))];
}

function parseInteger(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parsePositive(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a number > 0, got ${JSON.stringify(text)}`);
  return value;
}

function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be i/n with 1 <= i <= n (e.g. 2/3), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}
