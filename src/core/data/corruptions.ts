/**
 * The CIFAR-10-C corruptions (Hendrycks & Dietterich, "Benchmarking Neural Network Robustness
 * to Common Corruptions and Perturbations", ICLR 2019), in TypeScript, with the reference's
 * parameters for CIFAR at severities 1–5. The math and constants follow the reference script
 * `ImageNet-C/create_c/make_cifar_c.py` of https://github.com/hendrycks/robustness, including
 * the library semantics it relies on (skimage, scipy.ndimage, OpenCV, Pillow; see imageops.ts
 * and jpeg.ts). As the reference saves `np.uint8(corrupted)`, outputs are truncated, not rounded.
 *
 * Left out: motion_blur and snow (they need ImageMagick's motion blur) and frost (it needs the
 * reference's frost photographs).
 */
import {
  affineFromPoints,
  boxBlur3,
  canny,
  chamferDistance5,
  correlate2d,
  equalizeHistogram,
  gaussianFilter,
  hsvToRgbInPlace,
  openCvGaussianKernel,
  pillowBoxResize,
  rgbToHsvInPlace,
  sampleBilinear,
  scipyZoomLinear,
  warpAffineLinear,
} from './imageops';
import { jpegRoundTrip } from './jpeg';
import { createRng, type Rng } from '../rng';
import { DATASET_CHANNELS, imageByteLength, type Dataset } from './types';

/** Corruption ids (CLI flags, permalinks, UI), in the order of the CIFAR-10-C release. */
export const CORRUPTION_NAMES = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'glass_blur',
  'zoom_blur',
  'fog',
  'brightness',
  'contrast',
  'elastic_transform',
  'pixelate',
  'jpeg_compression',
  'speckle_noise',
  'gaussian_blur',
  'spatter',
  'saturate',
] as const;
export type CorruptionName = (typeof CORRUPTION_NAMES)[number];

export const CORRUPTION_SEVERITIES = [1, 2, 3, 4, 5] as const;
export type Severity = (typeof CORRUPTION_SEVERITIES)[number];

export function isCorruptionName(value: string): value is CorruptionName {
  return (CORRUPTION_NAMES as readonly string[]).includes(value);
}

export function isSeverity(value: number): value is Severity {
  return Number.isInteger(value) && value >= 1 && value <= 5;
}

/** The reference's per-severity parameters for CIFAR (index = severity − 1). */
export const CORRUPTION_PARAMETERS = {
  gaussian_noise: [0.04, 0.06, 0.08, 0.09, 0.1],
  shot_noise: [500, 250, 100, 75, 50],
  impulse_noise: [0.01, 0.02, 0.03, 0.05, 0.07],
  speckle_noise: [0.06, 0.1, 0.12, 0.16, 0.2],
  gaussian_blur: [0.4, 0.6, 0.7, 0.8, 1],
  /** [sigma, max_delta, iterations] */
  glass_blur: [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]],
  /** [disk radius, alias blur] */
  defocus_blur: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]],
  /** Number of zoom factors 1, 1.01, …: np.arange(1, 1.06 | 1.11 | 1.16 | 1.21 | 1.26, 0.01) yields these counts. */
  zoom_blur: [7, 12, 16, 21, 26],
  /** [fog strength, plasma wibble decay] */
  fog: [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]],
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3],
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15],
  /** [saturation scale, saturation offset] */
  saturate: [[0.3, 0], [0.1, 0], [1.5, 0], [2, 0.1], [2.5, 0.2]],
  /** [displacement scale, displacement smoothing sigma, affine jitter], as multiples of the 32-px image size. */
  elastic_transform: [[0, 0, 0.08], [0.05, 0.2, 0.07], [0.08, 0.06, 0.06], [0.1, 0.04, 0.05], [0.1, 0.03, 0.03]],
  /** Downscale factor; the image goes to int(32·c) px and back. */
  pixelate: [0.95, 0.9, 0.85, 0.75, 0.65],
  /** JPEG quality. */
  jpeg_compression: [80, 65, 58, 50, 40],
  /** [liquid mean, liquid std, liquid blur sigma, threshold, intensity, mud (1) or water (0)] */
  spatter: [[0.62, 0.1, 0.7, 0.7, 0.5, 0], [0.65, 0.1, 0.8, 0.7, 0.5, 0], [0.65, 0.3, 1, 0.69, 0.5, 0], [0.65, 0.1, 0.7, 0.69, 0.6, 1], [0.65, 0.1, 0.5, 0.68, 0.6, 1]],
} as const satisfies Record<CorruptionName, readonly unknown[]>;

/** The reference's image size, against which elastic_transform's parameters are scaled. */
const REFERENCE_SIZE = 32;

interface ImageInput {
  /** HWC RGB bytes. */
  pixels: Uint8Array;
  height: number;
  width: number;
  severity: Severity;
  rng: Rng;
}

/** Each corruption maps an 8-bit image to floats in [0, 255] (or bytes), like the reference functions. */
type Corruption = (input: ImageInput) => Float64Array | Uint8Array;

/** `np.array(x) / 255.` */
function toUnit(pixels: Uint8Array): Float64Array {
  const out = new Float64Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/** `np.clip(x, 0, 1) * 255`, in place. */
function clipScale(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) values[i] = (values[i] < 0 ? 0 : values[i] > 1 ? 1 : values[i]) * 255;
  return values;
}

/** `np.uint8(x)` of values in [0, 255]: truncation toward zero. */
function truncateToBytes(values: Float64Array | Uint8Array): Uint8Array {
  if (values instanceof Uint8Array) return values;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out[i] = value >= 255 ? 255 : value > 0 ? Math.trunc(value) : 0;
  }
  return out;
}

const CORRUPTIONS: Readonly<Record<CorruptionName, Corruption>> = {
  gaussian_noise: ({ pixels, severity, rng }) => {
    const std = CORRUPTION_PARAMETERS.gaussian_noise[severity - 1];
    const x = toUnit(pixels);
    for (let i = 0; i < x.length; i++) x[i] += rng.normal(0, std);
    return clipScale(x);
  },

  shot_noise: ({ pixels, severity, rng }) => {
    const photons = CORRUPTION_PARAMETERS.shot_noise[severity - 1];
    const x = toUnit(pixels);
    for (let i = 0; i < x.length; i++) x[i] = rng.poisson(x[i] * photons) / photons;
    return clipScale(x);
  },

  impulse_noise: ({ pixels, severity, rng }) => {
    // skimage.util.random_noise(mode='s&p', amount=c): each value independently flipped with
    // probability c, to 1 (salt) or 0 (pepper) with equal odds.
    const amount = CORRUPTION_PARAMETERS.impulse_noise[severity - 1];
    const x = toUnit(pixels);
    for (let i = 0; i < x.length; i++) {
      if (rng.next() < amount) x[i] = rng.next() < 0.5 ? 1 : 0;
    }
    return clipScale(x);
  },

  speckle_noise: ({ pixels, severity, rng }) => {
    const std = CORRUPTION_PARAMETERS.speckle_noise[severity - 1];
    const x = toUnit(pixels);
    for (let i = 0; i < x.length; i++) x[i] += x[i] * rng.normal(0, std);
    return clipScale(x);
  },

  gaussian_blur: ({ pixels, height, width, severity }) => {
    const sigma = CORRUPTION_PARAMETERS.gaussian_blur[severity - 1];
    return clipScale(gaussianFilter(toUnit(pixels), height, width, 3, sigma, 'nearest'));
  },

  glass_blur: ({ pixels, height, width, severity, rng }) => {
    const [sigma, maxDelta, iterations] = CORRUPTION_PARAMETERS.glass_blur[severity - 1];
    const blurred = gaussianFilter(toUnit(pixels), height, width, 3, sigma, 'nearest');
    const x = new Uint8Array(blurred.length);
    for (let i = 0; i < x.length; i++) x[i] = Math.trunc(blurred[i] * 255);
    // Locally shuffle pixels, bottom-right to top-left; randint(-d, d) excludes +d.
    for (let iteration = 0; iteration < iterations; iteration++) {
      for (let h = height - maxDelta; h > maxDelta; h--) {
        for (let w = width - maxDelta; w > maxDelta; w--) {
          const dx = -maxDelta + rng.int(2 * maxDelta);
          const dy = -maxDelta + rng.int(2 * maxDelta);
          const a = (h * width + w) * 3;
          const b = ((h + dy) * width + (w + dx)) * 3;
          for (let c = 0; c < 3; c++) {
            const swap = x[a + c];
            x[a + c] = x[b + c];
            x[b + c] = swap;
          }
        }
      }
    }
    return clipScale(gaussianFilter(toUnit(x), height, width, 3, sigma, 'nearest'));
  },

  defocus_blur: ({ pixels, height, width, severity }) => {
    const [radius, aliasBlur] = CORRUPTION_PARAMETERS.defocus_blur[severity - 1];
    const { kernel, size } = defocusDisk(radius, aliasBlur);
    return clipScale(correlate2d(toUnit(pixels), height, width, 3, kernel, size, 'mirror'));
  },

  zoom_blur: ({ pixels, height, width, severity }) => {
    if (height !== width) throw new RangeError('zoom_blur needs a square image');
    const factorCount = CORRUPTION_PARAMETERS.zoom_blur[severity - 1];
    const x = toUnit(pixels);
    const sum = x.slice();
    // The reference's factors are np.arange(1, stop, 0.01), which NumPy fills as 1 + k·δ with
    // δ = (1 + 0.01) − 1 = 0.010000000000000009: at severity 5 the last factor is 1.2500000000000002,
    // whose crop zooms to round(32.500000000000006) = 33 px, not 32.
    const step = 1 + 0.01 - 1;
    for (let k = 0; k < factorCount; k++) {
      const zoomed = clippedZoom(x, height, 1 + k * step);
      for (let i = 0; i < sum.length; i++) sum[i] += zoomed[i];
    }
    for (let i = 0; i < sum.length; i++) sum[i] /= factorCount + 1;
    return clipScale(sum);
  },

  fog: ({ pixels, height, width, severity, rng }) => {
    const [strength, wibbleDecay] = CORRUPTION_PARAMETERS.fog[severity - 1];
    const x = toUnit(pixels);
    let maxValue = 0;
    for (const value of x) maxValue = Math.max(maxValue, value);
    let mapSize = REFERENCE_SIZE;
    while (mapSize < Math.max(height, width)) mapSize *= 2;
    const plasma = plasmaFractal(mapSize, wibbleDecay, rng);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * width + xx) * 3 + c;
          x[i] = ((x[i] + strength * plasma[y * mapSize + xx]) * maxValue) / (maxValue + strength);
        }
      }
    }
    return clipScale(x);
  },

  brightness: ({ pixels, severity }) => {
    const shift = CORRUPTION_PARAMETERS.brightness[severity - 1];
    const x = toUnit(pixels);
    rgbToHsvInPlace(x);
    for (let i = 2; i < x.length; i += 3) x[i] = Math.min(1, Math.max(0, x[i] + shift));
    hsvToRgbInPlace(x);
    return clipScale(x);
  },

  contrast: ({ pixels, height, width, severity }) => {
    const factor = CORRUPTION_PARAMETERS.contrast[severity - 1];
    const x = toUnit(pixels);
    const means = [0, 0, 0];
    for (let i = 0; i < x.length; i++) means[i % 3] += x[i];
    for (let c = 0; c < 3; c++) means[c] /= height * width;
    for (let i = 0; i < x.length; i++) x[i] = (x[i] - means[i % 3]) * factor + means[i % 3];
    return clipScale(x);
  },

  saturate: ({ pixels, severity }) => {
    const [scale, offset] = CORRUPTION_PARAMETERS.saturate[severity - 1];
    const x = toUnit(pixels);
    rgbToHsvInPlace(x);
    for (let i = 1; i < x.length; i += 3) x[i] = Math.min(1, Math.max(0, x[i] * scale + offset));
    hsvToRgbInPlace(x);
    return clipScale(x);
  },

  elastic_transform: ({ pixels, height, width, severity, rng }) => {
    const [displacementScale, smoothing, jitter] = CORRUPTION_PARAMETERS.elastic_transform[severity - 1].map((value) => value * REFERENCE_SIZE);
    const x = toUnit(pixels);
    // Random affine: three points around the centre, each moved by up to ±jitter px.
    const centreX = Math.floor(width / 2);
    const centreY = Math.floor(height / 2);
    const squareSize = Math.floor(Math.min(height, width) / 3);
    const source: [number, number][] = [
      [centreX + squareSize, centreY + squareSize],
      [centreX + squareSize, centreY - squareSize],
      [centreX - squareSize, centreY - squareSize],
    ];
    const destination = source.map(([px, py]) => [px + rng.uniform(-jitter, jitter), py + rng.uniform(-jitter, jitter)] as [number, number]);
    const warped = warpAffineLinear(x, height, width, 3, affineFromPoints(source, destination));
    // Smooth random displacement field (scipy gaussian, mode 'reflect', truncate 3).
    const field = (): Float64Array => {
      const noise = new Float64Array(height * width);
      for (let i = 0; i < noise.length; i++) noise[i] = rng.uniform(-1, 1);
      const smoothed = gaussianFilter(noise, height, width, 1, smoothing, 'reflect', 3);
      for (let i = 0; i < smoothed.length; i++) smoothed[i] = Math.fround(smoothed[i] * displacementScale);
      return smoothed;
    };
    const dx = field();
    const dy = field();
    // map_coordinates(order=1, mode='reflect') at (y + dy, x + dx).
    const out = new Float64Array(x.length);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        const sourceY = y + dy[y * width + xx];
        const sourceX = xx + dx[y * width + xx];
        for (let c = 0; c < 3; c++) out[(y * width + xx) * 3 + c] = sampleBilinear(warped, height, width, 3, sourceY, sourceX, c, 'reflect');
      }
    }
    return clipScale(out);
  },

  pixelate: ({ pixels, height, width, severity }) => {
    const factor = CORRUPTION_PARAMETERS.pixelate[severity - 1];
    const smallHeight = Math.trunc(height * factor);
    const smallWidth = Math.trunc(width * factor);
    const small = pillowBoxResize(pixels, height, width, smallHeight, smallWidth);
    return pillowBoxResize(small, smallHeight, smallWidth, height, width);
  },

  jpeg_compression: ({ pixels, height, width, severity }) =>
    jpegRoundTrip(pixels, height, width, CORRUPTION_PARAMETERS.jpeg_compression[severity - 1]),

  spatter: ({ pixels, height, width, severity, rng }) => {
    const [mean, std, blurSigma, threshold, intensity, mud] = CORRUPTION_PARAMETERS.spatter[severity - 1];
    const x = toUnit(pixels);
    const noise = new Float64Array(height * width);
    for (let i = 0; i < noise.length; i++) noise[i] = rng.normal(mean, std);
    const liquid = gaussianFilter(noise, height, width, 1, blurSigma, 'nearest');
    for (let i = 0; i < liquid.length; i++) if (liquid[i] < threshold) liquid[i] = 0;
    return mud === 0 ? waterSpatter(x, liquid, height, width, intensity) : mudSpatter(x, liquid, height, width, threshold, intensity);
  },
};

/**
 * The reference's `disk`: an aliased disk of the radius on a 17×17 grid, normalised, then
 * anti-aliased by OpenCV GaussianBlur (3×3, σ = aliasBlur, BORDER_REFLECT_101).
 */
function defocusDisk(radius: number, aliasBlur: number): { kernel: Float64Array; size: number } {
  const half = radius <= 8 ? 8 : Math.ceil(radius);
  const blurSize = radius <= 8 ? 3 : 5;
  const size = 2 * half + 1;
  const disk = new Float64Array(size * size);
  let total = 0;
  for (let y = -half; y <= half; y++) {
    for (let x = -half; x <= half; x++) {
      if (x * x + y * y <= radius * radius) {
        disk[(y + half) * size + x + half] = 1;
        total++;
      }
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i] = Math.fround(disk[i] / total);
  const blur1d = openCvGaussianKernel(blurSize, aliasBlur);
  const blur2d = new Float64Array(blurSize * blurSize);
  for (let y = 0; y < blurSize; y++) for (let x = 0; x < blurSize; x++) blur2d[y * blurSize + x] = blur1d[y] * blur1d[x];
  return { kernel: correlate2d(disk, size, size, 1, blur2d, blurSize, 'mirror'), size };
}

/** The reference's clipped_zoom: zoom the central crop by `factor` (scipy, linear) and crop back to `side`. */
function clippedZoom(image: Float64Array, side: number, factor: number): Float64Array {
  const cropSide = Math.ceil(side / factor);
  const top = Math.floor((side - cropSide) / 2);
  const crop = new Float64Array(cropSide * cropSide * 3);
  for (let y = 0; y < cropSide; y++) {
    crop.set(image.subarray(((top + y) * side + top) * 3, ((top + y) * side + top + cropSide) * 3), y * cropSide * 3);
  }
  // scipy sizes its output with Python's round(), which rounds halves to even.
  const zoomedSide = roundHalfEven(cropSide * factor);
  const zoomed = scipyZoomLinear(crop, cropSide, 3, zoomedSide / cropSide);
  const trim = Math.floor((zoomed.side - side) / 2);
  const out = new Float64Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    out.set(zoomed.image.subarray(((trim + y) * zoomed.side + trim) * 3, ((trim + y) * zoomed.side + trim + side) * 3), y * side * 3);
  }
  return out;
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The reference's plasma_fractal (diamond-square, after FLHerne/mapgen): a mapSize² height map in
 * [0, 1]; `wibble` starts at 100 and is divided by `wibbleDecay` each level, and each new point is
 * the mean of its four neighbours plus wibble · U(−wibble, wibble). Neighbours wrap around.
 */
export function plasmaFractal(mapSize: number, wibbleDecay: number, rng: Rng): Float64Array {
  if ((mapSize & (mapSize - 1)) !== 0) throw new RangeError('plasmaFractal: mapSize must be a power of two');
  const map = new Float64Array(mapSize * mapSize);
  const at = (y: number, x: number): number => map[(((y % mapSize) + mapSize) % mapSize) * mapSize + (((x % mapSize) + mapSize) % mapSize)];
  let step = mapSize;
  let wibble = 100;
  const wibbledMean = (sum: number): number => sum / 4 + wibble * rng.uniform(-wibble, wibble);
  while (step >= 2) {
    const half = step / 2;
    // Squares: centre of each square of corners `step` apart.
    for (let y = 0; y < mapSize; y += step) {
      for (let x = 0; x < mapSize; x += step) {
        map[(y + half) * mapSize + x + half] = wibbledMean(at(y, x) + at(y + step, x) + at(y, x + step) + at(y + step, x + step));
      }
    }
    // Diamonds: edge midpoints, from the two adjacent corners and the two adjacent centres.
    for (let y = 0; y < mapSize; y += step) {
      for (let x = 0; x < mapSize; x += step) {
        // Top-edge midpoint (y, x + half): corners (y, x), (y, x + step); centres above and below.
        map[y * mapSize + x + half] = wibbledMean(at(y, x) + at(y, x + step) + at(y + half, x + half) + at(y - half, x + half));
        // Left-edge midpoint (y + half, x): corners (y, x), (y + step, x); centres left and right.
        map[(y + half) * mapSize + x] = wibbledMean(at(y, x) + at(y + step, x) + at(y + half, x + half) + at(y + half, x - half));
      }
    }
    step = half;
    wibble /= wibbleDecay;
  }
  let min = Infinity;
  for (const value of map) min = Math.min(min, value);
  let max = -Infinity;
  for (let i = 0; i < map.length; i++) {
    map[i] -= min;
    max = Math.max(max, map[i]);
  }
  if (max > 0) for (let i = 0; i < map.length; i++) map[i] /= max;
  return map;
}

/** Spatter severities 1–3: water drops whose rims are found by Canny and shaded by a distance transform. */
function waterSpatter(x: Float64Array, liquid: Float64Array, height: number, width: number, intensity: number): Float64Array {
  const pixelCount = height * width;
  // (liquid * 255).astype(uint8); values past 1 are clipped rather than wrapped around.
  const liquidBytes = new Uint8Array(pixelCount);
  for (let i = 0; i < pixelCount; i++) liquidBytes[i] = Math.min(255, Math.max(0, Math.trunc(liquid[i] * 255)));
  const edges = canny(Float64Array.from(liquidBytes), height, width, 50, 150);
  // Distance from each pixel to the nearest drop rim, truncated at 20 px.
  const notEdge = edges.map((value) => 255 - value);
  const distance = chamferDistance5(notEdge, height, width);
  for (let i = 0; i < pixelCount; i++) distance[i] = Math.fround(Math.min(distance[i], 20));
  const blurred = boxBlur3(distance, height, width);
  const blurredBytes = new Uint8Array(pixelCount);
  for (let i = 0; i < pixelCount; i++) blurredBytes[i] = Math.trunc(blurred[i]);
  const equalised = equalizeHistogram(blurredBytes);
  // filter2D with an emboss kernel, saturated to 8 bits, then a 3×3 mean rounded to 8 bits.
  const emboss = Float64Array.of(-2, -1, 0, -1, 1, 1, 0, 1, 2);
  const embossed = correlate2d(Float64Array.from(equalised), height, width, 1, emboss, 3, 'mirror');
  for (let i = 0; i < pixelCount; i++) embossed[i] = Math.min(255, Math.max(0, Math.round(embossed[i])));
  const shading = boxBlur3(embossed, height, width);
  for (let i = 0; i < pixelCount; i++) shading[i] = Math.min(255, Math.max(0, Math.round(shading[i])));

  const mask = new Float64Array(pixelCount);
  let maxMask = 0;
  for (let i = 0; i < pixelCount; i++) {
    mask[i] = liquidBytes[i] * shading[i];
    maxMask = Math.max(maxMask, mask[i]);
  }
  // The reference divides by the maximum unguarded; with no liquid at all there is nothing to add.
  if (maxMask === 0) return clipScale(x);
  // Pale turquoise (175, 238, 238) in the image's channel order.
  const colour = [175 / 255, 238 / 255, 238 / 255];
  for (let i = 0; i < pixelCount; i++) {
    const amount = (mask[i] / maxMask) * intensity;
    for (let c = 0; c < 3; c++) x[i * 3 + c] += amount * colour[c];
  }
  return clipScale(x);
}

/** Spatter severities 4–5: opaque mud blotches where the blurred liquid mask is above 0.8. */
function mudSpatter(x: Float64Array, liquid: Float64Array, height: number, width: number, threshold: number, sigma: number): Float64Array {
  const pixelCount = height * width;
  const wet = new Float64Array(pixelCount);
  for (let i = 0; i < pixelCount; i++) wet[i] = liquid[i] > threshold ? 1 : 0;
  const mask = gaussianFilter(wet, height, width, 1, sigma, 'nearest');
  for (let i = 0; i < pixelCount; i++) if (mask[i] < 0.8) mask[i] = 0;
  // Mud brown (63, 42, 20).
  const colour = [63 / 255, 42 / 255, 20 / 255];
  for (let i = 0; i < pixelCount; i++) {
    for (let c = 0; c < 3; c++) x[i * 3 + c] = x[i * 3 + c] * (1 - mask[i]) + colour[c] * mask[i];
  }
  return clipScale(x);
}

/** Applies one corruption to one HWC RGB image; all randomness comes from `rng`. */
export function corruptImage(pixels: Uint8Array, height: number, width: number, name: CorruptionName, severity: Severity, rng: Rng): Uint8Array {
  if (!isSeverity(severity)) throw new RangeError(`severity must be 1–5, got ${severity}`);
  const corruption = CORRUPTIONS[name];
  if (!corruption) throw new RangeError(`unknown corruption "${name}"; expected one of ${CORRUPTION_NAMES.join(', ')}`);
  if (pixels.length !== height * width * DATASET_CHANNELS) throw new RangeError(`image has ${pixels.length} bytes, expected ${height}×${width}×3`);
  return truncateToBytes(corruption({ pixels, height, width, severity, rng }));
}

/**
 * A corrupted copy of a dataset (labels shared). Image i draws its randomness from
 * (seed, i) alone, so any image can be reproduced on its own and results do not depend on
 * batching or on how many images come before it.
 */
export function corruptDataset(dataset: Dataset, name: CorruptionName, severity: Severity, seed: number): Dataset {
  const perImage = imageByteLength(dataset);
  const images = new Uint8Array(dataset.images.length);
  const count = dataset.labels.length;
  for (let index = 0; index < count; index++) {
    const pixels = dataset.images.subarray(index * perImage, (index + 1) * perImage);
    images.set(corruptImage(pixels, dataset.height, dataset.width, name, severity, createRng(seed, index)), index * perImage);
  }
  return { ...dataset, images, labels: dataset.labels.slice() };
}
