/**
 * The lossy path of a baseline JPEG encode + decode, as Pillow does it through libjpeg with its
 * defaults (`img.save(f, 'JPEG', quality=q)` then decode): RGB→YCbCr in libjpeg's fixed point,
 * 4:2:0 chroma subsampling (libjpeg's h2v2 averaging), 8×8 DCT per block, quantisation by the
 * standard tables (ITU T.81 Annex K) scaled by quality as libjpeg's jpeg_quality_scaling, then
 * dequantisation, inverse DCT, libjpeg's "fancy" (triangle) chroma upsampling and YCbCr→RGB.
 * The Huffman entropy coding between encoder and decoder is lossless, so it is left out: the
 * decoded pixels are the same as those of the full codec (up to libjpeg's integer DCT rounding).
 */

// ITU T.81 Annex K.1, in natural (row-major) order.
const LUMINANCE_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMINANCE_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** libjpeg's quality → table scaling (jcparam.c), with force_baseline (entries ≤ 255) as Pillow passes. */
export function jpegQuantTables(quality: number): { luminance: Int32Array; chrominance: Int32Array } {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  const scaleTable = (base: readonly number[]): Int32Array =>
    Int32Array.from(base, (value) => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
  return { luminance: scaleTable(LUMINANCE_QUANT), chrominance: scaleTable(CHROMINANCE_QUANT) };
}

// cos((2x + 1)uπ / 16) · C(u)/2, the orthonormal 8-point DCT-II basis JPEG uses.
const DCT_BASIS = (() => {
  const basis = new Float64Array(64);
  for (let u = 0; u < 8; u++) {
    const cu = u === 0 ? Math.SQRT1_2 : 1;
    for (let x = 0; x < 8; x++) basis[u * 8 + x] = (cu / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return basis;
})();

/** Quantises and dequantises one 8×8 block of level-shifted samples in place (forward DCT, round, inverse DCT). */
function roundTripBlock(block: Float64Array, table: Int32Array, scratch: Float64Array): void {
  // Forward 2-D DCT: rows then columns.
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let x = 0; x < 8; x++) sum += DCT_BASIS[u * 8 + x] * block[y * 8 + x];
      scratch[y * 8 + u] = sum;
    }
  }
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let y = 0; y < 8; y++) sum += DCT_BASIS[v * 8 + y] * scratch[y * 8 + u];
      const step = table[v * 8 + u];
      // libjpeg rounds half away from zero when quantising.
      const quantised = Math.sign(sum) * Math.floor(Math.abs(sum) / step + 0.5);
      block[v * 8 + u] = quantised * step;
    }
  }
  // Inverse 2-D DCT.
  for (let v = 0; v < 8; v++) {
    for (let x = 0; x < 8; x++) {
      let sum = 0;
      for (let u = 0; u < 8; u++) sum += DCT_BASIS[u * 8 + x] * block[v * 8 + u];
      scratch[v * 8 + x] = sum;
    }
  }
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let sum = 0;
      for (let v = 0; v < 8; v++) sum += DCT_BASIS[v * 8 + y] * scratch[v * 8 + x];
      block[y * 8 + x] = sum;
    }
  }
}

/** Runs every 8×8 block of a plane (sides multiples of 8) through quantisation; returns 8-bit samples. */
function roundTripPlane(plane: Int32Array, height: number, width: number, table: Int32Array): Int32Array {
  const out = new Int32Array(plane.length);
  const block = new Float64Array(64);
  const scratch = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * width + bx + x] - 128;
      roundTripBlock(block, table, scratch);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) out[(by + y) * width + bx + x] = Math.min(255, Math.max(0, Math.round(block[y * 8 + x]) + 128));
      }
    }
  }
  return out;
}

const FIX = (x: number): number => Math.round(x * 65536);
const ONE_HALF = 1 << 15;

/** JPEG-compresses and decompresses an HWC RGB image at `quality`, as Pillow + libjpeg defaults do. */
export function jpegRoundTrip(image: Uint8Array, height: number, width: number, quality: number): Uint8Array {
  const tables = jpegQuantTables(quality);
  // libjpeg pads the image to whole MCUs (16×16 for 4:2:0) by replicating the last column/row.
  const paddedHeight = Math.ceil(height / 16) * 16;
  const paddedWidth = Math.ceil(width / 16) * 16;
  const luma = new Int32Array(paddedHeight * paddedWidth);
  const cb = new Int32Array(paddedHeight * paddedWidth);
  const cr = new Int32Array(paddedHeight * paddedWidth);
  for (let y = 0; y < paddedHeight; y++) {
    for (let x = 0; x < paddedWidth; x++) {
      const source = (Math.min(y, height - 1) * width + Math.min(x, width - 1)) * 3;
      const r = image[source];
      const g = image[source + 1];
      const b = image[source + 2];
      const i = y * paddedWidth + x;
      // jccolor.c fixed point; chroma rounds with ONE_HALF - 1.
      luma[i] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + ONE_HALF) >> 16;
      cb[i] = (-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.5) * b + (128 << 16) + ONE_HALF - 1) >> 16;
      cr[i] = (FIX(0.5) * r - FIX(0.41869) * g - FIX(0.08131) * b + (128 << 16) + ONE_HALF - 1) >> 16;
    }
  }
  const chromaHeight = paddedHeight / 2;
  const chromaWidth = paddedWidth / 2;
  const decodedLuma = roundTripPlane(luma, paddedHeight, paddedWidth, tables.luminance);
  const decodedCb = upsampleFancy(roundTripPlane(downsampleH2V2(cb, paddedHeight, paddedWidth), chromaHeight, chromaWidth, tables.chrominance), chromaHeight, chromaWidth);
  const decodedCr = upsampleFancy(roundTripPlane(downsampleH2V2(cr, paddedHeight, paddedWidth), chromaHeight, chromaWidth, tables.chrominance), chromaHeight, chromaWidth);

  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * paddedWidth + x;
      const yy = decodedLuma[i];
      const blue = decodedCb[i] - 128;
      const red = decodedCr[i] - 128;
      // jdcolor.c fixed point.
      const r = yy + ((FIX(1.402) * red + ONE_HALF) >> 16);
      const g = yy + ((-FIX(0.34414) * blue - FIX(0.71414) * red + ONE_HALF) >> 16);
      const b = yy + ((FIX(1.772) * blue + ONE_HALF) >> 16);
      const target = (y * width + x) * 3;
      out[target] = Math.min(255, Math.max(0, r));
      out[target + 1] = Math.min(255, Math.max(0, g));
      out[target + 2] = Math.min(255, Math.max(0, b));
    }
  }
  return out;
}

/** libjpeg's h2v2_downsample: 2×2 mean with an alternating rounding bias of 1, 2. */
function downsampleH2V2(plane: Int32Array, height: number, width: number): Int32Array {
  const outHeight = height / 2;
  const outWidth = width / 2;
  const out = new Int32Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const top = 2 * y * width + 2 * x;
      const bias = x % 2 === 0 ? 1 : 2;
      out[y * outWidth + x] = (plane[top] + plane[top + 1] + plane[top + width] + plane[top + width + 1] + bias) >> 2;
    }
  }
  return out;
}

/**
 * libjpeg's h2v2_fancy_upsample: each output sample is ¾·nearest + ¼·next-nearest input
 * sample in each direction (triangle filter), edges replicated, with its rounding constants.
 */
function upsampleFancy(plane: Int32Array, height: number, width: number): Int32Array {
  const outWidth = width * 2;
  const out = new Int32Array(height * 2 * outWidth);
  const columnSums = new Int32Array(width);
  for (let y = 0; y < height; y++) {
    for (let half = 0; half < 2; half++) {
      const neighbourRow = Math.min(height - 1, Math.max(0, half === 0 ? y - 1 : y + 1));
      for (let x = 0; x < width; x++) columnSums[x] = 3 * plane[y * width + x] + plane[neighbourRow * width + x];
      const outRow = (2 * y + half) * outWidth;
      if (width === 1) {
        out[outRow] = (columnSums[0] * 4 + 8) >> 4;
        out[outRow + 1] = (columnSums[0] * 4 + 7) >> 4;
        continue;
      }
      out[outRow] = (columnSums[0] * 4 + 8) >> 4;
      out[outRow + 1] = (columnSums[0] * 3 + columnSums[1] + 7) >> 4;
      for (let x = 1; x < width - 1; x++) {
        out[outRow + 2 * x] = (columnSums[x] * 3 + columnSums[x - 1] + 8) >> 4;
        out[outRow + 2 * x + 1] = (columnSums[x] * 3 + columnSums[x + 1] + 7) >> 4;
      }
      const last = width - 1;
      out[outRow + 2 * last] = (columnSums[last] * 3 + columnSums[last - 1] + 8) >> 4;
      out[outRow + 2 * last + 1] = (columnSums[last] * 4 + 7) >> 4;
    }
  }
  return out;
}
