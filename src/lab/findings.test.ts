import { beforeAll, describe, expect, it } from 'vitest';
import { STUDY_CLAIMS } from './claims';
import { DEFAULT_CONFIG, hasErrors, methodOptionsOf, validateConfig } from './config';
import {
  findingById,
  FINDING_MODELS,
  FINDINGS,
  findingFigures,
  findingRequests,
  QUANTIZED_FORMATS,
  quantizedKey,
  STUDY_PROFILING,
  tryItConfig,
  tryItKey,
  type FindingProfileKey,
  type FindingProfiles,
} from './findings';
import { costMeasurement, costMeasurementOn } from './labMeasurements';
import { FINDING_IDS, type FindingId } from './ids';
import { profileMethods, profileRequestOf } from './profileMethods';
import type { ProfileRequest } from './protocol';
import { applyMethod } from '../core/adapters/definitions';
import type { FrozenWeightFormat } from '../core/ids';
import { buildModelSpec } from '../core/models/registry';
import { profileSpec } from '../core/profile/profile';
import { storedBytes } from '../core/quant/blockwise';
import { isQuantizable, quantizeFrozenBase } from '../core/quant/quantizeBase';

let profiled: FindingProfiles;

beforeAll(() => {
  const requests = findingRequests(DEFAULT_CONFIG);
  profiled = Object.fromEntries((Object.entries(requests) as [FindingProfileKey, ProfileRequest][]).map(([key, request]) => [key, { request, byMethod: profileMethods(request).profiles }]));
});

const figure = (id: FindingId, key: string) => {
  const found = findingFigures(id, profiled).find((f) => f.key === key);
  if (!found) throw new Error(`no figure ${key} on ${id}`);
  return found.value;
};

describe('findings tour', () => {
  it('has one card per finding, each citing existing claims', () => {
    expect(FINDINGS.map((f) => f.id)).toEqual([...FINDING_IDS]);
    const claimIds = new Set<string>(STUDY_CLAIMS.map((c) => c.id));
    for (const finding of FINDINGS) for (const claim of finding.claims) expect(claimIds.has(claim)).toBe(true);
  });

  it("opens, under Try it, a valid configuration whose profile request is exactly the card's", () => {
    const requests = findingRequests(DEFAULT_CONFIG);
    for (const finding of FINDINGS) {
      const config = tryItConfig(finding, DEFAULT_CONFIG);
      expect(hasErrors(validateConfig(config)), finding.id).toBe(false);
      // The card's numbers are the lab charts' numbers after Try it: same request, same profiler.
      expect(profileRequestOf(config)).toEqual(requests[tryItKey(finding)]);
    }
  });

  it('shows the contrast the study found: PEFT saves far less on MobileNetV2, where ACT dominates, than on ResNet-18', () => {
    const mobilenet = figure('activations_dominate', 'lora-saving-mobilenet_v2');
    const resnet = figure('activations_dominate', 'lora-saving-resnet18');
    expect(mobilenet).toBeGreaterThan(0);
    // The lab engine's view: 33.5% against 66.1% (PyTorch's view, which keeps every relu6 output:
    // 26.0% against 69.4%; the lab recomputes a batch norm's applied activation, models/fusion.ts).
    expect(resnet).toBeGreaterThan(1.75 * mobilenet);
    const actShare = { mobilenet: figure('activations_dominate', 'act-share-mobilenet_v2'), resnet: figure('activations_dominate', 'act-share-resnet18') };
    // Lab view, 10 classes: 44.7% against 7.1% (PyTorch's view keeps every relu6 output: more still on MobileNetV2).
    expect(actShare.mobilenet).toBeGreaterThan(0.4);
    expect(actShare.mobilenet).toBeGreaterThan(2 * actShare.resnet);
    expect(actShare.resnet).toBeLessThan(0.25);
  });

  it("reproduces the ~20:1 ratio only with PyTorch's counter; counted correctly backward ≈ 2 × forward", () => {
    expect(figure('flop_ratio_artefact', 'ratio-torch-mobilenet_v2')).toBeGreaterThan(10);
    expect(figure('flop_ratio_artefact', 'ratio-correct-mobilenet_v2')).toBeGreaterThan(1.5);
    expect(figure('flop_ratio_artefact', 'ratio-correct-mobilenet_v2')).toBeLessThan(2.05);
    // No grouped convs in ResNet-18: both counters agree.
    expect(figure('flop_ratio_artefact', 'ratio-torch-resnet18')).toBeCloseTo(figure('flop_ratio_artefact', 'ratio-correct-resnet18'), 10);
  });

  it('computes every figure of every card from the profiles, and none without them', () => {
    for (const id of FINDING_IDS) {
      const figures = findingFigures(id, profiled);
      expect(figures.length, id).toBeGreaterThan(0);
      for (const f of figures) expect(Number.isFinite(f.value), `${id} ${f.key}`).toBe(true);
      expect(findingFigures(id, {})).toEqual([]);
    }
  });
});

describe('the ViT card', () => {
  it('profiles ViT-Tiny itself (12 blocks) at the study’s setting, and Try it opens it', () => {
    const request = findingRequests(DEFAULT_CONFIG).vit_tiny!;
    expect(request.model).toEqual({ model: 'vit_tiny', width: 1, resolution: 224, stem: 'imagenet', numClasses: 10, depth: 12 });
    expect(request.batch).toBe(1);
    expect(tryItConfig(findingById('vit_transfer'), DEFAULT_CONFIG)).toMatchObject({ model: 'vit_tiny', method: 'lora', depth: 12, resolution: 224 });
    // The CNN cards leave the depth alone.
    expect(tryItConfig(findingById('activations_dominate'), { ...DEFAULT_CONFIG, depth: 3 }).depth).toBe(3);
  });

  it('sets the lab’s ViT numbers beside the CNNs’, each from its own profile', () => {
    const vit = profiled.vit_tiny!.byMethod;
    expect(figure('vit_transfer', 'lora-saving-vit_tiny')).toBeCloseTo(1 - vit.lora!.memory.analytic.peak.total / vit.fft!.memory.analytic.peak.total, 12);
    expect(figure('vit_transfer', 'dora-over-lora-vit_tiny')).toBeCloseTo(vit.dora!.memory.analytic.peak.total / vit.lora!.memory.analytic.peak.total - 1, 12);
    expect(figure('vit_transfer', 'bn-head-saving-vit_tiny')).toBeCloseTo(1 - vit.bn_head!.memory.analytic.peak.total / vit.fft!.memory.analytic.peak.total, 12);
    expect(findingFigures('vit_transfer', profiled).find((f) => f.key === 'bn-head-saving-vit_tiny')!.label).toContain('LN+head');
    expect(figure('vit_transfer', 'lora-saving-mobilenet_v2')).toBe(figure('activations_dominate', 'lora-saving-mobilenet_v2'));
  });

  it('never judges a study claim on the ViT: its cells alone are not comparable, and with the CNNs they change no verdict', () => {
    const basis = 'test';
    const vitOnly = [profiled.vit_tiny!];
    const cnns = FINDING_MODELS.filter((model) => model !== 'vit_tiny').map((model) => profiled[model]!);
    for (const claim of ['dora_memory_over_lora', 'bn_head_memory', 'galore_memory_vs_lora', 'peft_memory_mobilenets'] as const) {
      expect(costMeasurementOn(claim, vitOnly, basis)!.verdict, claim).toBe('not comparable');
      expect(costMeasurementOn(claim, [...cnns, profiled.vit_tiny!], basis), claim).toEqual(costMeasurementOn(claim, cnns, basis));
    }
  });
});

describe('the quantized-base card', () => {
  const MODELS = ['mobilenet_v2', 'resnet18', 'vit_tiny'] as const;

  it('profiles each model on int8 and NF4 bases beside fp32 at the study’s setting, whatever the lab’s own base; Try it opens ResNet-18 LoRA on NF4', () => {
    const requests = findingRequests({ ...DEFAULT_CONFIG, frozenWeights: 'nf4' });
    for (const model of FINDING_MODELS) expect(requests[model]!.frozenWeights, model).toBe('fp32');
    for (const model of MODELS) {
      for (const format of QUANTIZED_FORMATS) {
        expect(requests[quantizedKey(model, format)], `${model}@${format}`).toEqual({ ...requests[model], frozenWeights: format });
      }
    }
    expect(tryItConfig(findingById('quantized_base'), DEFAULT_CONFIG)).toMatchObject({ model: 'resnet18', method: 'lora', frozenWeights: 'nf4', resolution: 224, batchSize: 1, width: 1, rank: 4 });
    expect(tryItKey(findingById('quantized_base'))).toBe('resnet18@nf4');
    // Every other card opens on a float32 base, as its numbers are.
    expect(tryItConfig(findingById('activations_dominate'), { ...DEFAULT_CONFIG, frozenWeights: 'int8' }).frozenWeights).toBe('fp32');
  });

  it('quotes LoRA’s peak on each base as the profiler gives it for the spec with its frozen weights stored quantized', () => {
    const options = methodOptionsOf({ ...DEFAULT_CONFIG, ...STUDY_PROFILING });
    for (const model of MODELS) {
      const lora = applyMethod(buildModelSpec({ model, width: 1, resolution: 224, stem: 'imagenet', numClasses: 10, ...(model === 'vit_tiny' ? { depth: 12 } : {}) }), 'lora', options);
      const profileOn = (format: FrozenWeightFormat) => profileSpec(quantizeFrozenBase(lora, 'lora', format), { batch: 1, optimizer: { kind: 'adam' } }).memory.analytic;
      const peakOn = (format: FrozenWeightFormat) => profileOn(format).peak;
      // (The simultaneous peak may fall at another moment once PARAM shrinks: compare each group's own maximum.)
      const maxima = (format: FrozenWeightFormat) => profileOn(format).maxBytesByGroup;
      const fp32 = peakOn('fp32');
      expect(figure('quantized_base', `lora-peak-fp32-${model}`), model).toBe(fp32.total);
      for (const format of QUANTIZED_FORMATS) {
        const quantized = peakOn(format);
        expect(figure('quantized_base', `lora-peak-${format}-${model}`), `${model} ${format}`).toBe(quantized.total);
        expect(figure('quantized_base', `lora-${format}-saving-${model}`), `${model} ${format}`).toBeCloseTo(1 - quantized.total / fp32.total, 12);
        // What it saves is PARAM alone: each frozen conv/linear weight at its stored width (codes
        // and a float32 scale per block of 64) in place of 4 bytes a weight.
        const saved = Object.values(lora.params)
          .filter(isQuantizable)
          .reduce((sum, param) => sum + 4 * param.shape.reduce((a, b) => a * b, 1) - storedBytes(format, param.shape.reduce((a, b) => a * b, 1)), 0);
        expect(saved, model).toBeGreaterThan(0);
        expect(fp32.bytes.param - quantized.bytes.param, `${model} ${format}`).toBe(saved);
        for (const group of ['grad', 'opt', 'act'] as const) expect(maxima(format)[group], `${model} ${format} ${group}`).toBe(maxima('fp32')[group]);
      }
      const fft = profiled[model]!.byMethod.fft!.memory.analytic.peak.total;
      expect(figure('quantized_base', `lora-nf4-vs-fft-${model}`), model).toBeCloseTo(1 - peakOn('nf4').total / fft, 12);
      expect(figure('quantized_base', `lora-nf4-saving-${model}`), model).toBeGreaterThan(figure('quantized_base', `lora-int8-saving-${model}`));
    }
    // It buys most where the weights are most of the peak: ResNet-18 (44.1%), not MobileNetV2 (15.9%).
    expect(figure('quantized_base', 'lora-nf4-saving-resnet18')).toBeGreaterThan(2.5 * figure('quantized_base', 'lora-nf4-saving-mobilenet_v2'));
  });

  it('keeps FFT and GaLore on float32: they update the base', () => {
    for (const model of MODELS) {
      for (const method of ['fft', 'galore'] as const) {
        expect(profiled[quantizedKey(model, 'nf4')]!.byMethod[method], `${model} ${method}`).toEqual(profiled[model]!.byMethod[method]);
      }
    }
  });

  it('never judges a study claim on a quantized base: its cells alone are not comparable, and beside the float32 ones they change no verdict', () => {
    const basis = 'test';
    const cnns = FINDING_MODELS.filter((model) => model !== 'vit_tiny').map((model) => profiled[model]!);
    for (const claim of ['peft_memory_mobilenets', 'peft_memory_resnet18', 'dora_memory_over_lora', 'bn_head_memory', 'galore_memory_vs_lora'] as const) {
      const alone = costMeasurementOn(claim, [profiled['resnet18@nf4']!, profiled['mobilenet_v2@int8']!], basis)!;
      expect(alone.verdict, claim).toBe('not comparable');
      expect(alone.detail.join(' '), claim).toMatch(/stored nf4, int8, and the study profiled float32 weights/);
      // The lab's own claim lines on a configuration with a quantized base: not comparable either.
      expect(costMeasurement(claim, profiled['resnet18@nf4']!.byMethod, profiled['resnet18@nf4']!.request)!.verdict, claim).toBe('not comparable');
      expect(costMeasurementOn(claim, [...cnns, profiled['resnet18@nf4']!, profiled['mobilenet_v2@nf4']!], basis)!.verdict, claim).toEqual(costMeasurementOn(claim, cnns, basis)!.verdict);
    }
  });
});
