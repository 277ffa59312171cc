import { beforeAll, describe, expect, it } from 'vitest';
import { STUDY_CLAIMS } from './claims';
import { DEFAULT_CONFIG, hasErrors, validateConfig } from './config';
import { FINDING_MODELS, FINDINGS, findingFigures, findingRequests, tryItConfig } from './findings';
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
