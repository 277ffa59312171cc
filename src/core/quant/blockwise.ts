// Block-wise absmax quantization of a frozen weight (QLoRA, Dettmers et al. 2023, arXiv 2305.14314),
// block 64: the flat weight (lab layout) is cut into blocks of 64 values, each block keeps its
// absmax as a float32 scale (no double quantization: the scales are not quantized again), and each
// value one code:
//   int8  q = round(127 · w / absmax) ∈ [−127, 127],       w ≈ q · absmax / 127;
//   nf4   the index of the nearest NormalFloat4 value to w / absmax,  w ≈ NF4[index] · absmax.
// A weight whose size is not a multiple of 64 is padded with zeros to whole blocks; the padding is
// stored (and counted) like any other value.
//
// Storage, as the engine holds it (tfjs has no int8 dtype): the codes packed into int32 words, 4
// int8 codes (two's complement bytes) or 8 NF4 nibbles per word, element i in byte/nibble i mod 4
// (or 8) from the least significant end, and the scales as float32. So a quantized weight takes
// exactly storedBytes(): 1 byte (int8) or ½ byte (NF4) per value plus 4 bytes per block.
// Pure (no tfjs): the engine (src/core/nn/quantized.ts), the kernels and the profiler share it.
import type { ParamSpec, QuantizedFormat } from '../models/spec';

/** Values per block (QLoRA's, bitsandbytes' blocksize=64). */
export const QUANT_BLOCK = 64;

/**
 * The 16 NormalFloat4 values, sorted: bitsandbytes' table (csrc/kernels.cu, `nf4_dequantization_lut`,
 * the values of functional.create_normal_map(offset=0.9677083, use_extra_value=True) as float32):
 * quantiles of N(0, 1), 8 positive and 7 negative plus an exact zero, scaled to [−1, 1].
 */
export const NF4_CODE_BOOK: readonly number[] = Object.freeze([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/** Codes per int32 word. */
export const CODES_PER_WORD: Readonly<Record<QuantizedFormat, number>> = { int8: 4, nf4: 8 };

export interface QuantizedValues {
  format: QuantizedFormat;
  /** Values quantized (the weight's size, padding excluded). */
  size: number;
  /** Packed codes, blocks · 64 / CODES_PER_WORD words. */
  codes: Int32Array;
  /** One absmax per block. */
  scales: Float32Array;
}

export const blocksOf = (size: number): number => Math.ceil(size / QUANT_BLOCK);

/** Zeros appended to make whole blocks. */
export const paddingOf = (size: number): number => blocksOf(size) * QUANT_BLOCK - size;

/** int32 words of packed codes for `size` values. */
export const wordsOf = (format: QuantizedFormat, size: number): number => (blocksOf(size) * QUANT_BLOCK) / CODES_PER_WORD[format];

/** Bytes a quantized weight of `size` values is stored in: packed codes (padding included) plus
 * one float32 scale per block. */
export function storedBytes(format: QuantizedFormat, size: number): number {
  return wordsOf(format, size) * 4 + blocksOf(size) * 4;
}

/** The NF4 index nearest to x ∈ [−1, 1] (the lower one on a tie). */
export function nearestNf4(x: number): number {
  // The code book is sorted: the nearest is the first whose midpoint with the next lies above x.
  for (let i = 0; i < NF4_CODE_BOOK.length - 1; i++) {
    if (x <= (NF4_CODE_BOOK[i] + NF4_CODE_BOOK[i + 1]) / 2) return i;
  }
  return NF4_CODE_BOOK.length - 1;
}

/** Quantizes `values` block-wise (block 64, absmax scales) into packed codes. */
export function quantizeBlockwise(values: ArrayLike<number>, format: QuantizedFormat): QuantizedValues {
  const size = values.length;
  const blocks = blocksOf(size);
  const codes = new Int32Array(wordsOf(format, size));
  const scales = new Float32Array(blocks);
  const perWord = CODES_PER_WORD[format];
  const bits = 32 / perWord;
  const mask = (1 << bits) - 1;
  for (let block = 0; block < blocks; block++) {
    const start = block * QUANT_BLOCK;
    const end = Math.min(start + QUANT_BLOCK, size);
    let absmax = 0;
    for (let i = start; i < end; i++) absmax = Math.max(absmax, Math.abs(values[i]));
    scales[block] = absmax;
    // Padding (i ≥ size) is 0: int8 code 0, NF4 index 7 (the exact zero).
    for (let i = start; i < start + QUANT_BLOCK; i++) {
      const x = i < end && absmax > 0 ? values[i] / absmax : 0;
      const code = format === 'int8' ? Math.round(127 * x) : nearestNf4(x);
      codes[Math.floor(i / perWord)] |= (code & mask) << (bits * (i % perWord));
    }
  }
  return { format, size, codes, scales };
}

/** The code of value `i`: int8 as a signed integer, NF4 as an index into NF4_CODE_BOOK. */
export function codeAt(quantized: Pick<QuantizedValues, 'format' | 'codes'>, i: number): number {
  const perWord = CODES_PER_WORD[quantized.format];
  const bits = 32 / perWord;
  const word = quantized.codes[Math.floor(i / perWord)];
  // Shift the field to the top, then back down: arithmetic for int8 (sign-extends), logical for NF4.
  const top = word << (32 - bits * ((i % perWord) + 1));
  return quantized.format === 'int8' ? top >> 24 : top >>> 28;
}

/** The dequantized value of one code with its block's absmax, rounded to float32 as the kernels do:
 * int8 f32(q · absmax) / 127, NF4 f32(NF4[index]) · absmax. */
export function dequantizeCode(format: QuantizedFormat, code: number, absmax: number): number {
  return format === 'int8' ? Math.fround(Math.fround(code * absmax) / 127) : Math.fround(Math.fround(NF4_CODE_BOOK[code]) * absmax);
}

/** The weight the codes stand for (`size` values, padding dropped). */
export function dequantizeBlockwise(quantized: QuantizedValues): Float32Array {
  const out = new Float32Array(quantized.size);
  for (let i = 0; i < out.length; i++) {
    out[i] = dequantizeCode(quantized.format, codeAt(quantized, i), quantized.scales[Math.floor(i / QUANT_BLOCK)]);
  }
  return out;
}

/** Bytes a parameter is stored in: float32, or its quantized storage (codes plus scales). */
export function storedParamBytes(param: Pick<ParamSpec, 'shape' | 'storage'>): number {
  const size = param.shape.reduce((a, b) => a * b, 1);
  return param.storage ? storedBytes(param.storage, size) : size * 4;
}
