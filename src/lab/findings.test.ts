import { beforeAll, describe, expect, it } from 'vitest';
import { STUDY_CLAIMS } from './claims';
import { DEFAULT_CONFIG, hasErrors, validateConfig } from './config';
import { findingById, FINDING_MODELS, FINDINGS, findingFigures, findingRequests, tryItConfig } from './findings';
import { costMeasurementOn } from './labMeasurements';
import { FINDING_IDS, type FindingId } from './ids';
import type { ProfiledRequest } from './labMeasurements';
import { profileMethods, profileRequestOf } from './profileMethods';
import type { ModelId } from '../core/ids';

let profiled: Partial<Record<ModelId, ProfiledRequest>>;

beforeAll(() => {
  const requests = findingRequests(DEFAULT_CONFIG);
  profiled = Object.fromEntries(FINDING_MODELS.map((model) => [model, { request: requests[model], byMethod: profileMethods(requests[model]).profiles }]));
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
      expect(profileRequestOf(config)).toEqual(requests[finding.tryIt.model]);
    }
  });

  it('shows the contrast the study found: PEFT saves far less on MobileNetV2, where ACT dominates, than on ResNet-18', () => {
    const mobilenet = figure('activations_dominate', 'lora-saving-mobilenet_v2');
    const resnet = figure('activations_dominate', 'lora-saving-resnet18');
    expect(mobilenet).toBeGreaterThan(0);
    expect(resnet).toBeGreaterThan(2 * mobilenet);
    expect(figure('activations_dominate', 'act-share-mobilenet_v2')).toBeGreaterThan(0.5);
    expect(figure('activations_dominate', 'act-share-resnet18')).toBeLessThan(0.25);
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
    const request = findingRequests(DEFAULT_CONFIG).vit_tiny;
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
