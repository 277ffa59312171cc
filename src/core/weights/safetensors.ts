// safetensors, the tensor file format of Hugging Face and PyTorch:
//   [8 bytes: header length N, u64 little-endian][N bytes: JSON header][raw little-endian data]
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative
// to the start of the data section) and may hold "__metadata__": {string: string}.
// Reading is strict (as the reference implementation is): every byte of the data section belongs to
// exactly one tensor, in order, and each tensor's byte length equals shape × dtype size.

export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** The reference writer orders tensors by its Dtype enum, descending (U64, I64, F64, F32, U32, …), then by name. */
const DTYPE_WRITE_RANK: Record<SafetensorsDtype, number> = {
  U64: 0, I64: 1, F64: 2, F32: 3, U32: 4, I32: 5, BF16: 6, F16: 7, U16: 8, I16: 9, I8: 10, U8: 11, BOOL: 12,
};

/** Float dtypes decode to Float32Array; small integers and BOOL to Int32Array; I64/U64/U32 to Float64Array (exact integers). */
export type TensorData = Float32Array | Int32Array | Float64Array;

export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  /** Tensors by name. */
  tensors: Record<string, SafeTensor>;
  /** Names in file (data offset) order. */
  names: string[];
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length would otherwise allocate wildly). */
const MAX_HEADER_BYTES = 100_000_000;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function isFloatDtype(dtype: SafetensorsDtype): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

export function dtypeByteSize(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(value);
}

function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function toUint8Array(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Parse a safetensors file held in memory. Throws an Error naming the offending key on any inconsistency. */
export function readSafetensors(input: Uint8Array | ArrayBuffer, source = 'safetensors'): SafetensorsContents {
  const bytes = toUint8Array(input);
  if (bytes.byteLength < 8) {
    throw new Error(`${source}: file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength64 = view.getBigUint64(0, true);
  if (headerLength64 > BigInt(bytes.byteLength - 8)) {
    throw new Error(`${source}: header length ${headerLength64} exceeds the ${bytes.byteLength - 8} bytes after the length field`);
  }
  const headerLength = Number(headerLength64);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new Error(`${source}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch (e) {
    throw new Error(`${source}: header is not valid UTF-8`, { cause: e });
  }
  if (!headerText.startsWith('{')) {
    throw new Error(`${source}: header does not start with '{' (not a safetensors file?)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${source}: header must be a JSON object`);
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new Error(`${source}: "__metadata__" must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`${source}: "__metadata__"."${k}" must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new Error(`${source}: tensor "${name}": entry must be an object with dtype, shape, data_offsets`);
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDtype(info.dtype)) {
      throw new Error(`${source}: tensor "${name}": unsupported dtype ${JSON.stringify(info.dtype)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
    }
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${source}: tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(info.shape)}`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(`${source}: tensor "${name}": data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new Error(`${source}: tensor "${name}": data_offsets [${begin}, ${end}] end before begin`);
    if (end > dataLength) {
      throw new Error(`${source}: tensor "${name}": data_offsets [${begin}, ${end}] beyond the ${dataLength}-byte data section`);
    }
    const shape = info.shape as number[];
    const expected = shapeSize(shape) * DTYPE_BYTES[info.dtype];
    if (end - begin !== expected) {
      throw new Error(
        `${source}: tensor "${name}": data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${info.dtype} shape [${shape.join(', ')}] needs ${expected}`,
      );
    }
    entries.push({ name, dtype: info.dtype, shape, begin, end });
  }

  // Every byte of the data section belongs to exactly one tensor, in order (no overlap, no gap).
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: string | undefined;
  for (const e of ordered) {
    if (e.begin < cursor) {
      throw new Error(`${source}: tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap tensor "${previous}" (which ends at ${cursor})`);
    }
    if (e.begin > cursor) {
      throw new Error(`${source}: tensor "${e.name}": data_offsets begin at ${e.begin}, leaving a gap after byte ${cursor}`);
    }
    cursor = e.end;
    previous = e.name;
  }
  if (cursor !== dataLength) {
    throw new Error(`${source}: tensors cover ${cursor} of the ${dataLength} data bytes (trailing bytes after the last tensor)`);
  }

  const tensors: Record<string, SafeTensor> = {};
  for (const e of ordered) {
    tensors[e.name] = {
      dtype: e.dtype,
      shape: [...e.shape],
      data: decode(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, e.name, source),
    };
  }
  return { tensors, names: ordered.map((e) => e.name), metadata };
}

function decode(raw: Uint8Array, dtype: SafetensorsDtype, name: string, source: string): TensorData {
  const n = raw.byteLength / DTYPE_BYTES[dtype];
  // Copy into a fresh, aligned buffer (the data section need not be aligned within the file).
  // (Not raw.slice(): on a Node Buffer that is a view into a shared pool, not a copy.)
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  const view = new DataView(copy.buffer);
  switch (dtype) {
    case 'F32':
      if (HOST_LITTLE_ENDIAN) return new Float32Array(copy.buffer);
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16BitsToNumber(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I32':
      if (HOST_LITTLE_ENDIAN) return new Int32Array(copy.buffer);
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'I16':
      return Int32Array.from({ length: n }, (_, i) => view.getInt16(2 * i, true));
    case 'U16':
      return Int32Array.from({ length: n }, (_, i) => view.getUint16(2 * i, true));
    case 'I8':
      return Int32Array.from({ length: n }, (_, i) => view.getInt8(i));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(copy);
    case 'U32':
      return Float64Array.from({ length: n }, (_, i) => view.getUint32(4 * i, true));
    case 'I64':
    case 'U64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = dtype === 'I64' ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new Error(`${source}: tensor "${name}": ${dtype} element ${i} = ${v} is beyond the exactly representable range of a JS number`);
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

/** IEEE 754 half → number. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE 754 half bits, rounding to nearest even (as torch's .half()). */
export function numberToF16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    const m = mant | 0x800000; // implicit leading 1
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // may carry into the exponent, which is correct
  return sign | half;
}

/** Read from a Blob or File (e.g. a user's upload). */
export async function readSafetensorsBlob(blob: Blob): Promise<SafetensorsContents> {
  const name = (blob as { name?: unknown }).name;
  return readSafetensors(await blob.arrayBuffer(), typeof name === 'string' ? name : 'safetensors blob');
}

/** Fetch and read from a URL. */
export async function readSafetensorsUrl(url: string, init?: RequestInit): Promise<SafetensorsContents> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  return readSafetensors(await response.arrayBuffer(), url);
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  /** Values in row-major order. For I64/U64 numbers must be safe integers (or pass a BigInt64Array). */
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
}

/**
 * Serialise tensors as the reference implementation does: tensors ordered by dtype alignment
 * (largest first) then name, compact JSON header with "__metadata__" first, padded with spaces to a
 * multiple of 8 bytes so that the data section is aligned.
 */
export function writeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => {
    const r = DTYPE_WRITE_RANK[tensors[a].dtype] - DTYPE_WRITE_RANK[tensors[b].dtype];
    return r !== 0 ? r : a < b ? -1 : a > b ? 1 : 0;
  });
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata "${k}" must be a string`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const layout: { name: string; begin: number; end: number }[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new Error('writeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    const t = tensors[name];
    if (!isDtype(t.dtype)) throw new Error(`writeSafetensors: tensor "${name}": unsupported dtype ${JSON.stringify(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`writeSafetensors: tensor "${name}": bad shape [${t.shape.join(', ')}]`);
    }
    const count = shapeSize(t.shape);
    if (t.data.length !== count) {
      throw new Error(`writeSafetensors: tensor "${name}": shape [${t.shape.join(', ')}] has ${count} elements but data has ${t.data.length}`);
    }
    const end = offset + count * DTYPE_BYTES[t.dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    layout.push({ name, begin: offset, end });
    offset = end;
  }
  const headerBytes = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(headerBytes.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.byteLength, 8 + padded);
  const dataStart = 8 + padded;
  for (const { name, begin } of layout) encode(view, dataStart + begin, tensors[name], name);
  return out;
}

function encode(view: DataView, at: number, t: TensorToWrite, name: string): void {
  const { data } = t;
  const n = data.length;
  const num = (i: number): number => {
    const v = (data as ArrayLike<number>)[i];
    return v;
  };
  const int = (i: number, lo: number, hi: number): number => {
    const v = num(i);
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`writeSafetensors: tensor "${name}": element ${i} = ${v} is not a ${t.dtype} value`);
    }
    return v;
  };
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, num(i), true);
      return;
    case 'F64':
      for (let i = 0; i < n; i++) view.setFloat64(at + 8 * i, num(i), true);
      return;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, numberToF16Bits(num(i)), true);
      return;
    case 'BF16': {
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      for (let i = 0; i < n; i++) {
        f[0] = num(i);
        const x = u[0];
        // Round to nearest even on the dropped 16 bits; keep NaN a NaN.
        const rounded = Number.isNaN(f[0]) ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
        view.setUint16(at + 2 * i, rounded, true);
      }
      return;
    }
    case 'I32':
      for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, int(i, -(2 ** 31), 2 ** 31 - 1), true);
      return;
    case 'U32':
      for (let i = 0; i < n; i++) view.setUint32(at + 4 * i, int(i, 0, 2 ** 32 - 1), true);
      return;
    case 'I16':
      for (let i = 0; i < n; i++) view.setInt16(at + 2 * i, int(i, -(2 ** 15), 2 ** 15 - 1), true);
      return;
    case 'U16':
      for (let i = 0; i < n; i++) view.setUint16(at + 2 * i, int(i, 0, 2 ** 16 - 1), true);
      return;
    case 'I8':
      for (let i = 0; i < n; i++) view.setInt8(at + i, int(i, -128, 127));
      return;
    case 'U8':
      for (let i = 0; i < n; i++) view.setUint8(at + i, int(i, 0, 255));
      return;
    case 'BOOL':
      for (let i = 0; i < n; i++) view.setUint8(at + i, int(i, 0, 1));
      return;
    case 'I64':
    case 'U64':
      for (let i = 0; i < n; i++) {
        let v: bigint;
        if (data instanceof BigInt64Array || data instanceof BigUint64Array) v = data[i];
        else {
          const x = num(i);
          if (!Number.isSafeInteger(x)) throw new Error(`writeSafetensors: tensor "${name}": element ${i} = ${x} is not a safe integer`);
          v = BigInt(x);
        }
        if (t.dtype === 'I64') view.setBigInt64(at + 8 * i, v, true);
        else {
          if (v < 0n) throw new Error(`writeSafetensors: tensor "${name}": element ${i} = ${v} is negative for U64`);
          view.setBigUint64(at + 8 * i, v, true);
        }
      }
      return;
  }
}
