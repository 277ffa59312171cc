import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, hasErrors, validateConfig, type LabConfig } from './config';
import { decodePermalink, encodePermalink, FIELD_KEYS, PERMALINK_VERSION } from './permalink';
import type { RunSummary } from './results';

const CONFIG: LabConfig = {
  ...DEFAULT_CONFIG,
  model: 'resnet18',
  width: 0.25,
  resolution: 48,
  method: 'galore',
  rank: 8,
  galoreUpdateGap: 50,
  galoreScale: 0.25,
  galoreThreshold: 0.01,
  task: 'shift',
  corruption: 'impulse_noise',
  severity: 3,
  dataSource: 'cifar10',
  learningRate: 3e-4,
  batchSize: 16,
  epochs: 20,
  patience: 4,
  seed: 1234,
};

const SUMMARY: RunSummary = {
  labVersion: '0.1.0',
  backend: 'webgpu',
  adapter: 'google · swiftshader · Subzero',
  baselineAccuracy: 0.4125,
  finalAccuracy: 0.8031,
  finalLoss: 0.5112,
  epochsRun: 20,
  steps: 1000,
  stoppedEarly: false,
  trainSeconds: 123.4,
  trainLoss: Array.from({ length: 1000 }, (_, i) => 2.3 * Math.exp(-i / 300)),
  evalAccuracy: Array.from({ length: 20 }, (_, i) => 0.41 + i * 0.02),
  peakBytesByGroup: { param: 1_234_567, grad: 345_678, act: 9_876_543, opt: 691_356, temp: 2_000_000 },
  sumOfGroupMaximaBytes: 15_000_000,
  flopsByPhase: { forward: 123_456_789, backward_input: 120_000_000, backward_weight: 100_000_000, optimizer: 5_000_000, projection: 1_000_000 },
};

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** mulberry32: a small seeded generator, so the fuzz cases are the same on every run. */
function seededRandom(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('permalink', () => {
  it('round-trips a configuration, hidden controls and a results summary', () => {
    const hash = encodePermalink({ config: CONFIG, results: SUMMARY, hidden: ['learningRate', 'seed'] });
    expect(hash.startsWith(`#v=${PERMALINK_VERSION}&`)).toBe(true);
    const decoded = decodePermalink(hash);
    expect(decoded.ignored).toEqual([]);
    expect(decoded.config).toEqual(CONFIG);
    expect(decoded.hidden).toEqual(['learningRate', 'seed']);
    const results = decoded.results!;
    expect(results.peakBytesByGroup).toEqual(SUMMARY.peakBytesByGroup);
    expect(results.flopsByPhase).toEqual(SUMMARY.flopsByPhase);
    expect(results.finalAccuracy).toBeCloseTo(SUMMARY.finalAccuracy, 4);
    expect(results.adapter).toBe(SUMMARY.adapter);
    expect(results.trainLoss.length).toBeLessThanOrEqual(48);
    expect(results.trainLoss[0]).toBeCloseTo(2.3, 3);
    expect(results.evalAccuracy).toHaveLength(20);
    // A link stays short enough to paste anywhere.
    expect(hash.length).toBeLessThan(2000);
  });

  it('an empty hash gives the defaults with no messages', () => {
    expect(decodePermalink('')).toEqual({ config: DEFAULT_CONFIG, results: null, hidden: [], ignored: [] });
    expect(decodePermalink('#').ignored).toEqual([]);
  });

  it('keeps every valid field of a damaged link and says what it ignored', () => {
    const decoded = decodePermalink('#v=1&m=resnet18&r=abc&w=-1&zz=1&lr=0.01');
    expect(decoded.config.model).toBe('resnet18');
    expect(decoded.config.learningRate).toBe(0.01);
    expect(decoded.config.rank).toBe(DEFAULT_CONFIG.rank);
    expect(decoded.config.width).toBe(DEFAULT_CONFIG.width);
    expect(decoded.ignored.join('\n')).toMatch(/Rank: "abc" is not a number/);
    expect(decoded.ignored.join('\n')).toMatch(/Width: "-1": must be between/);
    expect(decoded.ignored.join('\n')).toMatch(/Unknown key "zz"/);
  });

  it('resets fields that clash, and refuses future versions', () => {
    const clash = decodePermalink('#v=1&me=galore&op=sgd');
    expect(clash.config.method).toBe('galore');
    expect(clash.config.optimizer).toBe('adam');
    expect(clash.ignored.join()).toMatch(/GaLore/);
    const future = decodePermalink(`#v=${PERMALINK_VERSION + 1}&m=resnet18`);
    expect(future.config).toEqual(DEFAULT_CONFIG);
    expect(future.ignored.join()).toMatch(/newer lab/);
  });

  it('is immune to prototype-pollution keys in the hash and in the results', () => {
    // JSON.parse makes `__proto__` an own key: the decoder must neither copy nor follow it.
    const payload = base64url('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}');
    const decoded = decodePermalink(`#v=1&__proto__=x&constructor=y&rs=${payload}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(decoded.config).toEqual(DEFAULT_CONFIG);
    expect(decoded.results).toBeNull();
    expect(decoded.ignored.length).toBeGreaterThan(0);
  });

  it('decodes 600 seeded random mutations of links without throwing, to a valid configuration', () => {
    const random = seededRandom(20250723);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const junk = ['', 'NaN', 'Infinity', '-0', '1e999', '0x10', '[]', '{}', 'null', 'true', '%', '%zz', '<img src=x onerror=alert(1)>', '__proto__', 'constructor', '\u0000', '😀', 'a'.repeat(5000)];
    const keys = [...Object.values(FIELD_KEYS), 'v', 't', 'rs', '__proto__', 'prototype', 'constructor', 'x', ''];
    const base = encodePermalink({ config: CONFIG, results: SUMMARY, hidden: ['seed'] }).slice(1);
    const mutations: ((link: string) => string)[] = [
      (link) => link.slice(0, Math.floor(random() * link.length)),
      (link) => {
        const chars = [...link];
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 0x2fff));
        return chars.join('');
      },
      (link) => `${link}&${pick(keys)}=${encodeURIComponent(pick(junk))}`,
      (link) => link.replace(new RegExp(`(^|&)${pick(Object.values(FIELD_KEYS))}=[^&]*`), `$1${pick(Object.values(FIELD_KEYS))}=${encodeURIComponent(pick(junk))}`),
      (link) => link.replace(/^v=\d+/, `v=${pick(['2', '999', '-1', 'x', '1.5', ''])}`),
      () => `v=1&rs=${base64url(`{"__proto__":{"a":1},"lv":${JSON.stringify(pick(junk))},"mg":[1,"x"],"fp":${pick(['null', '5', '{}'])}}`)}`,
      (link) => link.replace(/rs=[^&]*/, `rs=${base64url(pick(junk))}`),
      () => Array.from({ length: 1 + Math.floor(random() * 30) }, () => `${pick(keys)}=${encodeURIComponent(pick(junk))}`).join('&'),
    ];
    for (let i = 0; i < 600; i++) {
      let link = base;
      for (let steps = 1 + Math.floor(random() * 3); steps > 0; steps--) link = pick(mutations)(link);
      const decoded = decodePermalink(`#${link}`);
      expect(hasErrors(validateConfig(decoded.config)), link).toBe(false);
      expect(Array.isArray(decoded.ignored)).toBe(true);
      expect(decoded.ignored.length).toBeLessThanOrEqual(13);
      if (link !== base && decoded.ignored.length === 0) {
        // A silent decode of a changed link is fine only when it is still a well-formed link.
        expect(decodePermalink(encodePermalink(decoded)).config).toEqual(decoded.config);
      }
    }
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });
});

describe('permalink: frozen weights', () => {
  it('round-trips int8 and NF4 bases; a link made before the field opens at fp32', () => {
    for (const frozenWeights of ['int8', 'nf4'] as const) {
      const config: LabConfig = { ...DEFAULT_CONFIG, method: 'dora', frozenWeights };
      const hash = encodePermalink({ config });
      expect(new URLSearchParams(hash.slice(1)).get(FIELD_KEYS.frozenWeights)).toBe(frozenWeights);
      expect(decodePermalink(hash)).toEqual({ config, results: null, hidden: [], ignored: [] });
    }
    const old = new URLSearchParams(encodePermalink({ config: { ...DEFAULT_CONFIG, method: 'bn_head' } }).slice(1));
    old.delete(FIELD_KEYS.frozenWeights);
    expect(decodePermalink(`#${old.toString()}`)).toEqual({ config: { ...DEFAULT_CONFIG, method: 'bn_head' }, results: null, hidden: [], ignored: [] });
  });

  it('a quantized base with full fine-tuning or GaLore is reset to fp32, saying why', () => {
    for (const method of ['fft', 'galore']) {
      const decoded = decodePermalink(`#v=1&${FIELD_KEYS.method}=${method}&${FIELD_KEYS.frozenWeights}=nf4`);
      expect(decoded.config.method).toBe(method);
      expect(decoded.config.frozenWeights).toBe('fp32');
      expect(decoded.ignored.join('\n')).toMatch(/updates the base weights/);
    }
    expect(decodePermalink(`#v=1&${FIELD_KEYS.frozenWeights}=int4`).ignored.join()).toMatch(/Frozen weights/);
  });

  it('validates: fp32 only for the methods that update the base weights', () => {
    for (const method of ['fft', 'bn_head', 'lora', 'dora', 'galore'] as const) {
      const issues = validateConfig({ ...DEFAULT_CONFIG, method, frozenWeights: 'int8' });
      const updatesBase = method === 'fft' || method === 'galore';
      expect(hasErrors(issues), method).toBe(updatesBase);
      if (updatesBase) expect(issues.find((i) => i.field === 'frozenWeights')?.message).toMatch(/updates the base weights, so they stay float32: choose fp32/);
    }
  });
});
