import { describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import {
  blocksOf,
  codeAt,
  dequantizeBlockwise,
  nearestNf4,
  NF4_CODE_BOOK,
  paddingOf,
  QUANT_BLOCK,
  quantizeBlockwise,
  storedBytes,
  storedParamBytes,
  wordsOf,
} from './blockwise';

/** N(0, σ) values, seeded. */
function normals(count: number, seed: number, std = 0.05): Float32Array {
  const rng = createRng(seed, 7);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(rng.next(), 1e-12);
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  }
  return out;
}

/** Φ⁻¹, Acklam's rational approximation refined by one Halley step (|error| < 1e-12 here). */
function inverseNormalCdf(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    return -inverseNormalCdf(1 - p);
  }
  // Halley: e = Φ(x) − p with Φ from erfc.
  const e = 0.5 * erfc(-x / Math.SQRT2) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** erfc by its continued fraction / series (Numerical Recipes' erfcc is too coarse for Halley). */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf series: 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let sum = 0;
    let term = x;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz's continued fraction for erfc.
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = x + an * d;
    d = 1 / d;
    c = x + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * Math.sqrt(Math.PI));
}

describe('the NF4 code book', () => {
  it("is QLoRA's NormalFloat4: bitsandbytes' create_normal_map(offset = 0.9677083) rebuilt from Φ⁻¹", () => {
    // 8 positive quantiles of linspace(offset, 0.5, 9)[:-1], 7 negative of linspace(offset, 0.5, 8)[:-1], and 0,
    // sorted and scaled by the largest (torch.linspace in float32: compare to 1e-6).
    const offset = 0.9677083;
    const linspace = (from: number, to: number, count: number) => Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
    const positive = linspace(offset, 0.5, 9).slice(0, -1).map(inverseNormalCdf);
    const negative = linspace(offset, 0.5, 8).slice(0, -1).map((p) => -inverseNormalCdf(p));
    const values = [...positive, 0, ...negative].sort((a, b) => a - b);
    const max = Math.max(...values);
    expect(NF4_CODE_BOOK).toHaveLength(16);
    values.forEach((v, i) => expect(NF4_CODE_BOOK[i]).toBeCloseTo(v / max, 6));
    expect(NF4_CODE_BOOK[7]).toBe(0);
    expect([NF4_CODE_BOOK[0], NF4_CODE_BOOK[15]]).toEqual([-1, 1]);
    // Every entry is a float32 (bitsandbytes' table is float32).
    for (const v of NF4_CODE_BOOK) expect(Math.fround(v)).toBe(v);
  });

  it('nearestNf4 picks the nearest entry', () => {
    for (let i = 0; i <= 2000; i++) {
      const x = -1 + i / 1000;
      const index = nearestNf4(x);
      const best = Math.min(...NF4_CODE_BOOK.map((v) => Math.abs(v - x)));
      expect(Math.abs(NF4_CODE_BOOK[index] - x)).toBeCloseTo(best, 12);
    }
    NF4_CODE_BOOK.forEach((v, i) => expect(nearestNf4(v)).toBe(i));
  });
});

describe('block-wise quantization, block 64', () => {
  it('counts blocks, padding and stored bytes: int8 1 B/value, NF4 ½ B/value, + 4 B/block', () => {
    expect(QUANT_BLOCK).toBe(64);
    expect([blocksOf(64), blocksOf(65), blocksOf(216)]).toEqual([1, 2, 4]);
    expect([paddingOf(64), paddingOf(65), paddingOf(216)]).toEqual([0, 63, 40]);
    // 216 values (a 3×3×24 depthwise weight): 4 blocks of 64 → 256 codes.
    expect(storedBytes('int8', 216)).toBe(256 + 16);
    expect(storedBytes('nf4', 216)).toBe(128 + 16);
    expect([wordsOf('int8', 216), wordsOf('nf4', 216)]).toEqual([64, 32]);
    expect(storedParamBytes({ shape: [3, 3, 24, 1] })).toBe(216 * 4);
    expect(storedParamBytes({ shape: [3, 3, 24, 1], storage: 'nf4' })).toBe(144);
    // A 1×1 conv 320 → 1280 of MobileNetV2: 409,600 values = 6,400 blocks.
    expect(storedBytes('int8', 409_600)).toBe(409_600 + 6_400 * 4);
    expect(storedBytes('nf4', 409_600)).toBe(204_800 + 6_400 * 4);
  });

  it('packs 4 int8 codes / 8 nibbles per int32 word, element i at bits from the least significant end', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : i === 1 ? -1 : i === 3 ? -0.5 : 0));
    const int8 = quantizeBlockwise(values, 'int8');
    expect(int8.codes).toHaveLength(16);
    // Codes 127, −127 (byte 0x81), 0 and round(−63.5) (JS rounds halves up: −63).
    expect([0, 1, 2, 3].map((i) => codeAt(int8, i))).toEqual([127, -127, 0, Math.round(-63.5)]);
    expect(int8.codes[0]).toBe((127 | (0x81 << 8) | (0 << 16) | ((Math.round(-63.5) & 0xff) << 24)) | 0);
    const nf4 = quantizeBlockwise(values, 'nf4');
    expect(nf4.codes).toHaveLength(8);
    expect([0, 1, 2, 3].map((i) => codeAt(nf4, i))).toEqual([15, 0, 7, nearestNf4(-0.5)]);
    expect(nf4.codes[0] & 0xffff).toBe(15 | (0 << 4) | (7 << 8) | (nearestNf4(-0.5) << 12));
    // The padding of a partial block is code 0 (int8) or the exact zero (NF4).
    const partial = quantizeBlockwise([0.3, -0.2, 0.1], 'nf4');
    for (let i = 3; i < 64; i++) expect(codeAt(partial, i)).toBe(7);
  });

  it('int8: every value within absmax/254 of its block (round to nearest of 255 levels)', () => {
    const values = normals(64 * 37 + 11, 3);
    values[100] = 0.9; // one outlier sets its block's scale
    const quantized = quantizeBlockwise(values, 'int8');
    const restored = dequantizeBlockwise(quantized);
    expect(restored).toHaveLength(values.length);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const absmax = quantized.scales[Math.floor(i / 64)];
      const error = Math.abs(restored[i] - values[i]);
      // float32 rounding of the product and quotient: a few ulps of absmax on top.
      expect(error).toBeLessThanOrEqual(absmax / 254 + absmax * 1e-6);
      worst = Math.max(worst, error / (absmax / 254));
    }
    // The bound is tight: some value lands near a midpoint.
    expect(worst).toBeGreaterThan(0.9);
    // Each block's absmax is stored exactly and restores exactly.
    const block = Math.floor(100 / 64);
    expect(quantized.scales[block]).toBe(Math.fround(0.9));
    expect(restored[100]).toBe(Math.fround(0.9));
  });

  it('NF4: every value dequantizes to the nearest code-book value times its absmax', () => {
    const values = normals(64 * 20 + 5, 4);
    const quantized = quantizeBlockwise(values, 'nf4');
    const restored = dequantizeBlockwise(quantized);
    for (let i = 0; i < values.length; i++) {
      const absmax = quantized.scales[Math.floor(i / 64)];
      const candidates = NF4_CODE_BOOK.map((v) => v * absmax);
      const nearest = Math.min(...candidates.map((v) => Math.abs(v - values[i])));
      expect(Math.abs(restored[i] - values[i])).toBeLessThanOrEqual(nearest + absmax * 1e-6);
    }
    // Coarser than int8 on normal weights, and far below the weights' own RMS.
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - values[i]) ** 2, 0) / a.length);
    const int8Error = rms(dequantizeBlockwise(quantizeBlockwise(values, 'int8')));
    expect(rms(restored)).toBeGreaterThan(int8Error);
    expect(rms(restored)).toBeLessThan(0.2 * rms(new Float32Array(values.length)));
  });

  it('an all-zero block stays zero (scale 0)', () => {
    for (const format of ['int8', 'nf4'] as const) {
      const quantized = quantizeBlockwise(new Float32Array(70), format);
      expect(Array.from(quantized.scales)).toEqual([0, 0]);
      expect(Array.from(dequantizeBlockwise(quantized)).every((v) => v === 0)).toBe(true);
    }
  });
});
