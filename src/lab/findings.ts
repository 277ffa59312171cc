// The findings tour: each of the study's findings as one card — the study's claims with their
// figures (claims.ts), the lab's own figures beside them, the one chart that shows it and the
// configuration "Try it" opens in the lab. Cost figures come from the analytic profiler at the
// study's profiling setting, computed live (never typed in); accuracy from a study result
// (`npm run study`). Pure: the page draws it, tests check it against the profiler.
import { FROZEN_WEIGHT_FORMATS, MEMORY_GROUPS, type MethodId, type ModelId } from '../core/ids';
import type { QuantizedFormat } from '../core/models/spec';
import type { AnalyticProfile } from '../core/profile/types';
import type { ClaimId } from './claims';
import { isTransformerModel, type FindingId } from './ids';
import { methodShortName, MODEL_NAMES } from './names';
import { VIT_TINY } from '../core/models/vit';
import type { LabConfig } from './config';
import type { ProfiledRequest } from './labMeasurements';
import { profileRequestOf } from './profileMethods';
import type { ProfileRequest } from './protocol';


/** The study profiled one step at ImageNet size: 224×224, batch 1, full width, rank 4 (α = 4). */
export const STUDY_PROFILING = { width: 1, resolution: 224, stem: 'imagenet', batchSize: 1, rank: 4, alpha: 4 } as const satisfies Partial<LabConfig>;

/** The study's profiling setting for `model`, on a float32 base as the study's: a ViT, which the
 * study did not profile, at the same setting with all 12 blocks (timm's vit_tiny_patch16_224 itself). */
export const studyProfilingOf = (model: ModelId): Partial<LabConfig> => ({ ...STUDY_PROFILING, frozenWeights: 'fp32', ...(isTransformerModel(model) ? { depth: VIT_TINY.depth } : {}) });

/** The quantized formats of a frozen base the quantized-base card profiles beside fp32. */
export const QUANTIZED_FORMATS = FROZEN_WEIGHT_FORMATS.filter((format): format is QuantizedFormat => format !== 'fp32');

/** A profile the cards read: a model at the study's setting on a float32 base, or (the quantized-base
 * card) on a quantized one: "mobilenet_v2@nf4". */
export type FindingProfileKey = ModelId | `${ModelId}@${QuantizedFormat}`;
export const quantizedKey = (model: ModelId, format: QuantizedFormat): FindingProfileKey => `${model}@${format}`;
export type FindingProfiles = Partial<Record<FindingProfileKey, ProfiledRequest>>;

/** The models the cards' cost figures read (the MobileNet claims span all three MobileNets; the
 * ViT card sets ViT-Tiny beside them). */
export const FINDING_MODELS: readonly ModelId[] = ['mobilenet_v2', 'mobilenet_v3_large', 'mobilenet_v3_small', 'resnet18', 'vit_tiny'];

/** The contrast the tour is built around: a depthwise-separable net against a plain one. */
export const CONTRAST_MODELS = ['mobilenet_v2', 'resnet18'] as const satisfies readonly ModelId[];

/** The ViT card's models: the study's contrast, and ViT-Tiny beside it. */
export const VIT_CONTRAST_MODELS = [...CONTRAST_MODELS, 'vit_tiny'] as const satisfies readonly ModelId[];

/** Which chart a card draws. */
export type FindingChart = 'memory_contrast' | 'vit_memory' | 'memory_by_format' | 'memory_by_method' | 'accuracy_vs_memory' | 'cost_vs_fft' | 'accuracy_by_task' | 'flop_ratio' | 'peak_shares';

export interface Finding {
  id: FindingId;
  /** The finding in one sentence: the card's heading. */
  title: string;
  /** Why it holds, in one or two sentences a student can follow. */
  why: string;
  /** The study's claims the card puts the lab's verdicts beside. */
  claims: readonly ClaimId[];
  chart: FindingChart;
  /** What "Try it" opens: this model and method at the study's profiling setting (on a float32
   * base unless the card names a quantized one). */
  tryIt: { model: ModelId; method: MethodId; shift?: { corruption: LabConfig['corruption']; severity: number }; frozenWeights?: QuantizedFormat };
}

export const FINDINGS: readonly Finding[] = [
  {
    id: 'activations_dominate',
    title: 'Activations dominate depthwise-separable nets, so PEFT saves far less memory on MobileNets than on ResNet-18',
    why: 'PEFT removes gradients and optimizer state of frozen weights, but the backward pass still needs the activations of every layer it goes through. On MobileNetV2 those saved activations are the largest part of the peak (most of it under PyTorch’s autograd, which keeps every relu6 output the lab’s engine recomputes); on ResNet-18 the weights’ gradients and Adam moments are.',
    claims: ['peft_memory_mobilenets', 'peft_memory_resnet18'],
    chart: 'memory_contrast',
    tryIt: { model: 'mobilenet_v2', method: 'lora' },
  },
  {
    id: 'lora_tradeoff',
    title: 'LoRA is the best trade-off: a fraction of the update FLOPs for accuracy close to full fine-tuning',
    why: 'Frozen weights need no weight gradient, so the adapters skip most of the backward pass’s weight-gradient work; rank 4 keeps the adapters tiny.',
    claims: ['adapter_update_flops', 'lora_best_tradeoff'],
    chart: 'accuracy_vs_memory',
    tryIt: { model: 'mobilenet_v2', method: 'lora' },
  },
  {
    id: 'dora_costs_more',
    title: 'DoRA costs more memory than LoRA and buys no accuracy on edge CNNs',
    why: 'DoRA normalises the adapted weight W + BA per output channel, so every adapted layer keeps the merged weight and its norms for the backward pass: more ACT than LoRA.',
    claims: ['dora_memory_over_lora', 'dora_no_accuracy_gain'],
    chart: 'memory_by_method',
    tryIt: { model: 'mobilenet_v2', method: 'dora' },
  },
  {
    id: 'galore_robust_but_costly',
    title: 'GaLore stays close to full fine-tuning in accuracy, but costs FLOPs and memory',
    why: 'GaLore trains every weight with its gradient projected to a low rank: Adam’s moments shrink, but the full gradient still exists for a moment and the projectors need a decomposition every few hundred steps.',
    claims: ['galore_memory_vs_lora', 'galore_flops_overhead', 'galore_close_to_fft'],
    chart: 'cost_vs_fft',
    tryIt: { model: 'mobilenet_v2', method: 'galore' },
  },
  {
    id: 'bn_head_cheap_but_brittle',
    title: 'BN+head is the cheapest method, but it fails on hard shifts such as impulse noise',
    why: 'Training only BatchNorm’s affine parameters and the classifier needs almost no gradient or optimizer state, but it cannot change what the convolutions detect: a mild shift (brightness) is recalibrated, a hard one (noise) is not.',
    claims: ['bn_head_memory', 'bn_head_hard_shift'],
    chart: 'accuracy_by_task',
    tryIt: { model: 'mobilenet_v2', method: 'bn_head', shift: { corruption: 'impulse_noise', severity: 5 } },
  },
  {
    id: 'flop_ratio_artefact',
    title: 'The study’s ~20:1 backward:forward FLOP ratio on MobileNets is an artefact of its FLOP counter',
    why: 'PyTorch’s counter prices a grouped convolution’s weight gradient as if it were a full convolution, multiplying it by the number of groups. Counted correctly, a depthwise conv’s weight gradient costs what its forward does, and backward:forward is about 2:1, as for any network.',
    claims: ['depthwise_backward_flops_ratio'],
    chart: 'flop_ratio',
    tryIt: { model: 'mobilenet_v2', method: 'fft' },
  },
  {
    id: 'cnn_vs_llm',
    title: 'PEFT on CNNs is not PEFT on LLMs: what it can save is what the weights cost',
    why: 'In an LLM the weights’ gradients and optimizer state dominate training memory, and PEFT removes them. In a MobileNet at batch 1 the saved activations already dominate, and PEFT cannot touch them. The lab profiles no LLM (its ViT-Tiny is a vision transformer, see “Do the findings transfer to a ViT?”): the LLM side is the study’s.',
    claims: ['peft_memory_vs_llms'],
    chart: 'peak_shares',
    tryIt: { model: 'mobilenet_v2', method: 'fft' },
  },
  {
    id: 'vit_transfer',
    title: 'Do the findings transfer to a ViT?',
    why:
      'The study profiled CNNs only; it says nothing about vision transformers. ViT-Tiny has no depthwise convs: every block is layer norms, four linear layers over the tokens and attention, whose softmax probabilities (heads × tokens²) are kept for the backward pass. Below, the study’s CNN claims with the lab’s verdicts on the CNNs, and beside them the lab’s own numbers for ViT-Tiny at the same setting (BN+head is LN+head there). Whether the CNN pattern holds is for you to read off; no study verdict covers the ViT.',
    claims: ['peft_memory_mobilenets', 'peft_memory_resnet18', 'dora_memory_over_lora', 'bn_head_memory'],
    chart: 'vit_memory',
    tryIt: { model: 'vit_tiny', method: 'lora' },
  },
  {
    id: 'quantized_base',
    title: 'What does a quantized base buy?',
    why:
      'The study asks, and leaves open, what quantization does to the memory of adapter methods against full fine-tuning; it did not quantize, so these are the lab’s own numbers and no study verdict covers them. Here the frozen base is stored int8 or NF4 (4 bits; blocks of 64 weights with a float32 scale each, as QLoRA) and dequantized layer by layer: PARAM shrinks, while gradients, optimizer state and activations stay what they were, so it buys most where the weights are most of the peak (ResNet-18), little where activations are (MobileNetV2). Full fine-tuning and GaLore update the base weights themselves, so they cannot train on a quantized base: they keep float32.',
    claims: [],
    chart: 'memory_by_format',
    tryIt: { model: 'resnet18', method: 'lora', frozenWeights: 'nf4' },
  },
];

export function findingById(id: FindingId): Finding {
  return FINDINGS.find((finding) => finding.id === id) as Finding;
}

/** The configuration "Try it" opens: the current one with the card's model and method at the
 * study's profiling setting (and its shift or quantized base, where the card is about one). */
export function tryItConfig(finding: Finding, current: LabConfig): LabConfig {
  const { model, method, shift, frozenWeights } = finding.tryIt;
  const config: LabConfig = { ...current, ...studyProfilingOf(model), model, method, ...(frozenWeights ? { frozenWeights } : {}) };
  return shift ? { ...config, task: 'shift', corruption: shift.corruption, severity: shift.severity } : config;
}

/** The profile a card's "Try it" line quotes: its model's, on its quantized base where it names one. */
export const tryItKey = ({ tryIt: { model, frozenWeights } }: Finding): FindingProfileKey => (frozenWeights ? quantizedKey(model, frozenWeights) : model);

/** The profile requests of the cards: every method on each of FINDING_MODELS at the study's setting
 * on a float32 base, and on the quantized bases for the quantized-base card's models. */
export function findingRequests(current: LabConfig): Partial<Record<FindingProfileKey, ProfileRequest>> {
  const at = (model: ModelId, frozenWeights: LabConfig['frozenWeights']) => profileRequestOf({ ...current, ...studyProfilingOf(model), model, method: 'fft', frozenWeights });
  return Object.fromEntries([
    ...FINDING_MODELS.map((model) => [model, at(model, 'fp32')]),
    ...VIT_CONTRAST_MODELS.flatMap((model) => QUANTIZED_FORMATS.map((format) => [quantizedKey(model, format), at(model, format)])),
  ]);
}

/** One number a card shows beside the study's claims. */
export interface FindingFigure {
  label: string;
  value: number;
  unit: 'bytes' | 'share' | 'ratio' | 'flops';
  /** A stable key (tests and the page's test ids). */
  key: string;
}

const peakOf = (profile: AnalyticProfile | undefined) => profile?.memory.analytic.peak.total;
const shareOf = (profile: AnalyticProfile, groups: readonly (typeof MEMORY_GROUPS)[number][]) =>
  groups.reduce((sum, group) => sum + profile.memory.analytic.peak.bytes[group], 0) / profile.memory.analytic.peak.total;
/** FLOPs after the forward pass (as the study's "update FLOPs"). */
const updateFlops = (profile: AnalyticProfile, view: 'correct' | 'torchConvention') => {
  const phases = profile.flops[view].byPhase;
  return phases.backward_input + phases.backward_weight + phases.optimizer + phases.projection;
};
/** A step that recomputes GaLore's projectors: the amortised decomposition replaced by the whole. */
const refreshStepFlops = (profile: AnalyticProfile, view: 'correct' | 'torchConvention') =>
  profile.flops[view].total - profile.flops[view].byPhase.projection + profile.flops[view].projectorRefresh;

const FORMAT_SHORT_NAMES: Record<QuantizedFormat, string> = { int8: 'int8', nf4: 'NF4' };

/** The lab's figures for a card, from the profiles of FINDING_MODELS (missing ones are skipped). */
export function findingFigures(id: FindingId, profiled: FindingProfiles): FindingFigure[] {
  const figures: FindingFigure[] = [];
  const of = (model: ModelId, method: MethodId) => profiled[model]?.byMethod[method];
  const saving = (model: ModelId, method: MethodId, key: string, label: string) => {
    const peak = peakOf(of(model, method));
    const fft = peakOf(of(model, 'fft'));
    if (peak !== undefined && fft) figures.push({ key, label, value: 1 - peak / fft, unit: 'share' });
  };
  switch (id) {
    case 'activations_dominate':
      for (const model of CONTRAST_MODELS) {
        saving(model, 'lora', `lora-saving-${model}`, `LoRA’s peak saving on ${MODEL_NAMES[model]}`);
        const fft = of(model, 'fft');
        if (fft) figures.push({ key: `act-share-${model}`, label: `ACT share of FFT’s peak, ${MODEL_NAMES[model]}`, value: shareOf(fft, ['act']), unit: 'share' });
      }
      break;
    case 'lora_tradeoff':
      for (const model of CONTRAST_MODELS) {
        const lora = of(model, 'lora');
        const fft = of(model, 'fft');
        if (lora && fft) {
          figures.push({ key: `update-flops-cut-${model}`, label: `LoRA’s cut of update FLOPs on ${MODEL_NAMES[model]} (correct count)`, value: 1 - updateFlops(lora, 'correct') / updateFlops(fft, 'correct'), unit: 'share' });
          figures.push({ key: `update-flops-cut-torch-${model}`, label: `the same, PyTorch counter`, value: 1 - updateFlops(lora, 'torchConvention') / updateFlops(fft, 'torchConvention'), unit: 'share' });
        }
      }
      break;
    case 'dora_costs_more':
      for (const model of CONTRAST_MODELS) {
        const dora = peakOf(of(model, 'dora'));
        const lora = peakOf(of(model, 'lora'));
        if (dora !== undefined && lora) figures.push({ key: `dora-over-lora-${model}`, label: `DoRA’s peak over LoRA’s, ${MODEL_NAMES[model]}`, value: dora / lora - 1, unit: 'share' });
      }
      break;
    case 'galore_robust_but_costly':
      for (const model of CONTRAST_MODELS) {
        const galore = of(model, 'galore');
        const lora = peakOf(of(model, 'lora'));
        const fft = of(model, 'fft');
        if (galore && lora) figures.push({ key: `galore-vs-lora-${model}`, label: `GaLore’s peak ÷ LoRA’s, ${MODEL_NAMES[model]}`, value: peakOf(galore)! / lora, unit: 'ratio' });
        if (galore && fft) {
          figures.push({ key: `galore-refresh-flops-${model}`, label: `GaLore’s FLOPs on a projector-refresh step ÷ FFT’s, ${MODEL_NAMES[model]} (correct count)`, value: refreshStepFlops(galore, 'correct') / fft.flops.correct.total, unit: 'ratio' });
          figures.push({ key: `galore-refresh-flops-torch-${model}`, label: `the same, PyTorch counter`, value: refreshStepFlops(galore, 'torchConvention') / fft.flops.torchConvention.total, unit: 'ratio' });
        }
      }
      break;
    case 'bn_head_cheap_but_brittle':
      for (const model of CONTRAST_MODELS) saving(model, 'bn_head', `bn-head-saving-${model}`, `BN+head’s peak saving on ${MODEL_NAMES[model]}`);
      break;
    case 'flop_ratio_artefact':
      for (const model of CONTRAST_MODELS) {
        const fft = of(model, 'fft');
        if (!fft) continue;
        const ratio = (view: 'correct' | 'torchConvention') => {
          const phases = fft.flops[view].byPhase;
          return (phases.backward_input + phases.backward_weight) / phases.forward;
        };
        figures.push({ key: `ratio-correct-${model}`, label: `backward ÷ forward, ${MODEL_NAMES[model]}, counted correctly`, value: ratio('correct'), unit: 'ratio' });
        figures.push({ key: `ratio-torch-${model}`, label: `backward ÷ forward, ${MODEL_NAMES[model]}, PyTorch counter`, value: ratio('torchConvention'), unit: 'ratio' });
      }
      break;
    case 'vit_transfer':
      for (const model of VIT_CONTRAST_MODELS) {
        const head = methodShortName('bn_head', model);
        saving(model, 'lora', `lora-saving-${model}`, `LoRA’s peak saving on ${MODEL_NAMES[model]}`);
        const dora = peakOf(of(model, 'dora'));
        const lora = peakOf(of(model, 'lora'));
        if (dora !== undefined && lora) figures.push({ key: `dora-over-lora-${model}`, label: `DoRA’s peak over LoRA’s, ${MODEL_NAMES[model]}`, value: dora / lora - 1, unit: 'share' });
        saving(model, 'bn_head', `bn-head-saving-${model}`, `${head}’s peak saving on ${MODEL_NAMES[model]}`);
        const fft = of(model, 'fft');
        if (fft) figures.push({ key: `act-share-${model}`, label: `ACT share of FFT’s peak, ${MODEL_NAMES[model]}`, value: shareOf(fft, ['act']), unit: 'share' });
      }
      break;
    case 'quantized_base':
      for (const model of VIT_CONTRAST_MODELS) {
        const lora = peakOf(of(model, 'lora'));
        const fft = peakOf(of(model, 'fft'));
        const onBase = QUANTIZED_FORMATS.flatMap((format) => {
          const peak = peakOf(profiled[quantizedKey(model, format)]?.byMethod.lora);
          return peak === undefined ? [] : [{ format, name: FORMAT_SHORT_NAMES[format], peak }];
        });
        // The peaks first, then what they save (the page lays the figures out in two columns).
        if (lora !== undefined) figures.push({ key: `lora-peak-fp32-${model}`, label: `LoRA’s peak on an fp32 base, ${MODEL_NAMES[model]}`, value: lora, unit: 'bytes' });
        for (const { format, name, peak } of onBase) figures.push({ key: `lora-peak-${format}-${model}`, label: `on an ${name} base`, value: peak, unit: 'bytes' });
        if (lora) for (const { format, name, peak } of onBase) figures.push({ key: `lora-${format}-saving-${model}`, label: `peak saved by the ${name} base`, value: 1 - peak / lora, unit: 'share' });
        const nf4 = onBase.find((base) => base.format === 'nf4');
        if (fft && nf4) figures.push({ key: `lora-nf4-vs-fft-${model}`, label: `LoRA on NF4: peak saved against FFT (fp32)`, value: 1 - nf4.peak / fft, unit: 'share' });
      }
      break;
    case 'cnn_vs_llm':
      for (const model of CONTRAST_MODELS) {
        const fft = of(model, 'fft');
        if (!fft) continue;
        figures.push({ key: `weight-share-${model}`, label: `GRAD + OPT share of FFT’s peak (what PEFT can remove), ${MODEL_NAMES[model]}`, value: shareOf(fft, ['grad', 'opt']), unit: 'share' });
        figures.push({ key: `act-share-${model}`, label: `ACT share of FFT’s peak, ${MODEL_NAMES[model]}`, value: shareOf(fft, ['act']), unit: 'share' });
      }
      break;
  }
  return figures;
}

/** The basis of the cards' cost verdicts, in words. */
export const STUDY_PROFILING_BASIS = `the study’s profiling setting (analytic: ${STUDY_PROFILING.resolution}×${STUDY_PROFILING.resolution}, batch ${STUDY_PROFILING.batchSize}, width ${STUDY_PROFILING.width}, r = ${STUDY_PROFILING.rank})`;
