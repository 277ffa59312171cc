// `cli forward`: one training-mode forward (and optionally backward) pass of a zoo model on an NCHW
// batch, with torchvision-named weights from safetensors or a .pth, printing logits, mean cross-entropy and
// per-parameter gradient summaries in torchvision layout. Used to check the engine against PyTorch
// (fixtures/torch); the tests call the same `forwardOptionsFromFlags` + `runForward`.
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { buildModelSpec, modelOptionsProblems } from '../../src/core/models/registry';
import type { ModelOptions } from '../../src/core/models/spec';
import { forward } from '../../src/core/nn/forward';
import { createModel, disposeModel } from '../../src/core/nn/model';
import { computeGradients, crossEntropy } from '../../src/core/train/step';
import { loadTorchvisionFile } from '../../src/core/weights/load';
import { readSafetensors } from '../../src/core/weights/safetensors';
import { labToTorch, paramLayouts } from '../../src/core/weights/torchvision';
import { CliUsageError, type FlagValue, type Subcommand } from './flags';
import { MODEL_FLAGS, modelOptionsFromFlags } from './params';

export interface ForwardOptions {
  modelOptions: ModelOptions;
  weights?: string;
  seed: number;
  input?: { file: string; key?: string };
  labels: number[];
  grads: boolean;
  json: boolean;
}

export interface GradSummary {
  l2: number;
  first5: number[];
}

export interface ForwardResult {
  /** [batch][classes]. */
  logits: number[][];
  loss: number;
  /** By torchvision name, torchvision layout; present with `grads: true`. */
  grads?: Record<string, GradSummary>;
}

export const forwardCommand: Subcommand = {
  name: 'forward',
  summary:
    'one training-mode pass (batch statistics, dropout off): logits, mean cross-entropy and, with --grads, ' +
    'each trainable parameter\'s gradient (L2 norm, first 5 values) in torchvision layout (OIHW convs, [out, in] linear)',
  usesTfjs: true,
  flags: [
    ...MODEL_FLAGS,
    {
      name: 'weights',
      type: { kind: 'string' },
      description: 'torchvision state_dict as .safetensors or a torch.save .pth/.pt (torchvision names and layouts); without it the seeded init (--seed)',
    },
    {
      name: 'input',
      type: { kind: 'string' },
      description:
        'FILE[:KEY]: NCHW float tensor [N, 3, R, R] in a .safetensors file (KEY optional if it holds one tensor); without it a seeded N(0, 1) batch',
    },
    { name: 'labels', type: { kind: 'string' }, description: 'comma-separated class indices in [0, classes), one per image', required: true },
    { name: 'seed', type: { kind: 'int', min: 0 }, description: 'seed of the init (and of the input without --input)', default: 0 },
    { name: 'grads', type: { kind: 'boolean' }, description: 'also print gradients' },
    { name: 'json', type: { kind: 'boolean' }, description: 'print JSON {logits, loss[, grads]}' },
  ],
  async run(flags) {
    const options = forwardOptionsFromFlags(flags);
    const result = await runForward(options);
    console.log(options.json ? JSON.stringify(result) : formatSummary(options, result));
  },
};

/** Validates what the flag parser cannot (labels, files, model options); throws CliUsageError (exit 2). */
export function forwardOptionsFromFlags(flags: Record<string, FlagValue | undefined>): ForwardOptions {
  const modelOptions = modelOptionsFromFlags(flags);
  const problems = modelOptionsProblems(modelOptions);
  if (problems.length > 0) throw new CliUsageError(problems.join('; '));
  const { numClasses } = modelOptions;
  const labels = String(flags.labels)
    .split(',')
    .map((text) => {
      const value = Number(text);
      if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value >= numClasses) {
        throw new CliUsageError(`--labels: ${JSON.stringify(text)} is not a class index in [0, ${numClasses}) (give one per image, comma-separated)`);
      }
      return value;
    });
  const weights = flags.weights as string | undefined;
  if (weights !== undefined && !existsSync(weights)) throw new CliUsageError(`--weights: no such file ${JSON.stringify(weights)}`);
  let input: ForwardOptions['input'];
  const inputText = flags.input as string | undefined;
  if (inputText !== undefined) {
    // FILE:KEY, where FILE itself may contain ':' (a path that exists as given has no KEY).
    const colon = inputText.lastIndexOf(':');
    const split = !existsSync(inputText) && colon > 0;
    const file = split ? inputText.slice(0, colon) : inputText;
    const key = split ? inputText.slice(colon + 1) : '';
    if (!existsSync(file)) throw new CliUsageError(`--input: no such file ${JSON.stringify(file)}`);
    input = key ? { file, key } : { file };
  }
  return { modelOptions, weights, seed: flags.seed as number, input, labels, grads: flags.grads === true, json: flags.json === true };
}

/** NCHW input from a safetensors file (values and shape), validated against the model and labels. */
function loadInput(input: { file: string; key?: string }, options: ForwardOptions): { data: Float32Array; shape: [number, number, number, number] } {
  const file = readSafetensors(readFileSync(input.file), input.file);
  let key = input.key;
  if (key === undefined) {
    if (file.names.length !== 1) {
      throw new CliUsageError(`--input ${input.file} holds ${file.names.length} tensors; name one as FILE:KEY (keys: ${file.names.join(', ')})`);
    }
    key = file.names[0];
  }
  const tensor = file.tensors[key];
  if (!tensor) throw new CliUsageError(`--input: ${input.file} has no tensor ${JSON.stringify(key)} (keys: ${file.names.join(', ')})`);
  const r = options.modelOptions.resolution;
  const [n, c, h, w] = tensor.shape;
  if (tensor.shape.length !== 4 || c !== 3 || h !== r || w !== r) {
    throw new CliUsageError(`--input ${input.file}:${key} has shape [${tensor.shape.join(', ')}], expected NCHW [N, 3, ${r}, ${r}] (--resolution ${r})`);
  }
  if (n !== options.labels.length) {
    throw new CliUsageError(`--input ${input.file}:${key} holds ${n} images but --labels gives ${options.labels.length}`);
  }
  if (!(tensor.data instanceof Float32Array)) throw new CliUsageError(`--input ${input.file}:${key} is ${tensor.dtype}, expected a float dtype`);
  return { data: tensor.data, shape: [n, c, h, w] };
}

/** A seeded N(0, 1) NCHW batch (Box–Muller on a small integer hash; only for runs without --input). */
function seededInput(n: number, resolution: number, seed: number): { data: Float32Array; shape: [number, number, number, number] } {
  const shape: [number, number, number, number] = [n, 3, resolution, resolution];
  const data = new Float32Array(n * 3 * resolution * resolution);
  let state = (seed ^ 0x5bd1e995) >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { data, shape };
}

/** The command's computation, without printing (the tests call this). Logits come from a
 * training-mode forward; loss and gradients from the trainer's own `computeGradients`. */
export async function runForward(options: ForwardOptions): Promise<ForwardResult> {
  const spec = buildModelSpec(options.modelOptions);
  const input = options.input
    ? loadInput(options.input, options)
    : seededInput(options.labels.length, options.modelOptions.resolution, options.seed);

  const model = createModel(spec, { seed: options.seed });
  const batch = {
    x: tf.tidy(() => tf.transpose(tf.tensor4d(input.data, input.shape), [0, 2, 3, 1]) as tf.Tensor4D),
    y: tf.tensor1d(options.labels, 'int32'),
  };
  try {
    // The app's loader: checks the whole file against the spec before assigning anything.
    if (options.weights !== undefined) await loadTorchvisionFile(model, readFileSync(options.weights), { source: options.weights });
    const [logits, loss] = tf.tidy(() => {
      const out = forward(model, batch.x, { training: true });
      return [out, crossEntropy(out, batch.y)] as const;
    });
    const result: ForwardResult = { logits: [], loss: NaN };
    try {
      result.logits = (await logits.array()) as number[][];
      result.loss = (await loss.data())[0];
    } finally {
      tf.dispose([logits, loss]);
    }
    if (options.grads) {
      const trainable = Object.values(spec.params).filter((p) => p.trainable);
      const { loss: gradLoss, grads } = computeGradients(model, batch, new Set(trainable.map((p) => p.name)));
      try {
        result.loss = (await gradLoss.data())[0];
        const layouts = paramLayouts(spec);
        result.grads = {};
        for (const p of trainable) {
          const grad = grads.get(p.name);
          if (!grad) throw new Error(`no gradient for ${p.name}`);
          const torchLayout = labToTorch((await grad.data()) as Float32Array, p.shape, layouts[p.name]);
          let sumSquares = 0;
          for (const v of torchLayout) sumSquares += v * v;
          result.grads[p.name] = { l2: Math.sqrt(sumSquares), first5: Array.from(torchLayout.subarray(0, 5)) };
        }
      } finally {
        gradLoss.dispose();
        tf.dispose([...grads.values()]);
      }
    }
    return result;
  } finally {
    tf.dispose([batch.x, batch.y]);
    disposeModel(model);
  }
}

function formatSummary(options: ForwardOptions, result: ForwardResult): string {
  const { model, numClasses, resolution, width, stem } = options.modelOptions;
  const lines = [
    `${model} (classes ${numClasses}, resolution ${resolution}, width ${width}, stem ${stem}), ${options.weights ? `weights ${options.weights}` : `seeded init (seed ${options.seed})`}`,
    `loss (mean cross-entropy): ${result.loss}`,
    'logits:',
    ...result.logits.map((row, i) => `  [${i}] label ${options.labels[i]}: ${row.map((v) => v.toFixed(5)).join(' ')}`),
  ];
  if (result.grads) {
    lines.push('gradients (torchvision layout): name  l2  first5');
    for (const [name, g] of Object.entries(result.grads)) {
      lines.push(`  ${name}  ${g.l2.toExponential(6)}  ${g.first5.map((v) => v.toExponential(4)).join(' ')}`);
    }
  }
  return lines.join('\n');
}
