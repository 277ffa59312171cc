// The lab layer's tables are each one source: every field once with a unique link key and flag,
// every method's options real fields, every claim about real methods, figures typed once.
import { describe, expect, it } from 'vitest';
import { METHOD_IDS } from '../core/ids';
import { claimText, formatFigure, STUDY_CLAIMS } from './claims';
import { CONFIG_FIELDS, CONFIG_SCHEMA, DEFAULT_CONFIG, fieldSchema, isFieldRelevant, validateConfig } from './config';
import { METHOD_DESCRIPTORS, studyFindingOf, takesOption } from './methods';

describe('the configuration schema', () => {
  it('describes each field once, with a unique permalink key and CLI flag', () => {
    expect(new Set(CONFIG_FIELDS).size).toBe(CONFIG_SCHEMA.length);
    expect(new Set(CONFIG_SCHEMA.map((field) => field.key)).size).toBe(CONFIG_SCHEMA.length);
    expect(new Set(CONFIG_SCHEMA.map((field) => field.flag)).size).toBe(CONFIG_SCHEMA.length);
    for (const field of CONFIG_SCHEMA) expect(field.flag).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  it('has defaults that validate, each within its own limits or choices', () => {
    expect(validateConfig(DEFAULT_CONFIG)).toEqual([]);
    for (const field of CONFIG_SCHEMA) {
      if (field.kind === 'number') expect(field.default as number).toBeGreaterThanOrEqual(field.min);
      if (field.kind === 'choice') expect(field.choices).toContain(field.default);
    }
  });

  it('shows a method option exactly when the method takes it', () => {
    for (const method of METHOD_IDS) {
      for (const option of ['rank', 'alpha', 'adaptDepthwise', 'trainBatchNorm', 'galoreUpdateGap', 'galoreScale', 'galoreThreshold'] as const) {
        expect(isFieldRelevant(option, { ...DEFAULT_CONFIG, method }), `${method} ${option}`).toBe(takesOption(method, option));
        expect(fieldSchema(option).id).toBe(option);
      }
    }
    // DoRA's "no depthwise targets" rule, from core's one definition of it.
    expect(takesOption('lora', 'adaptDepthwise')).toBe(true);
    expect(takesOption('dora', 'adaptDepthwise')).toBe(false);
  });
});

describe('the study’s claims and the methods’ words', () => {
  it('every claim concerns real methods and reads with its figure filled in', () => {
    expect(new Set(STUDY_CLAIMS.map((claim) => claim.id)).size).toBe(STUDY_CLAIMS.length);
    for (const claim of STUDY_CLAIMS) {
      for (const method of claim.methods) expect(METHOD_IDS).toContain(method);
      expect(claimText(claim)).not.toContain('{figure}');
      expect(claim.statement.includes('{figure}')).toBe(claim.figure !== null);
    }
  });

  it('method notes take their figures from the claims', () => {
    expect(formatFigure({ unit: 'percent', low: 22, high: 48 })).toBe('22–48%');
    expect(formatFigure({ unit: 'ratio', low: 1.13, high: 2 })).toBe('1.13–2×');
    expect(formatFigure({ unit: 'points', low: 40, high: 40 })).toBe('~40 points');
    expect(studyFindingOf('lora')).toContain('saves only 22–48% of peak memory on MobileNets');
    expect(studyFindingOf('dora')).toContain('DoRA costs 29–58% more peak memory than LoRA.');
    expect(studyFindingOf('bn_head')).toContain('52–85% less peak memory');
    expect(studyFindingOf('fft')).toBe('On MobileNets the backward pass of a training step costs ~20× the FLOPs of its forward pass (PyTorch counter).');
    // The descriptors' own words state no study figure (each figure lives in claims.ts).
    for (const method of METHOD_IDS) {
      const { trains, formula, implementation, newHead } = METHOD_DESCRIPTORS[method];
      expect([trains, formula, implementation, newHead].join(' ')).not.toMatch(/\d+–\d+%|~\d+%|\d+(\.\d+)?–\d+×/);
    }
  });
});
