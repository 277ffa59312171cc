import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CORRUPTION_NAMES,
  CORRUPTION_PARAMETERS,
  CORRUPTION_SEVERITIES,
  corruptDataset,
  corruptImage,
  isCorruptionName,
  plasmaFractal,
  type CorruptionName,
  type Severity,
} from './corruptions';
import { rgbToHsvInPlace } from './imageops';
import { jpegQuantTables } from './jpeg';
import { createRng } from '../rng';
import { generateSyntheticDataset } from './synthetic';

const SIZE = 32;
const PIXELS = SIZE * SIZE * 3;
const natural = generateSyntheticDataset({ split: 'test', count: 6, seed: 11 });
const naturalImages = Array.from({ length: 6 }, (_, i) => natural.images.slice(i * PIXELS, (i + 1) * PIXELS));

function constantImage(r: number, g: number, b: number): Uint8Array {
  const image = new Uint8Array(PIXELS);
  for (let p = 0; p < SIZE * SIZE; p++) image.set([r, g, b], p * 3);
  return image;
}
const grey = constantImage(128, 128, 128);

function corrupt(image: Uint8Array, name: CorruptionName, severity: Severity, seed = 1, index = 0): Uint8Array {
  return corruptImage(image, SIZE, SIZE, name, severity, createRng(seed, index));
}

function meanAbsDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Energy of the image's finite differences: what blur removes. */
function highFrequencyEnergy(image: Uint8Array): number {
  let energy = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) {
        const here = image[(y * SIZE + x) * 3 + c];
        if (x + 1 < SIZE) energy += (image[(y * SIZE + x + 1) * 3 + c] - here) ** 2;
        if (y + 1 < SIZE) energy += (image[((y + 1) * SIZE + x) * 3 + c] - here) ** 2;
      }
    }
  }
  return energy;
}

function channelStd(image: Uint8Array, channel: number): number {
  let sum = 0;
  for (let i = channel; i < image.length; i += 3) sum += image[i];
  const mean = sum / (image.length / 3);
  let variance = 0;
  for (let i = channel; i < image.length; i += 3) variance += (image[i] - mean) ** 2;
  return Math.sqrt(variance / (image.length / 3));
}

/** Standard deviation of (corrupted − clean) over many independently corrupted grey images. */
function noiseStd(name: CorruptionName, severity: Severity, image: Uint8Array, copies = 6): number {
  const differences: number[] = [];
  for (let k = 0; k < copies; k++) {
    const out = corrupt(image, name, severity, 3, k);
    for (let i = 0; i < out.length; i++) differences.push(out[i] - image[i]);
  }
  const mean = differences.reduce((a, b) => a + b, 0) / differences.length;
  return Math.sqrt(differences.reduce((a, b) => a + (b - mean) ** 2, 0) / differences.length);
}

const RANDOM_CORRUPTIONS: readonly CorruptionName[] = [
  'gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise', 'glass_blur', 'fog', 'elastic_transform', 'spatter',
];

/**
 * The CIFAR parameters of hendrycks/robustness, ImageNet-C/create_c/make_cifar_c.py, copied from
 * that file (the `c = [...]` of each function, severities 1–5), not from the module under test.
 * zoom_blur's are np.arange(1, 1.06 | 1.11 | 1.16 | 1.21 | 1.26, 0.01), whose lengths (floating
 * point makes each end inclusive) are 7, 12, 16, 21, 26 zoom factors; elastic_transform's are
 * (IMSIZE·a, IMSIZE·b, IMSIZE·c) with IMSIZE = 32, written here as (a, b, c).
 */
const MAKE_CIFAR_C: Record<CorruptionName, readonly unknown[]> = {
  gaussian_noise: [0.04, 0.06, 0.08, 0.09, 0.1],
  shot_noise: [500, 250, 100, 75, 50],
  impulse_noise: [0.01, 0.02, 0.03, 0.05, 0.07],
  speckle_noise: [0.06, 0.1, 0.12, 0.16, 0.2],
  gaussian_blur: [0.4, 0.6, 0.7, 0.8, 1],
  glass_blur: [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]],
  defocus_blur: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]],
  zoom_blur: [7, 12, 16, 21, 26],
  fog: [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]],
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3],
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15],
  saturate: [[0.3, 0], [0.1, 0], [1.5, 0], [2, 0.1], [2.5, 0.2]],
  elastic_transform: [[0, 0, 0.08], [0.05, 0.2, 0.07], [0.08, 0.06, 0.06], [0.1, 0.04, 0.05], [0.1, 0.03, 0.03]],
  pixelate: [0.95, 0.9, 0.85, 0.75, 0.65],
  jpeg_compression: [80, 65, 58, 50, 40],
  spatter: [
    [0.62, 0.1, 0.7, 0.7, 0.5, 0],
    [0.65, 0.1, 0.8, 0.7, 0.5, 0],
    [0.65, 0.3, 1, 0.69, 0.5, 0],
    [0.65, 0.1, 0.7, 0.69, 0.6, 1],
    [0.65, 0.1, 0.5, 0.68, 0.6, 1],
  ],
};

describe('every corruption at every severity', () => {
  it('has the reference parameters for all five severities and a typed id list', () => {
    expect(CORRUPTION_NAMES).toHaveLength(16);
    for (const name of CORRUPTION_NAMES) expect(CORRUPTION_PARAMETERS[name], name).toEqual(MAKE_CIFAR_C[name]);
    // np.arange's lengths, the way NumPy computes them: ceil((stop − start) / step).
    expect([1.06, 1.11, 1.16, 1.21, 1.26].map((stop) => Math.ceil((stop - 1) / 0.01))).toEqual(MAKE_CIFAR_C.zoom_blur);
    expect(isCorruptionName('impulse_noise')).toBe(true);
    expect(isCorruptionName('frost')).toBe(false);
  });

  for (const name of CORRUPTION_NAMES) {
    it(`${name}: changes the image, same seed same output${RANDOM_CORRUPTIONS.includes(name) ? ', other seed other output' : ''}`, () => {
      for (const severity of CORRUPTION_SEVERITIES) {
        const changedImages = naturalImages.filter((image) => meanAbsDifference(corrupt(image, name, severity), image) > 0).length;
        // Spatter only marks images where the random liquid layer crosses its threshold.
        expect(changedImages).toBeGreaterThanOrEqual(name === 'spatter' ? 1 : naturalImages.length);
        const image = naturalImages[0];
        const a = corrupt(image, name, severity, 42);
        expect(a).toHaveLength(PIXELS);
        expect(corrupt(image, name, severity, 42)).toEqual(a);
        if (RANDOM_CORRUPTIONS.includes(name) && name !== 'spatter') expect(corrupt(image, name, severity, 43)).not.toEqual(a);
      }
    });
  }
});

describe('the kind and amount of each corruption', () => {
  it('brightness raises HSV value by the reference amount', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const shift = CORRUPTION_PARAMETERS.brightness[severity - 1];
      const out = corrupt(grey, 'brightness', severity);
      expect(out[0]).toBe(Math.trunc((128 / 255 + shift) * 255));
      expect(out[1]).toBe(out[0]);
      // A coloured pixel keeps hue and saturation while V rises by shift·255 (±1 for truncation).
      const colour = corrupt(constantImage(40, 90, 160), 'brightness', severity);
      expect(Math.abs(Math.max(colour[0], colour[1], colour[2]) - (160 + shift * 255))).toBeLessThanOrEqual(1);
      const hsvIn = Float64Array.of(40 / 255, 90 / 255, 160 / 255);
      const hsvOut = Float64Array.from(colour.subarray(0, 3), (v) => v / 255);
      rgbToHsvInPlace(hsvIn);
      rgbToHsvInPlace(hsvOut);
      expect(hsvOut[0]).toBeCloseTo(hsvIn[0], 2);
      expect(hsvOut[1]).toBeCloseTo(hsvIn[1], 1);
    }
  });

  it('saturate scales HSV saturation by the reference factor and offset', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const [scale, offset] = CORRUPTION_PARAMETERS.saturate[severity - 1];
      const out = corrupt(constantImage(200, 150, 120), 'saturate', severity);
      const hsv = Float64Array.from(out.subarray(0, 3), (v) => v / 255);
      rgbToHsvInPlace(hsv);
      const saturationIn = (200 - 120) / 200;
      expect(hsv[1]).toBeCloseTo(Math.min(1, saturationIn * scale + offset), 1);
      expect(Math.max(...out.subarray(0, 3))).toBeGreaterThanOrEqual(199); // value kept
    }
  });

  it("contrast shrinks each channel's spread about its mean by the factor c", () => {
    const image = naturalImages[1];
    for (const severity of CORRUPTION_SEVERITIES) {
      const factor = CORRUPTION_PARAMETERS.contrast[severity - 1];
      const out = corrupt(image, 'contrast', severity);
      for (let c = 0; c < 3; c++) expect(channelStd(out, c) / channelStd(image, c)).toBeCloseTo(factor, 1);
    }
  });

  it('gaussian noise has std c·255', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const expected = CORRUPTION_PARAMETERS.gaussian_noise[severity - 1] * 255;
      expect(Math.abs(noiseStd('gaussian_noise', severity, grey) / expected - 1)).toBeLessThan(0.04);
    }
  });

  it('shot noise has the Poisson std 255·sqrt(x / c)', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const photons = CORRUPTION_PARAMETERS.shot_noise[severity - 1];
      const expected = 255 * Math.sqrt(128 / 255 / photons);
      expect(Math.abs(noiseStd('shot_noise', severity, grey) / expected - 1)).toBeLessThan(0.06);
    }
  });

  it('speckle noise has std c·x·255', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const expected = CORRUPTION_PARAMETERS.speckle_noise[severity - 1] * 128;
      expect(Math.abs(noiseStd('speckle_noise', severity, grey) / expected - 1)).toBeLessThan(0.06);
    }
  });

  it('impulse noise sets the reference fraction of values to 0 or 255, half each', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const amount = CORRUPTION_PARAMETERS.impulse_noise[severity - 1];
      let salt = 0;
      let pepper = 0;
      let others = 0;
      const copies = 8;
      for (let k = 0; k < copies; k++) {
        for (const value of corrupt(grey, 'impulse_noise', severity, 5, k)) {
          if (value === 255) salt++;
          else if (value === 0) pepper++;
          else if (value !== 128) others++;
        }
      }
      const n = copies * PIXELS;
      const tolerance = 4 * Math.sqrt((amount * (1 - amount)) / n);
      expect(Math.abs((salt + pepper) / n - amount)).toBeLessThan(tolerance);
      expect(Math.abs(salt - pepper) / (salt + pepper)).toBeLessThan(0.15);
      expect(others).toBe(0); // element-wise: untouched values stay exactly as they were
    }
  });

  for (const name of ['gaussian_blur', 'defocus_blur', 'zoom_blur'] as const) {
    it(`${name} lowers high-frequency energy, monotonically in severity`, () => {
      for (const image of naturalImages.slice(0, 3)) {
        const energies = [highFrequencyEnergy(image), ...CORRUPTION_SEVERITIES.map((s) => highFrequencyEnergy(corrupt(image, name, s)))];
        for (let s = 1; s < energies.length; s++) expect(energies[s]).toBeLessThan(energies[s - 1]);
      }
    });
  }

  it('glass blur shuffles pixels locally: the histogram is kept while the layout changes', () => {
    // At CIFAR's small sigmas (0.05–0.4) the blur is faint and the local swaps dominate.
    const image = naturalImages[2];
    const sorted = (values: Uint8Array): Uint8Array => values.slice().sort();
    for (const severity of CORRUPTION_SEVERITIES) {
      const out = corrupt(image, 'glass_blur', severity);
      expect(meanAbsDifference(sorted(out), sorted(image))).toBeLessThan(4);
      expect(meanAbsDifference(out, image)).toBeGreaterThan(4 * meanAbsDifference(sorted(out), sorted(image)));
    }
  });

  it('pixelate makes blocks of int(32·c) px and is nearly idempotent', () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const small = Math.trunc(SIZE * CORRUPTION_PARAMETERS.pixelate[severity - 1]);
      const out = corrupt(naturalImages[3], 'pixelate', severity);
      // Box upscaling repeats each of the `small` columns: at most small − 1 column changes.
      let columnChanges = 0;
      for (let x = 1; x < SIZE; x++) {
        let same = true;
        for (let y = 0; y < SIZE && same; y++) for (let c = 0; c < 3; c++) same &&= out[(y * SIZE + x) * 3 + c] === out[(y * SIZE + x - 1) * 3 + c];
        if (!same) columnChanges++;
      }
      expect(columnChanges).toBeLessThanOrEqual(small - 1);
      const again = corrupt(out, 'pixelate', severity);
      expect(meanAbsDifference(again, out)).toBeLessThan(meanAbsDifference(out, naturalImages[3]));
    }
  });

  it('pixelate keeps a constant image exactly', () => {
    expect(corrupt(grey, 'pixelate', 5)).toEqual(grey);
  });

  it('jpeg uses the libjpeg quality-scaled tables and loses more at lower quality', () => {
    expect(Array.from(jpegQuantTables(50).luminance.subarray(0, 8))).toEqual([16, 11, 10, 16, 24, 40, 51, 61]);
    expect(jpegQuantTables(80).luminance[0]).toBe(6); // (16·40 + 50) / 100 = 6.9 → 6
    expect(jpegQuantTables(40).chrominance[63]).toBe(124); // (99·125 + 50) / 100
    const errors = CORRUPTION_SEVERITIES.map((severity) =>
      naturalImages.reduce((sum, image) => sum + meanAbsDifference(corrupt(image, 'jpeg_compression', severity), image), 0),
    );
    for (let s = 1; s < errors.length; s++) expect(errors[s]).toBeGreaterThan(errors[s - 1] * 0.98);
    expect(errors[4]).toBeGreaterThan(errors[0]);
    for (const severity of CORRUPTION_SEVERITIES) {
      const once = corrupt(naturalImages[4], 'jpeg_compression', severity);
      const twice = corrupt(once, 'jpeg_compression', severity);
      expect(meanAbsDifference(twice, once)).toBeLessThan(meanAbsDifference(once, naturalImages[4]) / 2);
    }
    // A flat grey survives JPEG (DC only).
    expect(meanAbsDifference(corrupt(grey, 'jpeg_compression', 5), grey)).toBeLessThanOrEqual(1);
  });

  it('fog adds a plasma haze that never exceeds the image maximum and lowers contrast', () => {
    const plasma = plasmaFractal(32, 2, createRng(9));
    expect(Math.min(...plasma)).toBe(0);
    expect(Math.max(...plasma)).toBe(1);
    const image = naturalImages[5];
    const maxIn = Math.max(...image);
    for (const severity of CORRUPTION_SEVERITIES) {
      const out = corrupt(image, 'fog', severity);
      expect(Math.max(...out)).toBeLessThanOrEqual(maxIn);
    }
    // Fog of strength c maps x to (x + c·plasma)·max/(max + c): the image's own variation shrinks.
    expect(channelStd(corrupt(image, 'fog', 5), 0)).toBeLessThan(channelStd(image, 0));
  });

  it('spatter adds pale water at severities 1–3 and brown mud at 4–5', () => {
    for (const severity of [1, 2, 3] as const) {
      for (let k = 0; k < 4; k++) {
        const out = corrupt(grey, 'spatter', severity, 8, k);
        // Water only adds turquoise light: no value goes down (beyond truncation).
        for (let i = 0; i < out.length; i++) expect(out[i]).toBeGreaterThanOrEqual(127);
      }
    }
    const white = constantImage(255, 255, 255);
    let mudPixels = 0;
    for (const severity of [4, 5] as const) {
      for (let k = 0; k < 8; k++) {
        const out = corrupt(white, 'spatter', severity, 8, k);
        for (let p = 0; p < SIZE * SIZE; p++) {
          const [r, g, b] = out.subarray(p * 3, p * 3 + 3);
          if (r < 255) {
            mudPixels++;
            // Pulled toward mud brown (63, 42, 20): red stays above green above blue.
            expect(r).toBeGreaterThanOrEqual(g);
            expect(g).toBeGreaterThanOrEqual(b);
          }
        }
      }
    }
    expect(mudPixels).toBeGreaterThan(0);
  });

  it("elastic transform moves pixels but keeps the image's overall brightness", () => {
    for (const severity of CORRUPTION_SEVERITIES) {
      const image = naturalImages[0];
      const out = corrupt(image, 'elastic_transform', severity);
      const mean = (values: Uint8Array): number => values.reduce((a, b) => a + b, 0) / values.length;
      expect(Math.abs(mean(out) - mean(image))).toBeLessThan(12);
      expect(meanAbsDifference(out, image)).toBeGreaterThan(1);
    }
  });
});

describe('corruptDataset', () => {
  it('corrupts each image from (seed, index), keeping labels', () => {
    const data = generateSyntheticDataset({ split: 'val', count: 5 });
    const corrupted = corruptDataset(data, 'impulse_noise', 5, 123);
    expect(corrupted.labels).toEqual(data.labels);
    expect(corrupted.images).not.toEqual(data.images);
    expect(corrupted.images.subarray(3 * PIXELS, 4 * PIXELS)).toEqual(
      corruptImage(data.images.subarray(3 * PIXELS, 4 * PIXELS), SIZE, SIZE, 'impulse_noise', 5, createRng(123, 3)),
    );
    expect(corruptDataset(data, 'impulse_noise', 5, 123).images).toEqual(corrupted.images);
    expect(corruptDataset(data, 'impulse_noise', 5, 124).images).not.toEqual(corrupted.images);
  });

  it('rejects unknown names and severities', () => {
    expect(() => corruptImage(grey, SIZE, SIZE, 'frost' as CorruptionName, 1, createRng(0))).toThrow(/unknown corruption/);
    expect(() => corruptImage(grey, SIZE, SIZE, 'fog', 6 as Severity, createRng(0))).toThrow(/severity/);
  });
});

/**
 * The deterministic corruptions against the reference code run in Python (make_cifar_c.py's own
 * functions with Pillow, scikit-image, scipy and OpenCV): fixtures/corruptions, made by
 * scripts/fixtures/make_corruption_fixtures.py. Both sides truncate to uint8 (np.uint8). Where the
 * reference's float result lies within 1e-4 of an integer (the fixture marks those values: the HSV
 * round trip gives the value channel back exactly in exact arithmetic, zoom_blur runs in float32),
 * truncation may go either way, so those values may differ by one; every other value must be equal.
 */
describe('against the reference code (Python: Pillow, scikit-image, scipy, OpenCV)', () => {
  const directory = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/corruptions');
  const manifest = JSON.parse(readFileSync(join(directory, 'corruptions_32x32.json'), 'utf8')) as { order: CorruptionName[]; sha256: string; bytes: number };
  const data = new Uint8Array(readFileSync(join(directory, 'corruptions_32x32.bin')));
  const outputs = manifest.order.length * CORRUPTION_SEVERITIES.length;
  const input = data.subarray(0, PIXELS);
  const slot = (index: number, severity: Severity) => index * CORRUPTION_SEVERITIES.length + severity - 1;
  const reference = (index: number, severity: Severity) => data.subarray(PIXELS * (1 + slot(index, severity)), PIXELS * (2 + slot(index, severity)));
  /** np.packbits order: the first value is the most significant bit of the first byte. */
  const nearInteger = (index: number, severity: Severity, i: number): boolean => {
    const maskStart = PIXELS * (1 + outputs) + (PIXELS / 8) * slot(index, severity);
    return ((data[maskStart + (i >> 3)] >> (7 - (i & 7))) & 1) === 1;
  };

  it('the fixture is intact and covers every corruption that draws no random numbers', () => {
    expect(data.length).toBe(manifest.bytes);
    expect(data.length).toBe(PIXELS * (1 + outputs) + (PIXELS / 8) * outputs);
    expect(createHash('sha256').update(data).digest('hex')).toBe(manifest.sha256);
    expect([...manifest.order].sort()).toEqual(CORRUPTION_NAMES.filter((name) => !RANDOM_CORRUPTIONS.includes(name)).sort());
  });

  function mismatches(name: CorruptionName, severity: Severity): string[] {
    const index = manifest.order.indexOf(name);
    const ours = corrupt(input, name, severity);
    const theirs = reference(index, severity);
    const found: string[] = [];
    for (let i = 0; i < PIXELS; i++) {
      const d = Math.abs(ours[i] - theirs[i]);
      if (d > 1 || (d === 1 && !nearInteger(index, severity, i))) found.push(`[${i}] ${ours[i]} vs ${theirs[i]}`);
    }
    return found;
  }

  for (const name of manifest.order) {
    if (name === 'jpeg_compression') continue;
    it(`${name}: equal to the reference output at severities 1–5 (±1 only where the reference sits on an integer)`, () => {
      for (const severity of CORRUPTION_SEVERITIES) {
        const found = mismatches(name, severity);
        expect(found.slice(0, 5), `severity ${severity}: ${found.length} values differ`).toEqual([]);
      }
    });
  }
  it('jpeg_compression: within libjpeg integer-DCT rounding of Pillow’s codec at qualities 80–40', () => {
    // libjpeg's islow DCT and quantiser work in fixed point, the lab's DCT in float64, so a
    // coefficient near a quantisation boundary can round the other way and move its 8×8 block by a
    // few levels. Measured against Pillow 12 (libjpeg-turbo): at most 5 apart, 0.02–0.51 on average
    // per quality, 0.18 over all five. Encoding at quality q ± 1 instead is 1.2–2.9 apart on average
    // at four of the five qualities (q = 49 and 50 share nearly the same tables: 0.43).
    const index = manifest.order.indexOf('jpeg_compression');
    let total = 0;
    for (const severity of CORRUPTION_SEVERITIES) {
      const ours = corrupt(input, 'jpeg_compression', severity);
      const theirs = reference(index, severity);
      let worst = 0;
      let sum = 0;
      for (let i = 0; i < PIXELS; i++) {
        worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
        sum += Math.abs(ours[i] - theirs[i]);
      }
      expect(worst, `severity ${severity}`).toBeLessThanOrEqual(6);
      expect(sum / PIXELS, `severity ${severity}`).toBeLessThan(0.6);
      total += sum / PIXELS / CORRUPTION_SEVERITIES.length;
    }
    expect(total).toBeLessThan(0.25);
  });
});
