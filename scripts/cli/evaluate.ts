// `evaluate`: accuracy of a checkpoint on the synthetic test split, clean or as the `shift` task's
// corrupted test split (CIFAR-10-C corruption, severity, seed), in eval mode. A checkpoint listed
// in the manifest beside it (public/checkpoints/manifest.json) brings its model options and
// classes; any other torchvision safetensors file needs the model flags.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../../src/lab/config';
import { CORRUPTION_NAMES, CORRUPTION_SEVERITIES, type CorruptionName, type Severity } from '../../src/core/data/corruptions';
import { generateSyntheticDataset, SYNTHETIC_DEFAULT_SIZES, SYNTHETIC_NUM_CLASSES } from '../../src/core/data/synthetic';
import { makeShiftTask, restrictToClasses } from '../../src/core/data/tasks';
import { selectImages, type Dataset } from '../../src/core/data/types';
import { MODEL_IDS, STEM_IDS, type ModelId, type StemId } from '../../src/core/ids';
import { buildModelSpec, modelOptionsProblems } from '../../src/core/models/registry';
import type { ModelOptions } from '../../src/core/models/spec';
import { createModel, disposeModel } from '../../src/core/nn/model';
import { loadTorchvisionSafetensors } from '../../src/core/weights/load';
import { evaluateDataset, MANIFEST_FILE, type Manifest } from '../pretrain/checkpoints';
import { InputFileError } from './corrupt';
import { CliUsageError, type FlagValue, type Subcommand } from './flags';
import { BACKEND_FLAG, useNodeBackend } from './wasm';

export interface EvaluateOptions {
  checkpoint: string;
  modelOptions: ModelOptions;
  /** Source classes of the head, in head order (the test split is restricted to them). */
  classes: number[];
  /** Empty: the clean test split only. */
  corruptions: CorruptionName[];
  severity: Severity;
  seed: number;
  count: number;
}

export interface EvaluationResult {
  corruption: CorruptionName | null;
  severity: Severity | null;
  images: number;
  accuracy: number;
  loss: number;
}

export const evaluateCommand: Subcommand = {
  name: 'evaluate',
  summary: "a checkpoint's accuracy on the synthetic test split, clean or corrupted as in the shift task",
  flags: [
    { name: 'checkpoint', type: { kind: 'string' }, description: 'torchvision state_dict as .safetensors (e.g. public/checkpoints/mobilenet_v2_source.safetensors)', required: true },
    {
      name: 'corruption',
      type: { kind: 'string' },
      description: `comma-separated CIFAR-10-C corruptions, or "all" (${CORRUPTION_NAMES.join(', ')}); without it the clean split`,
    },
    { name: 'severity', type: { kind: 'int', min: CORRUPTION_SEVERITIES[0], max: CORRUPTION_SEVERITIES[CORRUPTION_SEVERITIES.length - 1] }, description: 'CIFAR-10-C severity', default: 5 },
    { name: 'seed', type: { kind: 'int', min: 0 }, description: "seed of the shift task's corruption noise", default: 0 },
    { name: 'count', type: { kind: 'int', min: 1 }, description: 'synthetic test images before restricting to the checkpoint\'s classes', default: SYNTHETIC_DEFAULT_SIZES.test },
    { name: 'model', type: { kind: 'id', ids: MODEL_IDS }, description: 'architecture, for a checkpoint the manifest does not list' },
    { name: 'classes', type: { kind: 'int', min: 2, max: SYNTHETIC_NUM_CLASSES }, description: 'head size (source classes 0..n−1), for a checkpoint the manifest does not list', default: DEFAULT_CONFIG.numClasses },
    { name: 'width', type: { kind: 'number', exclusiveMin: 0 }, description: 'width multiplier, for a checkpoint the manifest does not list', default: DEFAULT_CONFIG.width },
    { name: 'resolution', type: { kind: 'int', min: 8 }, description: 'input side, for a checkpoint the manifest does not list', default: DEFAULT_CONFIG.resolution },
    { name: 'stem', type: { kind: 'id', ids: STEM_IDS }, description: 'stem, for a checkpoint the manifest does not list', default: DEFAULT_CONFIG.stem },
    BACKEND_FLAG,
    { name: 'json', type: { kind: 'boolean' }, description: 'print JSON {checkpoint, options, classes, results: [{corruption, severity, images, accuracy, loss}]}' },
  ],
  async run(flags) {
    const options = evaluateOptionsFromFlags(flags);
    await useNodeBackend(flags.backend as string);
    const results = await runEvaluate(options);
    if (flags.json) {
      console.log(JSON.stringify({ checkpoint: options.checkpoint, options: options.modelOptions, classes: options.classes, backend: tf.getBackend(), results }));
      return;
    }
    const { model, width, resolution, stem, numClasses } = options.modelOptions;
    console.log(`${options.checkpoint}: ${model} (width ${width}, ${resolution}×${resolution}, ${stem} stem, ${numClasses} classes)`);
    for (const r of results) {
      const split = r.corruption ? `${r.corruption} severity ${r.severity}` : 'clean';
      console.log(`  ${split}: accuracy ${(100 * r.accuracy).toFixed(2)}% (loss ${r.loss.toFixed(3)}) on ${r.images} images`);
    }
  },
};

/** The checkpoint's manifest entry, if a manifest beside it lists it. */
function manifestEntryOf(checkpoint: string): { options: ModelOptions; classes: number[] } | undefined {
  const manifestPath = join(dirname(checkpoint), MANIFEST_FILE);
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  return manifest.checkpoints.find((entry) => entry.file === basename(checkpoint));
}

/** Validates what the flag parser cannot (file, corruption list, model options); throws CliUsageError (exit 2). */
export function evaluateOptionsFromFlags(flags: Record<string, FlagValue | undefined>): EvaluateOptions {
  const checkpoint = flags.checkpoint as string;
  if (!existsSync(checkpoint)) throw new CliUsageError(`--checkpoint: no such file ${JSON.stringify(checkpoint)}`);
  const listed = manifestEntryOf(checkpoint);
  let modelOptions: ModelOptions;
  let classes: number[];
  if (listed) {
    modelOptions = listed.options;
    classes = listed.classes;
  } else {
    if (flags.model === undefined) {
      throw new CliUsageError(`--checkpoint ${checkpoint} is not listed in ${join(dirname(checkpoint), MANIFEST_FILE)}: give --model (and --classes, --width, --resolution, --stem if not the defaults)`);
    }
    modelOptions = {
      model: flags.model as ModelId,
      numClasses: flags.classes as number,
      width: flags.width as number,
      resolution: flags.resolution as number,
      stem: flags.stem as StemId,
    };
    classes = Array.from({ length: modelOptions.numClasses }, (_, label) => label);
  }
  const problems = modelOptionsProblems(modelOptions);
  if (problems.length > 0) throw new CliUsageError(problems.join('; '));
  return {
    checkpoint,
    modelOptions,
    classes,
    corruptions: parseCorruptions(flags.corruption as string | undefined),
    severity: flags.severity as Severity,
    seed: flags.seed as number,
    count: flags.count as number,
  };
}

function parseCorruptions(text: string | undefined): CorruptionName[] {
  if (text === undefined) return [];
  if (text === 'all') return [...CORRUPTION_NAMES];
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(CORRUPTION_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new CliUsageError(`--corruption: unknown ${unknown.map((name) => JSON.stringify(name)).join(', ')} (valid: all, ${CORRUPTION_NAMES.join(', ')})`);
  }
  return names as CorruptionName[];
}

/** The command's computation, without printing: the clean split first, then each corruption. */
export async function runEvaluate(options: EvaluateOptions): Promise<EvaluationResult[]> {
  const model = createModel(buildModelSpec(options.modelOptions), { seed: 0 });
  try {
    try {
      loadTorchvisionSafetensors(model, readFileSync(options.checkpoint), { source: options.checkpoint });
    } catch (error) {
      throw new InputFileError(error instanceof Error ? error.message : String(error));
    }
    const test = generateSyntheticDataset({ split: 'test', count: options.count });
    const restrict = (dataset: Dataset) => (options.classes.length === SYNTHETIC_NUM_CLASSES ? dataset : restrictToClasses(dataset, options.classes));
    const clean = restrict(test);
    if (clean.labels.length === 0) throw new CliUsageError(`--count ${options.count} leaves no test image of classes ${options.classes.join(', ')}`);
    const results: EvaluationResult[] = [{ corruption: null, severity: null, images: clean.labels.length, ...(await evaluateDataset(model, clean)) }];
    for (const corruption of options.corruptions) {
      // The shift task's corrupted test split (no train split needed: an empty one).
      const shifted = makeShiftTask({ train: selectImages(test, []), test }, corruption, options.severity, options.seed).test;
      const corrupted = restrict(shifted);
      results.push({ corruption, severity: options.severity, images: corrupted.labels.length, ...(await evaluateDataset(model, corrupted)) });
    }
    return results;
  } finally {
    disposeModel(model);
  }
}
