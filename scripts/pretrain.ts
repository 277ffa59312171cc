// `npm run pretrain -- [--models …] [--tasks …] [--epochs …] [--train-size …]`: trains the lab's
// base checkpoints from scratch on the embedded synthetic source domain and writes them, with
// torchvision names, to public/checkpoints/<model>_<task>.safetensors, recording each in
// public/checkpoints/manifest.json (options, size, sha256, schedule, clean test accuracy, date,
// backend). Tasks: `source` (all 10 classes) and `source_0_4` (classes 0–4, a 5-way head: the base
// of the unseen_classes task). Everything is seeded; re-running a manifest entry's `command`
// retrains that checkpoint (bit-exact only on the same backend).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_IDS, type ModelId } from '../src/core/ids';
import { buildModelSpec } from '../src/core/models/registry';
import { createModel, disposeModel } from '../src/core/nn/model';
import { pretrainModel, pretrainSchedule, PretrainDivergedError } from '../src/core/train/pretrain';
import { PRETRAIN_DEFAULTS, PRETRAIN_EPOCHS, pretrainTrainSet } from '../src/core/train/pretrainTasks';
import { exportTorchvisionSafetensors } from '../src/core/weights/load';
import { CliUsageError, parseFlags, subcommandHelp, type FlagValue, type Subcommand } from './cli/flags';
import { BACKEND_FLAG, useNodeBackend } from './cli/wasm';
import {
  CHECKPOINT_DIRECTORY,
  checkpointFileName,
  checkpointModelOptions,
  checkpointTestSet,
  evaluateDataset,
  MANIFEST_FILE,
  PRETRAIN_CLASSES,
  PRETRAIN_TASKS,
  type Manifest,
  type ManifestEntry,
  type PretrainTask,
} from './pretrain/checkpoints';


const pretrainCommand: Subcommand = {
  name: 'pretrain',
  summary: 'pretrain the base checkpoints on the synthetic source domain into public/checkpoints/',
  flags: [
    { name: 'models', type: { kind: 'string' }, description: `comma-separated, from ${MODEL_IDS.join(', ')}`, default: 'mobilenet_v2,mobilenet_v3_small,resnet18,mobilenet_v3_large' },
    { name: 'tasks', type: { kind: 'string' }, description: `comma-separated, from ${PRETRAIN_TASKS.join(', ')}`, default: PRETRAIN_TASKS.join(',') },
    {
      name: 'epochs',
      type: { kind: 'int', min: 1 },
      description: `passes over the training images (default per model: ${MODEL_IDS.map((model) => `${model} ${PRETRAIN_EPOCHS[model]}`).join(', ')})`,
    },
    { name: 'train-size', type: { kind: 'int', min: 1 }, description: 'distinct training images (synthetic train split)', default: PRETRAIN_DEFAULTS.trainSize },
    { name: 'batch-size', type: { kind: 'int', min: 2 }, description: 'images per step', default: PRETRAIN_DEFAULTS.batchSize },
    { name: 'lr', type: { kind: 'number', exclusiveMin: 0 }, description: 'peak Adam learning rate (linear warm-up, then cosine to 0)', default: PRETRAIN_DEFAULTS.lr },
    { name: 'warmup', type: { kind: 'number', min: 0, max: 1 }, description: 'fraction of the steps spent warming up', default: PRETRAIN_DEFAULTS.warmup },
    { name: 'seed', type: { kind: 'int', min: 0 }, description: 'seed of the init, shuffle and augmentation', default: PRETRAIN_DEFAULTS.seed },
    BACKEND_FLAG,
    { name: 'out', type: { kind: 'string' }, description: 'output directory', default: CHECKPOINT_DIRECTORY },
  ],
  run: pretrain,
};

function parseList<T extends string>(flag: string, text: string, valid: readonly T[]): T[] {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  const bad = items.filter((item) => !(valid as readonly string[]).includes(item));
  if (items.length === 0 || bad.length > 0) {
    throw new CliUsageError(`--${flag}: ${bad.length > 0 ? `unknown ${bad.join(', ')}` : 'empty'} (valid: ${valid.join(', ')})`);
  }
  return items as T[];
}

function readManifest(path: string): Manifest {
  if (!existsSync(path)) return { description: '', checkpoints: [] };
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

function writeManifest(path: string, manifest: Manifest, entry: ManifestEntry): void {
  const others = manifest.checkpoints.filter((existing) => existing.file !== entry.file);
  const order = (e: ManifestEntry) => MODEL_IDS.indexOf(e.model) * PRETRAIN_TASKS.length + PRETRAIN_TASKS.indexOf(e.task);
  manifest.checkpoints = [...others, entry].sort((a, b) => order(a) - order(b));
  manifest.description =
    'Base checkpoints of the lab, pretrained from scratch on the embedded synthetic source domain by scripts/pretrain.ts ' +
    '(torchvision state_dict names and layouts, float32 safetensors). Accuracies: eval mode on the synthetic test split ' +
    '(seed 0), restricted to the checkpoint\'s classes.';
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

interface PretrainSettings {
  epochs: number;
  trainSize: number;
  batchSize: number;
  lr: number;
  warmup: number;
  seed: number;
  backend: string;
  out: string;
}

function reproduceCommand(model: ModelId, task: PretrainTask, s: PretrainSettings): string {
  return (
    `npm run pretrain -- --models ${model} --tasks ${task} --epochs ${s.epochs} --train-size ${s.trainSize} ` +
    `--batch-size ${s.batchSize} --lr ${s.lr} --warmup ${s.warmup} --seed ${s.seed} --backend ${s.backend}`
  );
}

async function pretrainOne(model: ModelId, task: PretrainTask, settings: PretrainSettings): Promise<ManifestEntry> {
  const classes = PRETRAIN_CLASSES[task];
  const options = checkpointModelOptions(model, task);
  const spec = buildModelSpec(options);
  const train = pretrainTrainSet(task, settings.trainSize);
  const test = checkpointTestSet(task);
  const net = createModel(spec, { seed: settings.seed });
  const { totalSteps, warmupSteps } = pretrainSchedule(train.labels.length, settings);
  const label = `${model} ${task}`;
  console.log(`${label}: ${train.labels.length} images × ${settings.epochs} epochs = ${totalSteps} steps of ${settings.batchSize}`);
  try {
    // The loop the browser's "Pretrain base model" runs too (src/core/train/pretrain.ts).
    const { trainSeconds } = await pretrainModel(net, train, settings, {
      onStep: ({ step, epoch, epochMeanLoss, lr, seconds }) => {
        if (step % 20 === 0 || step === totalSteps) {
          console.log(
            `${label}: epoch ${epoch}/${settings.epochs} step ${step}/${totalSteps} loss ${epochMeanLoss.toFixed(3)} ` +
              `lr ${lr.toExponential(2)} ${((step * settings.batchSize) / seconds).toFixed(1)} img/s ${seconds.toFixed(0)} s`,
          );
        }
      },
    }).catch((error: unknown) => {
      throw error instanceof PretrainDivergedError ? new Error(`${label}: loss is ${error.loss} at step ${error.step}; lower --lr`) : error;
    });
    const result = await evaluateDataset(net, test);
    console.log(`${label}: clean test accuracy ${(100 * result.accuracy).toFixed(2)}% on ${test.labels.length} images (${trainSeconds.toFixed(0)} s training)`);
    const file = checkpointFileName(model, task);
    const bytes = await exportTorchvisionSafetensors(net, { lab_model: model, lab_task: task, lab_classes: classes.join(',') });
    writeFileSync(join(settings.out, file), bytes);
    return {
      model,
      options,
      task,
      classes: [...classes],
      file,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      epochs: settings.epochs,
      steps: totalSteps,
      trainingImages: train.labels.length,
      batchSize: settings.batchSize,
      schedule: { optimizer: 'adam', peakLr: settings.lr, warmupSteps, decay: 'cosine' },
      seed: settings.seed,
      testImages: test.labels.length,
      cleanTestAccuracy: result.accuracy,
      cleanTestLoss: result.loss,
      trainSeconds: Math.round(trainSeconds),
      date: new Date().toISOString(),
      backend: tf.getBackend(),
      command: reproduceCommand(model, task, settings),
    };
  } finally {
    disposeModel(net);
  }
}

async function pretrain(flags: Record<string, FlagValue | undefined>): Promise<void> {
  const models = parseList('models', String(flags.models), MODEL_IDS);
  const tasks = parseList('tasks', String(flags.tasks), PRETRAIN_TASKS);
  const epochs = flags.epochs as number | undefined;
  const shared: Omit<PretrainSettings, 'epochs'> = {
    trainSize: flags['train-size'] as number,
    batchSize: flags['batch-size'] as number,
    lr: flags.lr as number,
    warmup: flags.warmup as number,
    seed: flags.seed as number,
    backend: flags.backend as string,
    out: flags.out as string,
  };
  await useNodeBackend(shared.backend);
  mkdirSync(shared.out, { recursive: true });
  const manifestPath = join(shared.out, MANIFEST_FILE);
  for (const model of models) {
    for (const task of tasks) {
      const entry = await pretrainOne(model, task, { ...shared, epochs: epochs ?? PRETRAIN_EPOCHS[model] });
      writeManifest(manifestPath, readManifest(manifestPath), entry);
      console.log(`${entry.file}: ${entry.bytes} bytes, sha256 ${entry.sha256}`);
    }
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(subcommandHelp(pretrainCommand));
    return 0;
  }
  try {
    await pretrainCommand.run(parseFlags(argv, pretrainCommand.flags));
    return 0;
  } catch (error) {
    if (error instanceof CliUsageError) {
      console.error(`error: ${error.message}\n\n${subcommandHelp(pretrainCommand)}`);
      return 2;
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
