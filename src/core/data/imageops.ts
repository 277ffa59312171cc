/**
 * Image operations the CIFAR-10-C corruptions need, reimplemented from the semantics of the
 * libraries the reference code calls (scipy.ndimage, skimage.color, OpenCV, Pillow), so the
 * TypeScript corruptions do the same math. Images here are float planes or HWC float arrays.
 */

/** How a filter reads past the image edge, named as scipy.ndimage names its modes. */
export type BorderMode =
  | 'reflect' // half-sample symmetric: d c b a | a b c d | d c b a (OpenCV BORDER_REFLECT)
  | 'mirror' // whole-sample symmetric: d c b | a b c d | c b a (OpenCV BORDER_REFLECT_101)
  | 'nearest'; // edge replicated: a a a | a b c d | d d d (OpenCV BORDER_REPLICATE)

/** Maps an integer index, possibly outside [0, length), into it per `mode`. */
export function borderIndex(index: number, length: number, mode: BorderMode): number {
  if (index >= 0 && index < length) return index;
  if (length === 1) return 0;
  if (mode === 'nearest') return index < 0 ? 0 : length - 1;
  if (mode === 'reflect') {
    const period = 2 * length;
    let i = ((index % period) + period) % period;
    if (i >= length) i = period - 1 - i;
    return i;
  }
  const period = 2 * length - 2;
  let i = ((index % period) + period) % period;
  if (i >= length) i = period - i;
  return i;
}

/** scipy.ndimage's 1-D Gaussian kernel: radius = int(truncate·σ + 0.5), normalised. */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const weight = Math.exp((-0.5 * i * i) / (sigma * sigma));
    kernel[i + radius] = weight;
    sum += weight;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

/**
 * Separable Gaussian filter of a channels-last image (height × width × channels), as
 * scipy.ndimage.gaussian_filter with sigma (σ, σ, 0): each channel filtered on its own.
 * skimage.filters.gaussian calls exactly this (its default mode is 'nearest').
 */
export function gaussianFilter(
  image: Float64Array,
  height: number,
  width: number,
  channels: number,
  sigma: number,
  mode: BorderMode,
  truncate = 4,
): Float64Array {
  // scipy skips axes whose sigma is (near) zero.
  if (sigma <= 1e-15) return image.slice();
  const kernel = gaussianKernel1d(sigma, truncate);
  const radius = (kernel.length - 1) / 2;
  const rows = new Float64Array(image.length);
  // scipy filters axis 0 (rows) first, then axis 1.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          sum += kernel[k + radius] * image[(borderIndex(y + k, height, mode) * width + x) * channels + c];
        }
        rows[(y * width + x) * channels + c] = sum;
      }
    }
  }
  const out = new Float64Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          sum += kernel[k + radius] * rows[(y * width + borderIndex(x + k, width, mode)) * channels + c];
        }
        out[(y * width + x) * channels + c] = sum;
      }
    }
  }
  return out;
}

/**
 * 2-D correlation of each channel with a (2r+1)×(2r+1) kernel, anchor at the centre, as
 * OpenCV's filter2D (which correlates, not convolves) with its default BORDER_REFLECT_101.
 */
export function correlate2d(
  image: Float64Array,
  height: number,
  width: number,
  channels: number,
  kernel: Float64Array,
  kernelSize: number,
  mode: BorderMode = 'mirror',
): Float64Array {
  const radius = (kernelSize - 1) / 2;
  const taps: { dy: number; dx: number; weight: number }[] = [];
  for (let ky = 0; ky < kernelSize; ky++) {
    for (let kx = 0; kx < kernelSize; kx++) {
      const weight = kernel[ky * kernelSize + kx];
      if (weight !== 0) taps.push({ dy: ky - radius, dx: kx - radius, weight });
    }
  }
  const out = new Float64Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (const { dy, dx, weight } of taps) {
          sum += weight * image[(borderIndex(y + dy, height, mode) * width + borderIndex(x + dx, width, mode)) * channels + c];
        }
        out[(y * width + x) * channels + c] = sum;
      }
    }
  }
  return out;
}

/** OpenCV's getGaussianKernel for an odd size and σ > 0. */
export function openCvGaussianKernel(size: number, sigma: number): Float64Array {
  const kernel = new Float64Array(size);
  const centre = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    kernel[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
    sum += kernel[i];
  }
  for (let i = 0; i < size; i++) kernel[i] /= sum;
  return kernel;
}

/** 3×3 mean filter (OpenCV `blur(src, (3, 3))`, BORDER_REFLECT_101) of one plane. */
export function boxBlur3(plane: Float64Array, height: number, width: number): Float64Array {
  return correlate2d(plane, height, width, 1, new Float64Array(9).fill(1 / 9), 3, 'mirror');
}

/** skimage.color.rgb2hsv of HWC RGB in [0, 1], in place. Ties between maxima go to the later channel, as skimage's assignment order does. */
export function rgbToHsvInPlace(image: Float64Array): void {
  for (let i = 0; i < image.length; i += 3) {
    const r = image[i];
    const g = image[i + 1];
    const b = image[i + 2];
    const value = Math.max(r, g, b);
    const delta = value - Math.min(r, g, b);
    let hue = 0;
    if (delta !== 0) {
      if (b === value) hue = 4 + (r - g) / delta;
      else if (g === value) hue = 2 + (b - r) / delta;
      else hue = (g - b) / delta;
      hue = (((hue / 6) % 1) + 1) % 1; // Python's % is non-negative for a positive divisor.
    }
    image[i] = hue;
    image[i + 1] = delta === 0 ? 0 : delta / value;
    image[i + 2] = value;
  }
}

/** skimage.color.hsv2rgb, in place. */
export function hsvToRgbInPlace(image: Float64Array): void {
  for (let i = 0; i < image.length; i += 3) {
    const h = image[i];
    const s = image[i + 1];
    const v = image[i + 2];
    const sector = Math.floor(h * 6);
    const f = h * 6 - sector;
    const p = v * (1 - s);
    const q = v * (1 - f * s);
    const t = v * (1 - (1 - f) * s);
    let r: number;
    let g: number;
    let b: number;
    switch (((sector % 6) + 6) % 6) {
      case 0: [r, g, b] = [v, t, p]; break;
      case 1: [r, g, b] = [q, v, p]; break;
      case 2: [r, g, b] = [p, v, t]; break;
      case 3: [r, g, b] = [p, q, v]; break;
      case 4: [r, g, b] = [t, p, v]; break;
      default: [r, g, b] = [v, p, q]; break;
    }
    image[i] = r;
    image[i + 1] = g;
    image[i + 2] = b;
  }
}

/**
 * Pillow's `Image.resize(size, Image.BOX)` of an 8-bit HWC image: separable, horizontal pass
 * then vertical, each rounded back to 8 bits as Pillow's fixed-point resampler does.
 */
export function pillowBoxResize(image: Uint8Array, height: number, width: number, outHeight: number, outWidth: number): Uint8Array {
  let current = image;
  let currentWidth = width;
  if (outWidth !== width) {
    current = resamplePass(current, height, width, outWidth, 'horizontal');
    currentWidth = outWidth;
  }
  if (outHeight !== height) current = resamplePass(current, height, currentWidth, outHeight, 'vertical');
  return current === image ? image.slice() : current;
}

function resamplePass(image: Uint8Array, height: number, width: number, outSize: number, direction: 'horizontal' | 'vertical'): Uint8Array {
  const inSize = direction === 'horizontal' ? width : height;
  const coefficients = pillowBoxCoefficients(inSize, outSize);
  const outHeight = direction === 'horizontal' ? height : outSize;
  const outWidth = direction === 'horizontal' ? outSize : width;
  const out = new Uint8Array(outHeight * outWidth * 3);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = coefficients[direction === 'horizontal' ? x : y];
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) {
          const source = direction === 'horizontal' ? (y * width + start + k) * 3 + c : ((start + k) * width + x) * 3 + c;
          sum += weights[k] * image[source];
        }
        out[(y * outWidth + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(sum)));
      }
    }
  }
  return out;
}

/** Pillow's precompute_coeffs for the box filter (support 0.5, widened by the scale when shrinking). */
function pillowBoxCoefficients(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = 0.5 * filterScale;
  const result: { start: number; weights: Float64Array }[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const centre = (xx + 0.5) * scale;
    const start = Math.max(0, Math.trunc(centre - support + 0.5));
    const end = Math.min(inSize, Math.trunc(centre + support + 0.5));
    const weights = new Float64Array(Math.max(0, end - start));
    let total = 0;
    for (let k = 0; k < weights.length; k++) {
      const t = (k + start - centre + 0.5) / filterScale;
      weights[k] = t > -0.5 && t <= 0.5 ? 1 : 0;
      total += weights[k];
    }
    if (total !== 0) for (let k = 0; k < weights.length; k++) weights[k] /= total;
    result.push({ start, weights });
  }
  return result;
}

/** Linear interpolation of an HWC image at fractional (y, x), reading past the edges per `mode`. */
export function sampleBilinear(
  image: Float64Array,
  height: number,
  width: number,
  channels: number,
  y: number,
  x: number,
  channel: number,
  mode: BorderMode,
): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const ya = borderIndex(y0, height, mode);
  const yb = borderIndex(y0 + 1, height, mode);
  const xa = borderIndex(x0, width, mode);
  const xb = borderIndex(x0 + 1, width, mode);
  const at = (yy: number, xx: number): number => image[(yy * width + xx) * channels + channel];
  return (1 - fy) * ((1 - fx) * at(ya, xa) + fx * at(ya, xb)) + fy * ((1 - fx) * at(yb, xa) + fx * at(yb, xb));
}

/**
 * scipy.ndimage.zoom(plane, factor, order=1) of an HWC image (channels not zoomed): output side
 * round(side·factor), corner-aligned sampling (grid_mode=False), as the reference's clipped_zoom uses.
 */
export function scipyZoomLinear(image: Float64Array, side: number, channels: number, factor: number): { image: Float64Array; side: number } {
  const outSide = Math.round(side * factor);
  const out = new Float64Array(outSide * outSide * channels);
  const step = outSide > 1 ? (side - 1) / (outSide - 1) : 0;
  for (let y = 0; y < outSide; y++) {
    for (let x = 0; x < outSide; x++) {
      for (let c = 0; c < channels; c++) {
        out[(y * outSide + x) * channels + c] = sampleBilinear(image, side, side, channels, y * step, x * step, c, 'nearest');
      }
    }
  }
  return { image: out, side: outSide };
}

/** The 2×3 affine matrix mapping three source points onto three destination points (OpenCV getAffineTransform). */
export function affineFromPoints(source: readonly (readonly [number, number])[], destination: readonly (readonly [number, number])[]): Float64Array {
  // Solve [x y 1]·m = x' and [x y 1]·n = y' by Cramer's rule.
  const [[x0, y0], [x1, y1], [x2, y2]] = source;
  const determinant = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1);
  if (Math.abs(determinant) < 1e-12) throw new RangeError('affineFromPoints: source points are collinear');
  const solve = (v0: number, v1: number, v2: number): [number, number, number] => [
    (v0 * (y1 - y2) - y0 * (v1 - v2) + (v1 * y2 - v2 * y1)) / determinant,
    (x0 * (v1 - v2) - v0 * (x1 - x2) + (x1 * v2 - x2 * v1)) / determinant,
    (x0 * (y1 * v2 - y2 * v1) - y0 * (x1 * v2 - x2 * v1) + v0 * (x1 * y2 - x2 * y1)) / determinant,
  ];
  const [a, b, c] = solve(destination[0][0], destination[1][0], destination[2][0]);
  const [d, e, f] = solve(destination[0][1], destination[1][1], destination[2][1]);
  return Float64Array.of(a, b, c, d, e, f);
}

/**
 * OpenCV warpAffine(src, M, size, INTER_LINEAR, BORDER_REFLECT_101): each output pixel samples
 * the source at M⁻¹·(x, y), with the fractional part quantised to 1/32 as OpenCV's tables do.
 */
export function warpAffineLinear(image: Float64Array, height: number, width: number, channels: number, matrix: Float64Array): Float64Array {
  const [a, b, c, d, e, f] = matrix;
  const determinant = a * e - b * d;
  const ia = e / determinant;
  const ib = -b / determinant;
  const id = -d / determinant;
  const ie = a / determinant;
  const out = new Float64Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x - c;
      const v = y - f;
      const sourceX = Math.round((ia * u + ib * v) * 32) / 32;
      const sourceY = Math.round((id * u + ie * v) * 32) / 32;
      for (let ch = 0; ch < channels; ch++) {
        out[(y * width + x) * channels + ch] = sampleBilinear(image, height, width, channels, sourceY, sourceX, ch, 'mirror');
      }
    }
  }
  return out;
}

/**
 * OpenCV Canny(image, low, high) with a 3×3 Sobel (BORDER_REPLICATE) and the L1 gradient
 * magnitude: non-maximum suppression along the gradient's quantised direction, then
 * hysteresis (weak edges 8-connected to a strong one are kept). Returns 255 on edges, else 0.
 */
export function canny(plane: Float64Array, height: number, width: number, low: number, high: number): Uint8Array {
  const at = (y: number, x: number): number => plane[borderIndex(y, height, 'nearest') * width + borderIndex(x, width, 'nearest')];
  const gradX = new Float64Array(height * width);
  const gradY = new Float64Array(height * width);
  const magnitude = new Float64Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const gx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
      const gy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
      gradX[y * width + x] = gx;
      gradY[y * width + x] = gy;
      magnitude[y * width + x] = Math.abs(gx) + Math.abs(gy);
    }
  }
  // Magnitude outside the image counts as 0, as in OpenCV's padded buffer.
  const mag = (y: number, x: number): number => (y < 0 || y >= height || x < 0 || x >= width ? 0 : magnitude[y * width + x]);
  const tan22 = Math.tan(Math.PI / 8);
  const lowThreshold = Math.floor(low);
  const highThreshold = Math.floor(high);
  // 0: not an edge, 1: weak candidate, 2: strong edge.
  const state = new Uint8Array(height * width);
  const stack: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = magnitude[y * width + x];
      if (m <= lowThreshold) continue;
      const gx = gradX[y * width + x];
      const gy = gradY[y * width + x];
      const ax = Math.abs(gx);
      const ay = Math.abs(gy);
      let isMaximum: boolean;
      if (ay < ax * tan22) isMaximum = m > mag(y, x - 1) && m >= mag(y, x + 1);
      else if (ay > ax * (tan22 + 2)) isMaximum = m > mag(y - 1, x) && m >= mag(y + 1, x);
      else {
        const s = gx * gy < 0 ? -1 : 1;
        isMaximum = m > mag(y - 1, x - s) && m > mag(y + 1, x + s);
      }
      if (!isMaximum) continue;
      if (m > highThreshold) {
        state[y * width + x] = 2;
        stack.push(y * width + x);
      } else {
        state[y * width + x] = 1;
      }
    }
  }
  while (stack.length > 0) {
    const index = stack.pop() as number;
    const y = Math.floor(index / width);
    const x = index % width;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const ny = y + dy;
        const nx = x + dx;
        if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
        if (state[ny * width + nx] === 1) {
          state[ny * width + nx] = 2;
          stack.push(ny * width + nx);
        }
      }
    }
  }
  const edges = new Uint8Array(height * width);
  for (let i = 0; i < edges.length; i++) edges[i] = state[i] === 2 ? 255 : 0;
  return edges;
}

/**
 * OpenCV distanceTransform(src, DIST_L2, 5): distance from each non-zero pixel to the nearest
 * zero pixel by the 5×5 chamfer metric (steps 1, 1.4 and 2.1969), two raster passes. Pixels with
 * no zero pixel anywhere get a large value.
 */
export function chamferDistance5(plane: Uint8Array, height: number, width: number): Float64Array {
  const far = 1e9;
  const distance = new Float64Array(height * width);
  for (let i = 0; i < distance.length; i++) distance[i] = plane[i] === 0 ? 0 : far;
  const a = 1;
  const b = 1.4;
  const c = 2.1969;
  const forward: [number, number, number][] = [[-1, 0, a], [0, -1, a], [-1, -1, b], [-1, 1, b], [-2, -1, c], [-2, 1, c], [-1, -2, c], [-1, 2, c]];
  const backward: [number, number, number][] = forward.map(([dy, dx, w]) => [-dy, -dx, w]);
  const pass = (offsets: [number, number, number][], y: number, x: number): void => {
    let best = distance[y * width + x];
    for (const [dy, dx, weight] of offsets) {
      const ny = y + dy;
      const nx = x + dx;
      if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
      best = Math.min(best, distance[ny * width + nx] + weight);
    }
    distance[y * width + x] = best;
  };
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pass(forward, y, x);
  for (let y = height - 1; y >= 0; y--) for (let x = width - 1; x >= 0; x--) pass(backward, y, x);
  return distance;
}

/** OpenCV equalizeHist of an 8-bit plane. */
export function equalizeHistogram(plane: Uint8Array): Uint8Array {
  const histogram = new Uint32Array(256);
  for (const value of plane) histogram[value]++;
  let first = 0;
  while (first < 256 && histogram[first] === 0) first++;
  if (first === 256 || histogram[first] === plane.length) return plane.slice();
  const scale = 255 / (plane.length - histogram[first]);
  const lookup = new Uint8Array(256);
  let cumulative = 0;
  for (let value = first + 1; value < 256; value++) {
    cumulative += histogram[value];
    lookup[value] = Math.min(255, Math.round(cumulative * scale));
  }
  return plane.map((value) => lookup[value]);
}
