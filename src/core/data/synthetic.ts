/**
 * The embedded source domain: 10 classes of procedurally drawn 32×32 RGB images, generated on
 * the fly (pure typed-array code) and deterministic in (seed, split, index), so the lab works
 * with no download and every run sees the same images.
 *
 * A class is a shape × texture combination (5 shapes × {plain, striped}). Everything else is
 * nuisance the model must learn to ignore: object and background colours, position, scale,
 * rotation, stripe period/angle/phase, a background gradient and blotches, background clutter
 * (small blobs and line segments) and pixel noise. The class mean image is nearly uninformative
 * (colours and positions average out, stripes average to a plain shape), so a pixel-space
 * nearest-mean classifier does poorly while a small CNN learns the domain well.
 */
import { createRng, type Rng } from '../rng';
import type { Dataset } from './types';

export const SYNTHETIC_SHAPES = ['disk', 'square', 'triangle', 'cross', 'ring'] as const;
export const SYNTHETIC_TEXTURES = ['plain', 'striped'] as const;
export type SyntheticShape = (typeof SYNTHETIC_SHAPES)[number];
export type SyntheticTexture = (typeof SYNTHETIC_TEXTURES)[number];

/** Classes 0–4 are the plain shapes and 5–9 the striped ones (unseen_classes splits there). */
export const SYNTHETIC_CLASS_NAMES: readonly string[] = SYNTHETIC_TEXTURES.flatMap((texture) =>
  SYNTHETIC_SHAPES.map((shape) => `${texture} ${shape}`),
);
export const SYNTHETIC_NUM_CLASSES = SYNTHETIC_CLASS_NAMES.length;
export const SYNTHETIC_IMAGE_SIZE = 32;

export const SYNTHETIC_SPLITS = ['train', 'val', 'test'] as const;
export type SyntheticSplit = (typeof SYNTHETIC_SPLITS)[number];
/** Default split sizes of the lab (balanced: multiples of the class count). */
export const SYNTHETIC_DEFAULT_SIZES: Readonly<Record<SyntheticSplit, number>> = { train: 10000, val: 2000, test: 2000 };

// Each split draws from its own seed stream, so the splits never share an image.
const SPLIT_STREAM: Readonly<Record<SyntheticSplit, number>> = { train: 0x7261696e, val: 0x76616c69, test: 0x74657374 };

export function syntheticClassOf(label: number): { shape: SyntheticShape; texture: SyntheticTexture } {
  return {
    shape: SYNTHETIC_SHAPES[label % SYNTHETIC_SHAPES.length],
    texture: SYNTHETIC_TEXTURES[Math.floor(label / SYNTHETIC_SHAPES.length)],
  };
}

export interface SyntheticOptions {
  split: SyntheticSplit;
  count: number;
  /** Base seed of the domain; the lab's default is 0. */
  seed?: number;
  /** Generate only these class ids (cycled in order, so counts stay balanced); labels stay the original ids. */
  classes?: readonly number[];
}

/** Generates `count` images of a split; image i has label classes[i mod classes.length]. */
export function generateSyntheticDataset(options: SyntheticOptions): Dataset {
  const { split, count, seed = 0 } = options;
  const classes = options.classes ?? SYNTHETIC_CLASS_NAMES.map((_, index) => index);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`synthetic count must be a non-negative integer, got ${count}`);
  if (classes.length === 0) throw new RangeError('synthetic classes must not be empty');
  for (const label of classes) {
    if (!Number.isInteger(label) || label < 0 || label >= SYNTHETIC_NUM_CLASSES) throw new RangeError(`synthetic class ${label} is out of range`);
  }
  const size = SYNTHETIC_IMAGE_SIZE;
  const perImage = size * size * 3;
  const images = new Uint8Array(count * perImage);
  const labels = new Uint8Array(count);
  const scratch = new Float32Array(perImage);
  for (let index = 0; index < count; index++) {
    const label = classes[index % classes.length];
    labels[index] = label;
    const rng = createRng(seed, SPLIT_STREAM[split], index);
    renderSyntheticImage(label, rng, scratch);
    const out = images.subarray(index * perImage, (index + 1) * perImage);
    for (let i = 0; i < perImage; i++) out[i] = clampByte(scratch[i]);
  }
  return {
    images,
    labels,
    numClasses: SYNTHETIC_NUM_CLASSES,
    classNames: SYNTHETIC_CLASS_NAMES,
    height: size,
    width: size,
  };
}

type Rgb = [number, number, number];

/** Draws one image of class `label` into `out` (32×32×3 floats, HWC, 0–255 before clamping). */
export function renderSyntheticImage(label: number, rng: Rng, out: Float32Array): void {
  const size = SYNTHETIC_IMAGE_SIZE;
  const { shape, texture } = syntheticClassOf(label);

  // Background: a base colour, a linear gradient and smooth low-frequency blotches.
  const background = randomColour(rng);
  const gradientAngle = rng.uniform(0, 2 * Math.PI);
  const gradientAmplitude = rng.uniform(0, 50);
  const gradX = (Math.cos(gradientAngle) * gradientAmplitude) / size;
  const gradY = (Math.sin(gradientAngle) * gradientAmplitude) / size;
  const blotchGrid = 4;
  const blotches = new Float32Array((blotchGrid + 1) * (blotchGrid + 1) * 3);
  const blotchStrength = rng.uniform(0, 22);
  for (let i = 0; i < blotches.length; i++) blotches[i] = rng.normal(0, blotchStrength);
  for (let y = 0; y < size; y++) {
    const gy = (y / (size - 1)) * blotchGrid;
    const y0 = Math.min(Math.floor(gy), blotchGrid - 1);
    const fy = gy - y0;
    for (let x = 0; x < size; x++) {
      const gx = (x / (size - 1)) * blotchGrid;
      const x0 = Math.min(Math.floor(gx), blotchGrid - 1);
      const fx = gx - x0;
      const shade = (x - size / 2) * gradX + (y - size / 2) * gradY;
      const w00 = (1 - fy) * (1 - fx);
      const w01 = (1 - fy) * fx;
      const w10 = fy * (1 - fx);
      const w11 = fy * fx;
      const i00 = (y0 * (blotchGrid + 1) + x0) * 3;
      const i10 = i00 + (blotchGrid + 1) * 3;
      const base = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const blotch = w00 * blotches[i00 + c] + w01 * blotches[i00 + 3 + c] + w10 * blotches[i10 + c] + w11 * blotches[i10 + 3 + c];
        out[base + c] = background[c] + shade + blotch;
      }
    }
  }

  // Clutter behind the object: small blobs and thin line segments of random colours.
  const clutterCount = rng.int(4);
  for (let k = 0; k < clutterCount; k++) {
    const colour = randomColour(rng);
    if (rng.bernoulli(0.5)) {
      const cx = rng.uniform(0, size);
      const cy = rng.uniform(0, size);
      const radius = rng.uniform(1.2, 3.5);
      paint(out, colour, (x, y) => Math.sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) - radius);
    } else {
      const x0 = rng.uniform(0, size);
      const y0 = rng.uniform(0, size);
      const angle = rng.uniform(0, Math.PI);
      const length = rng.uniform(5, 13);
      const x1 = x0 + Math.cos(angle) * length;
      const y1 = y0 + Math.sin(angle) * length;
      const halfWidth = rng.uniform(0.4, 0.8);
      paint(out, colour, (x, y) => segmentDistance(x, y, x0, y0, x1, y1) - halfWidth);
    }
  }

  // The object: shape of the class at a random pose; colour far enough from the background.
  const radius = rng.uniform(7, 12);
  const margin = radius * 0.6;
  const centreX = rng.uniform(margin, size - margin);
  const centreY = rng.uniform(margin, size - margin);
  const rotation = rng.uniform(0, 2 * Math.PI);
  const cosR = Math.cos(rotation);
  const sinR = Math.sin(rotation);
  const shapeDistance = SHAPE_DISTANCE[shape];
  const foreground = colourAwayFrom(background, rng);
  const stripeColour = colourAwayFrom(foreground, rng);
  const stripePeriod = rng.uniform(3.2, 5.5);
  const stripeAngle = rng.uniform(0, Math.PI);
  const stripeDirX = Math.cos(stripeAngle) / stripePeriod;
  const stripeDirY = Math.sin(stripeAngle) / stripePeriod;
  const stripePhase = rng.next();
  const shadeAngle = rng.uniform(0, 2 * Math.PI);
  const shadeAmount = rng.uniform(0, 30) / radius;
  const shadeX = Math.cos(shadeAngle) * shadeAmount;
  const shadeY = Math.sin(shadeAngle) * shadeAmount;
  const objectColour: Rgb = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - centreX;
      const dy = y + 0.5 - centreY;
      const localX = cosR * dx + sinR * dy;
      const localY = -sinR * dx + cosR * dy;
      // Signed distance in pixels → anti-aliased coverage of this pixel.
      const coverage = clamp01(0.5 - shapeDistance(localX, localY, radius));
      if (coverage <= 0) continue;
      let stripeMix = 0;
      if (texture === 'striped') {
        const t = dx * stripeDirX + dy * stripeDirY + stripePhase;
        const phase = t - Math.floor(t);
        // Soft square wave: 1 inside the stripe, 0 outside, ~1 px transition.
        stripeMix = clamp01((Math.abs(phase - 0.5) - 0.25) * stripePeriod + 0.5);
      }
      const shade = dx * shadeX + dy * shadeY;
      for (let c = 0; c < 3; c++) objectColour[c] = foreground[c] + (stripeColour[c] - foreground[c]) * stripeMix + shade;
      const base = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[base + c] += (objectColour[c] - out[base + c]) * coverage;
    }
  }

  // Sensor noise.
  const noiseStd = rng.uniform(2, 9);
  for (let i = 0; i < out.length; i++) out[i] += rng.normal(0, noiseStd);
}

// Edge normals of the triangle point up, lower right and lower left (30° below the horizontal).
const TRIANGLE_COS = Math.cos(Math.PI / 6);

type ShapeDistance = (x: number, y: number, radius: number) => number;

// Signed distances (negative inside) in the object's own frame, in pixels.
const SHAPE_DISTANCE: Readonly<Record<SyntheticShape, ShapeDistance>> = {
  disk: (x, y, r) => Math.sqrt(x * x + y * y) - r,
  square: (x, y, r) => Math.max(Math.abs(x), Math.abs(y)) - r * 0.8,
  triangle: (x, y, r) => {
    // Equilateral triangle of circumradius 1.15 r: the largest distance past its three edges.
    const inradius = (1.15 * r) / 2;
    const d0 = -y;
    const d1 = x * TRIANGLE_COS + y * 0.5;
    const d2 = -x * TRIANGLE_COS + y * 0.5;
    return Math.max(d0, d1, d2) - inradius;
  },
  cross: (x, y, r) => {
    const halfWidth = r * 0.32;
    const horizontal = Math.max(Math.abs(x) - r, Math.abs(y) - halfWidth);
    const vertical = Math.max(Math.abs(x) - halfWidth, Math.abs(y) - r);
    return Math.min(horizontal, vertical);
  },
  ring: (x, y, r) => Math.abs(Math.sqrt(x * x + y * y) - r * 0.72) - r * 0.28,
};

function paint(out: Float32Array, colour: Rgb, distance: (x: number, y: number) => number): void {
  const size = SYNTHETIC_IMAGE_SIZE;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const coverage = clamp01(0.5 - distance(x + 0.5, y + 0.5));
      if (coverage <= 0) continue;
      const base = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[base + c] += (colour[c] - out[base + c]) * coverage;
    }
  }
}

function segmentDistance(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const vx = x1 - x0;
  const vy = y1 - y0;
  const t = clamp01(((px - x0) * vx + (py - y0) * vy) / (vx * vx + vy * vy));
  const ex = px - x0 - t * vx;
  const ey = py - y0 - t * vy;
  return Math.sqrt(ex * ex + ey * ey);
}

function randomColour(rng: Rng): Rgb {
  return [rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)];
}

/** A random colour at least ~100 levels (RGB distance) from `other`, so the object stays visible. */
function colourAwayFrom(other: Rgb, rng: Rng): Rgb {
  let colour = randomColour(rng);
  for (let attempt = 0; attempt < 32; attempt++) {
    if (Math.hypot(colour[0] - other[0], colour[1] - other[1], colour[2] - other[2]) >= 100) return colour;
    colour = randomColour(rng);
  }
  // Fall back to the complement, which is always far from a colour that is not mid-grey.
  return [255 - other[0], 255 - other[1], 255 - other[2]];
}

function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}
