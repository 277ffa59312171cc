// `finetune`: one fine-tuning run from flags, in Node, through the lab's own run loop (the one the
// browser's training worker runs): the baseline before fine-tuning, the eval curve, every step's
// loss, final and best accuracy, steps, time, images/s, memory by group and FLOPs, as JSON.
// Every configuration field is a flag, named by the lab's schema, with the lab's default.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CONFIG_SCHEMA, DEFAULT_CONFIG, hasErrors, validateConfig, type FieldSchema, type LabConfig } from '../../src/lab/config';
import { recordRun, type RunRecord } from '../../src/lab/run/record';
import { disposeModel, type Model } from '../../src/core/nn/model';
import { writeRunExports, type WrittenExports } from './exportFiles';
import { RunControl } from '../../src/lab/run/runState';
import type { RunEnvironment } from '../../src/lab/run/environment';
import { CliUsageError, type FlagSpec, type FlagType, type FlagValue, type Subcommand } from './flags';
import { nodeRunEnvironment } from './nodeEnvironment';
import { importImagesFromDisk, nodeDecodeImage } from './nodeImages';
import { BACKEND_FLAG, useNodeBackend } from './wasm';

export const FINETUNE_SCHEMA = 'peft-edge-lab/finetune@1';

function flagType(field: FieldSchema): FlagType {
  if (field.kind === 'choice') return { kind: 'id', ids: field.choices };
  if (field.kind === 'boolean') return { kind: 'boolean' };
  if (field.kind === 'text') return { kind: 'string' };
  return field.integer ? { kind: 'int', min: field.min, max: field.max } : { kind: 'number', min: field.min, max: field.max };
}

/** One flag per configuration field, from the lab's schema: its flag name, limits or choices, default. */
export const CONFIG_FLAGS: FlagSpec[] = CONFIG_SCHEMA.map((field) => ({
  name: field.flag,
  type: flagType(field),
  description: `${field.label}${field.hint ? ` (${field.hint.replace(/\.$/, '')})` : ''}`,
  ...(field.kind === 'boolean' ? {} : { default: field.default as FlagValue }),
}));

/** The configuration the flags describe; a field that does not validate is a usage error naming it. */
export function configFromFlags(flags: Record<string, FlagValue | undefined>): LabConfig {
  const config = { ...DEFAULT_CONFIG } as Record<string, unknown>;
  for (const field of CONFIG_SCHEMA) {
    const value = flags[field.flag];
    if (value !== undefined) config[field.id] = value;
  }
  const labConfig = config as unknown as LabConfig;
  const issues = validateConfig(labConfig).filter((issue) => issue.severity === 'error');
  if (hasErrors(issues)) {
    const byFlag = (id: string) => CONFIG_SCHEMA.find((field) => field.id === id)?.flag ?? id;
    throw new CliUsageError(issues.map((issue) => `--${byFlag(issue.field)}: ${issue.message}`).join('\n'));
  }
  if (labConfig.baseWeights === 'browser') throw new CliUsageError('--base-weights browser: bases pretrained in a browser live in that browser; use shipped, random, or imported with --weights');
  return labConfig;
}

export interface FinetuneOptions {
  environment?: RunEnvironment;
  /** The folder of your own images (one sub-folder per class) for --task custom. */
  imagesFolder?: string;
  measureMemory?: boolean;
  /** A torchvision state_dict file (.safetensors or .pth) for --base-weights imported. */
  weights?: File;
  control?: RunControl;
  /** Write the run's downloads (fine-tuned weights, PEFT adapter, results JSON and CSV) here. */
  exportDir?: string;
}

export interface FinetuneResult extends RunRecord {
  schema: typeof FINETUNE_SCHEMA;
  /** Wall time of the whole run (data, baseline, training, evaluations). */
  wallSeconds: number;
  /** With --export: the files written and what this configuration cannot export. */
  exports?: WrittenExports;
}

/** Runs one fine-tune through the lab's run loop on the active tfjs backend. */
export async function runFinetune(requested: LabConfig, options: FinetuneOptions = {}): Promise<FinetuneResult> {
  // Your own images: imported (and split with the seed) as the page does; the head has one output per class.
  const customImages = requested.task === 'custom' && options.imagesFolder ? await importImagesFromDisk(options.imagesFolder, requested.resolution, requested.seed) : null;
  const config = customImages ? { ...requested, numClasses: customImages.train.numClasses } : requested;
  let kept: Model | null = null;
  const record = await recordRun(config, {
    environment: options.environment ?? nodeRunEnvironment(),
    labVersion: 'cli',
    measureMemory: options.measureMemory ?? false,
    control: options.control ?? new RunControl(),
    adapter: `no GPU (${tf.getBackend()})`,
    deviceLost: () => null,
    ...(options.exportDir ? { keepModel: (model: Model) => void (kept = model) } : {}),
    baseWeightsFile: options.weights,
    // The hub's CIFAR-10 is PNG in parquet: decoded with pngjs, as your images are.
    dataInputs: { customImages, decodePng: (png) => nodeDecodeImage(png, 'image.png', requested.resolution) },
  });
  const result: FinetuneResult = { schema: FINETUNE_SCHEMA, ...record, backend: record.backend || tf.getBackend() };
  const model = kept as Model | null;
  if (model && options.exportDir) {
    try {
      result.exports = await writeRunExports(options.exportDir, { model, config, record, labVersion: 'cli' });
    } finally {
      disposeModel(model);
    }
  }
  return result;
}

const percent = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${(100 * value).toFixed(1)}%`);

export const finetuneCommand: Subcommand = {
  name: 'finetune',
  summary: 'one fine-tuning run through the lab’s run loop (Node, wasm backend by default): accuracy before and after, curves, time, memory, FLOPs',
  flags: [
    ...CONFIG_FLAGS,
    BACKEND_FLAG,
    { name: 'weights', type: { kind: 'string' }, description: 'torchvision state_dict as .safetensors or a torch.save .pth/.pt, for --base-weights imported' },
    { name: 'images', type: { kind: 'string' }, description: 'a folder of your own images, one sub-folder per class (PNG, JPEG), for --task custom' },
    { name: 'checkpoints', type: { kind: 'string' }, description: 'folder (or URL) holding checkpoints/manifest.json', default: 'public' },
    { name: 'measure', type: { kind: 'boolean' }, description: 'also measure one step’s memory by group with the engine observer' },
    { name: 'json', type: { kind: 'boolean' }, description: `print the run as JSON (${FINETUNE_SCHEMA})` },
    { name: 'export', type: { kind: 'string' }, description: 'write the fine-tuned weights (torchvision safetensors), the PEFT adapter (LoRA/DoRA, .zip) and the results (JSON, CSV) to this folder' },
  ],
  async run(flags) {
    const config = configFromFlags(flags);
    if ((config.baseWeights === 'imported') !== (flags.weights !== undefined)) {
      throw new CliUsageError('--weights FILE goes with --base-weights imported, and only with it');
    }
    if ((config.task === 'custom') !== (flags.images !== undefined)) throw new CliUsageError('--images FOLDER goes with --task custom, and only with it');
    const weights = flags.weights ? new File([await readFile(flags.weights as string)], basename(flags.weights as string)) : undefined;
    await useNodeBackend(flags.backend as string);
    const result = await runFinetune(config, { environment: nodeRunEnvironment(flags.checkpoints as string), measureMemory: flags.measure === true, weights, imagesFolder: flags.images as string | undefined, exportDir: flags.export as string | undefined });
    if (flags.json) console.log(JSON.stringify(result));
    else {
      const base = result.checkpoint?.kind === 'loaded' ? result.checkpoint.file : 'random init';
      console.log(`${config.model} w${config.width} ${config.resolution}×${config.resolution}, ${config.method}, task ${config.task}${config.task === 'shift' ? ` (${config.corruption} ${config.severity})` : ''}, seed ${config.seed}, from ${base}`);
      console.log(`before: ${percent(result.baseline?.accuracy)}${result.baseline?.cleanAccuracy != null ? ` (clean ${percent(result.baseline.cleanAccuracy)})` : ''}`);
      for (const point of result.evalCurve) console.log(`epoch ${point.epoch} (step ${point.step}): ${percent(point.accuracy)}`);
      console.log(`final ${percent(result.finalAccuracy)}, best ${percent(result.bestAccuracy)}; ${result.steps} steps, ${result.imagesPerSecond.toFixed(1)} images/s, ${result.wallSeconds.toFixed(1)} s`);
      for (const path of result.exports?.written ?? []) console.log(`wrote ${path}`);
      for (const { kind, reason } of result.exports?.unavailable ?? []) console.log(`no ${kind}: ${reason}`);
    }
    if (result.error) {
      console.error(`error (${result.error.kind}): ${result.error.message}`);
      process.exitCode = 1;
    }
  },
};
