// `profile`: what one training step of a model under a fine-tuning method costs, from shapes alone:
// peak memory by group (the lab's engine and PyTorch's autograd; the simultaneous peak and the sum
// of per-group maxima) and FLOPs by phase (counted correctly and in PyTorch's counter convention).
// With --measure, also a real step on the tfjs CPU backend, watched kernel by kernel.
import { applyMethod, type MethodOptions } from '../../src/core/adapters';
import { METHOD_IDS, type MethodId } from '../../src/core/ids';
import { buildModelSpec } from '../../src/core/models/registry';
import type { ModelSpec } from '../../src/core/models/spec';
import { summariseMeasured, type MeasuredSummary } from '../../src/core/profile/measured';
import { measureMethodStep } from '../../src/core/profile/measuredRun';
import { optimizerCostOfMethod, profileSpec, summariseProfile, type FlopSummary, type MemorySummary, type ProfileSummary } from '../../src/core/profile/profile';
import type { FlagValue, Subcommand } from './flags';
import { methodOptionsFromFlags, MODEL_FLAGS, modelOptionsFromFlags, TRAIN_HEAD_FLAG } from './params';
import { useCpuBackend } from './tfjs';

const MIB = 2 ** 20;

export const profileCommand: Subcommand = {
  name: 'profile',
  summary:
    'analytic cost of one training step: peak memory by group (param, grad, act, opt, temp) in the lab engine and ' +
    'in PyTorch, simultaneous peak and sum of per-group maxima; FLOPs by phase, correct and in PyTorch\'s counter convention',
  flags: [
    ...MODEL_FLAGS,
    { name: 'method', type: { kind: 'id', ids: METHOD_IDS }, description: 'fine-tuning method', default: 'fft' },
    { name: 'rank', type: { kind: 'int', min: 1 }, description: 'rank r of LoRA/DoRA adapters and of GaLore\'s projection', default: 4 },
    { name: 'alpha', type: { kind: 'number', exclusiveMin: 0 }, description: 'LoRA/DoRA α (the adapter branch is scaled by α/r)', default: 4 },
    TRAIN_HEAD_FLAG,
    { name: 'batch', type: { kind: 'int', min: 1 }, description: 'images per step', default: 1 },
    {
      name: 'measure',
      type: { kind: 'boolean' },
      description: 'also measure a real step (seeded model and batch, after one unmeasured step) on the tfjs CPU backend: memory.measured',
    },
    {
      name: 'json',
      type: { kind: 'boolean' },
      description: 'print JSON {params, memory: {analytic, pytorch, measured?}, flops: {correct, torchConvention}} (bytes, FLOPs)',
    },
  ],
  async run(flags) {
    const summary = runProfile(flags);
    if (flags.measure) {
      await useCpuBackend();
      summary.memory.measured = await runMeasured(flags);
    }
    console.log(flags.json ? JSON.stringify(summary) : formatSummary(flags, summary));
  },
};

/** The analytic summary, with the measured one beside it under --measure. */
export type ProfileCommandSummary = ProfileSummary & { memory: { measured?: MeasuredSummary } };

interface MethodSetup {
  spec: ModelSpec;
  method: MethodId;
  options: MethodOptions;
}

function methodSetup(flags: Record<string, FlagValue | undefined>): MethodSetup {
  const base = buildModelSpec(modelOptionsFromFlags(flags));
  const method = flags.method as MethodId;
  const options = methodOptionsFromFlags(flags);
  return { spec: applyMethod(base, method, options), method, options };
}

/** The command's analytic computation without printing (the tests call this). */
export function runProfile(flags: Record<string, FlagValue | undefined>): ProfileCommandSummary {
  const { spec, method, options } = methodSetup(flags);
  return summariseProfile(profileSpec(spec, { batch: flags.batch as number, optimizer: optimizerCostOfMethod(method, options) }));
}

/** A measured step on the active tfjs backend. */
export async function runMeasured(flags: Record<string, FlagValue | undefined>): Promise<MeasuredSummary> {
  const { spec, method, options } = methodSetup(flags);
  return summariseMeasured(await measureMethodStep(spec, method, options, { batch: flags.batch as number, kernelTimes: false }));
}

function formatMemory(label: string, memory: MemorySummary): string[] {
  const groups = (g: MemorySummary['peak']) =>
    `param ${(g.param / MIB).toFixed(2)}, grad ${(g.grad / MIB).toFixed(2)}, act ${(g.act / MIB).toFixed(2)}, ` +
    `opt ${(g.opt / MIB).toFixed(2)}, temp ${(g.temp / MIB).toFixed(2)}`;
  return [
    `${label}:`,
    `  simultaneous peak    ${(memory.peak.total / MIB).toFixed(2)} MiB (${groups(memory.peak)}) at ${memory.peakAt.phase} ${memory.peakAt.op}`,
    `  sum of group maxima  ${(memory.sumOfGroupMaxima.total / MIB).toFixed(2)} MiB (${groups(memory.sumOfGroupMaxima)})`,
  ];
}

function formatFlops(label: string, flops: FlopSummary): string {
  const g = (x: number) => (x / 1e9).toFixed(4);
  return (
    `${label}: total ${g(flops.total)} GFLOP = forward ${g(flops.forward)} + backward_input ${g(flops.backward_input)} + ` +
    `backward_weight ${g(flops.backward_weight)} + optimizer ${g(flops.optimizer)} + projection ${g(flops.projection)}`
  );
}

function formatSummary(flags: Record<string, FlagValue | undefined>, summary: ProfileCommandSummary): string {
  const lines = [
    `${flags.model} (width ${flags.width}${flags.depth !== undefined ? `, depth ${flags.depth}` : ''}, ${flags.resolution}×${flags.resolution}, ${flags.classes} classes, ${flags.stem} stem), ` +
      `method ${flags.method} (r ${flags.rank}, α ${flags.alpha}${flags['train-head'] ? ', classifier trains fully' : ''}), batch ${flags.batch}`,
    `parameters: ${summary.params.total.toLocaleString('en-US')}, trainable ${summary.params.trainable.toLocaleString('en-US')}`,
    ...formatMemory('memory, lab engine (keeps only what the trainable set needs)', summary.memory.analytic),
    ...formatMemory("memory, PyTorch's autograd", summary.memory.pytorch),
    ...(summary.memory.measured ? formatMemory(`memory, measured on tfjs (${summary.memory.measured.backend} backend)`, summary.memory.measured) : []),
    formatFlops('FLOPs, counted correctly', summary.flops.correct),
    formatFlops("FLOPs, PyTorch's counter convention (grouped weight gradient × groups)", summary.flops.torchConvention),
  ];
  if (summary.flops.correct.projectorRefresh > 0) {
    lines.push(`GaLore decomposition at a refresh step (not amortised): ${(summary.flops.correct.projectorRefresh / 1e9).toFixed(4)} GFLOP`);
  }
  return lines.join('\n');
}
