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
import { batchCount, iterateBatches } from '../src/core/data/batching';
import { generateSyntheticDataset } from '../src/core/data/synthetic';
import { MODEL_IDS, type ModelId } from '../src/core/ids';
import { buildModelSpec } from '../src/core/models/registry';
import { createModel, disposeModel } from '../src/core/nn/model';
import { createOptimizer } from '../src/core/optim';
import { trainStep } from '../src/core/train/step';
import { exportTorchvisionSafetensors } from '../src/core/weights/load';
import { CliUsageError, parseFlags, subcommandHelp, type FlagValue, type Subcommand } from './cli/flags';
import { useCpuBackend } from './cli/tfjs';
import { useWasmBackend } from './cli/wasm';
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

const BACKENDS = ['wasm', 'cpu'] as const;

const pretrainCommand: Subcommand = {
  name: 'pretrain',
  summary: 'pretrain the base checkpoints on the synthetic source domain into public/checkpoints/',
  flags: [
    { name: 'models', type: { kind: 'string' }, description: `comma-separated, from ${MODEL_IDS.join(', ')}`, default: 'mobilenet_v2,mobilenet_v3_small,resnet18,mobilenet_v3_large' },
    { name: 'tasks', type: { kind: 'string' }, description: `comma-separated, from ${PRETRAIN_TASKS.join(', ')}`, default: PRETRAIN_TASKS.join(',') },
    { name: 'epochs', type: { kind: 'int', min: 1 }, description: 'passes over the training images', default: 2 },
    { name: 'train-size', type: { kind: 'int', min: 1 }, description: 'distinct training images (synthetic train split)', default: 7500 },
    { name: 'batch-size', type: { kind: 'int', min: 2 }, description: 'images per step', default: 32 },
    { name: 'lr', type: { kind: 'number', exclusiveMin: 0 }, description: 'peak Adam learning rate (linear warm-up, then cosine to 0)', default: 2e-3 },
    { name: 'warmup', type: { kind: 'number', min: 0, max: 1 }, description: 'fraction of the steps spent warming up', default: 0.05 },
    { name: 'seed', type: { kind: 'int', min: 0 }, description: 'seed of the init, shuffle and augmentation', default: 0 },
    { name: 'backend', type: { kind: 'id', ids: BACKENDS }, description: 'tfjs backend (wasm is 10–30× faster here)', default: 'wasm' },
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

/** Linear warm-up to the peak, then cosine decay to 0 at the last step. */
function learningRateAt(step: number, totalSteps: number, peakLr: number, warmupSteps: number): number {
  if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return 0.5 * peakLr * (1 + Math.cos(Math.PI * progress));
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
  const train = generateSyntheticDataset({ split: 'train', count: settings.trainSize, classes });
  const test = checkpointTestSet(task);
  const net = createModel(spec, { seed: settings.seed });
  const trainable = new Set(Object.values(spec.params).filter((param) => param.trainable).map((param) => param.name));
  const optimizer = createOptimizer({ id: 'adam', lr: settings.lr }, net.variables);
  const stepsPerEpoch = batchCount(train.labels.length, settings.batchSize, true);
  const totalSteps = stepsPerEpoch * settings.epochs;
  const warmupSteps = Math.round(settings.warmup * totalSteps);
  const label = `${model} ${task}`;
  console.log(`${label}: ${train.labels.length} images × ${settings.epochs} epochs = ${totalSteps} steps of ${settings.batchSize}`);
  const started = performance.now();
  try {
    let step = 0;
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      let lossSum = 0;
      let lossCount = 0;
      for (const batch of iterateBatches(train, { batchSize: settings.batchSize, seed: settings.seed, epoch, augment: true, dropRemainder: true })) {
        optimizer.lr = learningRateAt(step, totalSteps, settings.lr, warmupSteps);
        let loss: number;
        try {
          loss = await trainStep(net, optimizer, { x: batch.images, y: batch.labels }, trainable);
        } finally {
          tf.dispose([batch.images, batch.labels]);
        }
        if (!Number.isFinite(loss)) throw new Error(`${label}: loss is ${loss} at step ${step}; lower --lr`);
        lossSum += loss;
        lossCount++;
        step++;
        if (step % 20 === 0 || step === totalSteps) {
          const seconds = (performance.now() - started) / 1000;
          console.log(
            `${label}: epoch ${epoch + 1}/${settings.epochs} step ${step}/${totalSteps} loss ${(lossSum / lossCount).toFixed(3)} ` +
              `lr ${optimizer.lr.toExponential(2)} ${((step * settings.batchSize) / seconds).toFixed(1)} img/s ${seconds.toFixed(0)} s`,
          );
        }
      }
    }
    const trainSeconds = (performance.now() - started) / 1000;
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
    optimizer.dispose();
    disposeModel(net);
  }
}

async function pretrain(flags: Record<string, FlagValue | undefined>): Promise<void> {
  const models = parseList('models', String(flags.models), MODEL_IDS);
  const tasks = parseList('tasks', String(flags.tasks), PRETRAIN_TASKS);
  const settings: PretrainSettings = {
    epochs: flags.epochs as number,
    trainSize: flags['train-size'] as number,
    batchSize: flags['batch-size'] as number,
    lr: flags.lr as number,
    warmup: flags.warmup as number,
    seed: flags.seed as number,
    backend: flags.backend as string,
    out: flags.out as string,
  };
  if (settings.backend === 'wasm') await useWasmBackend();
  else await useCpuBackend();
  mkdirSync(settings.out, { recursive: true });
  const manifestPath = join(settings.out, MANIFEST_FILE);
  for (const model of models) {
    for (const task of tasks) {
      const entry = await pretrainOne(model, task, settings);
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
