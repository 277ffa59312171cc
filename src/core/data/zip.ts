/**
 * A small zip reader for the user's image archives: the central directory (ZIP64 included), stored
 * (method 0) and deflate (method 8) entries, inflated with the platform's
 * DecompressionStream('deflate-raw') (Node ≥ 20, browsers, workers), each checked against its
 * CRC-32. Sizes come from the central directory, so entries written with data descriptors (macOS
 * Finder, streaming zip tools) read like any other. Bad input is a DataError naming the archive
 * and, where it applies, the entry.
 */
import { bytesToStream, readAll } from './archive';
import { DataError } from './types';

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_EOCD_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;

export const ZIP_STORED = 0;
export const ZIP_DEFLATED = 8;

/** One entry of the central directory. */
export interface ZipEntry {
  /** Path inside the archive, '/'-separated (backslashes of Windows tools normalised); directories end with '/'. */
  path: string;
  directory: boolean;
  /** 0 stored, 8 deflate; anything else cannot be read. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
  encrypted: boolean;
}

/** A file of the archive with its bytes (null when the caller did not want them, and for directories). */
export interface UnzippedEntry {
  path: string;
  bytes: Uint8Array | null;
}

/** Whether the bytes start like a zip archive (a local header, or the end record of an empty one). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const signature = readU32(bytes, 0);
  return signature === LOCAL_SIGNATURE || signature === EOCD_SIGNATURE;
}

/** The central directory of a zip archive held in memory. */
export function readZipDirectory(bytes: Uint8Array, archiveName = 'zip archive'): ZipEntry[] {
  const fail = (problem: string) => new DataError(archiveName, problem);
  if (bytes.length === 0) throw fail('is empty (0 bytes), not a zip archive');
  const eocd = findEndOfCentralDirectory(bytes);
  if (eocd < 0) {
    throw fail(
      looksLikeZip(bytes)
        ? 'is truncated: the zip archive ends before its central directory (was the download or copy cut short?)'
        : 'is not a zip archive (no end-of-central-directory record)',
    );
  }
  let entryCount = readU16(bytes, eocd + 10);
  let directorySize = readU32(bytes, eocd + 12);
  let directoryOffset = readU32(bytes, eocd + 16);
  if (readU16(bytes, eocd + 4) !== 0 || readU16(bytes, eocd + 6) !== 0) throw fail('is a multi-part (spanned) zip archive, which is not supported');
  if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    // ZIP64: the real counts live in the ZIP64 end record the locator points at.
    const locator = eocd - 20;
    if (locator < 0 || readU32(bytes, locator) !== ZIP64_EOCD_LOCATOR_SIGNATURE) throw fail('is corrupt: a ZIP64 archive without its ZIP64 locator');
    const record = readU64(bytes, locator + 8);
    if (record + 56 > bytes.length || readU32(bytes, record) !== ZIP64_EOCD_SIGNATURE) throw fail('is corrupt or truncated: the ZIP64 end record is missing');
    entryCount = readU64(bytes, record + 32);
    directorySize = readU64(bytes, record + 40);
    directoryOffset = readU64(bytes, record + 48);
  }
  if (directoryOffset + directorySize > bytes.length) {
    throw fail(`is truncated or corrupt: its central directory (${directorySize} bytes at offset ${directoryOffset}) lies beyond the end of the ${bytes.length}-byte file`);
  }

  const entries: ZipEntry[] = [];
  let offset = directoryOffset;
  for (let index = 0; index < entryCount; index++) {
    if (offset + 46 > bytes.length || readU32(bytes, offset) !== CENTRAL_SIGNATURE) {
      throw fail(`is corrupt: central directory entry ${index + 1} of ${entryCount} is not where the directory says`);
    }
    const flags = readU16(bytes, offset + 8);
    const method = readU16(bytes, offset + 10);
    const crc32 = readU32(bytes, offset + 16);
    let compressedSize = readU32(bytes, offset + 20);
    let size = readU32(bytes, offset + 24);
    const nameLength = readU16(bytes, offset + 28);
    const extraLength = readU16(bytes, offset + 30);
    const commentLength = readU16(bytes, offset + 32);
    let localHeaderOffset = readU32(bytes, offset + 42);
    const nameStart = offset + 46;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > bytes.length) throw fail(`is corrupt: central directory entry ${index + 1} runs past the end of the file`);
    const rawPath = new TextDecoder().decode(bytes.subarray(nameStart, extraStart));
    if (size === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      const zip64 = findExtraField(bytes.subarray(extraStart, extraStart + extraLength), ZIP64_EXTRA_ID);
      if (!zip64) throw fail(`is corrupt: entry "${rawPath}" has 32-bit overflow sizes but no ZIP64 field`);
      // The ZIP64 field holds, in this order, only the values whose 32-bit fields overflowed.
      let at = 0;
      const take = () => {
        if (at + 8 > zip64.length) throw fail(`is corrupt: the ZIP64 field of entry "${rawPath}" is too short`);
        const value = readU64(zip64, at);
        at += 8;
        return value;
      };
      if (size === 0xffffffff) size = take();
      if (compressedSize === 0xffffffff) compressedSize = take();
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
    }
    const path = normalisePath(rawPath);
    entries.push({ path, directory: path.endsWith('/'), method, compressedSize, size, crc32, localHeaderOffset, encrypted: (flags & 1) !== 0 });
    offset = next;
  }
  return entries;
}

/** The bytes of one entry: located through its local header, inflated if deflated, CRC-checked. */
export async function readZipEntry(bytes: Uint8Array, entry: ZipEntry, archiveName = 'zip archive'): Promise<Uint8Array> {
  const fail = (problem: string) => new DataError(archiveName, `entry "${entry.path}" ${problem}`);
  if (entry.directory) return new Uint8Array(0);
  if (entry.encrypted) throw fail('is encrypted; zip the images without a password');
  if (entry.method !== ZIP_STORED && entry.method !== ZIP_DEFLATED) {
    throw fail(`uses compression method ${entry.method} (${METHOD_NAMES[entry.method] ?? 'unknown'}); only stored and deflate entries can be read — re-zip with standard settings`);
  }
  const local = entry.localHeaderOffset;
  if (local + 30 > bytes.length) throw fail('lies beyond the end of the file: the archive is truncated');
  if (readU32(bytes, local) !== LOCAL_SIGNATURE) throw fail('is corrupt: its local header is missing');
  const dataStart = local + 30 + readU16(bytes, local + 26) + readU16(bytes, local + 28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > bytes.length) throw fail(`is truncated (${Math.max(0, bytes.length - dataStart)} of ${entry.compressedSize} bytes present)`);
  const compressed = bytes.subarray(dataStart, dataEnd);
  let data: Uint8Array;
  if (entry.method === ZIP_STORED) {
    if (entry.compressedSize !== entry.size) throw fail(`is corrupt: stored with ${entry.compressedSize} bytes but declares ${entry.size}`);
    data = compressed.slice();
  } else {
    try {
      data = await inflateRaw(compressed);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw fail(`is corrupt: its deflate data cannot be inflated (${detail})`);
    }
    if (data.length !== entry.size) throw fail(`is corrupt: inflates to ${data.length} bytes, the directory says ${entry.size}`);
  }
  const actual = crc32(data);
  if (actual !== entry.crc32) throw fail(`is corrupt: CRC-32 ${hex(actual)} does not match the stored ${hex(entry.crc32)}`);
  return data;
}

/**
 * Every entry of the archive in directory order; the bytes of the files `wanted` accepts are read
 * (the rest, and directories, come back with bytes null so that nothing unneeded is inflated).
 */
export async function unzip(bytes: Uint8Array, archiveName = 'zip archive', wanted: (path: string) => boolean = () => true): Promise<UnzippedEntry[]> {
  const out: UnzippedEntry[] = [];
  for (const entry of readZipDirectory(bytes, archiveName)) {
    out.push({ path: entry.path, bytes: !entry.directory && wanted(entry.path) ? await readZipEntry(bytes, entry, archiveName) : null });
  }
  return out;
}

/** Inflates raw deflate data (no zlib or gzip wrapper). */
export async function inflateRaw(compressed: Uint8Array): Promise<Uint8Array> {
  return readAll(bytesToStream(compressed).pipeThrough(new DecompressionStream('deflate-raw') as unknown as TransformStream<Uint8Array, Uint8Array>));
}

const METHOD_NAMES: Record<number, string> = { 1: 'shrink', 6: 'implode', 9: 'deflate64', 12: 'bzip2', 14: 'LZMA', 93: 'zstd', 95: 'xz', 98: 'PPMd', 99: 'AES encryption' };

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, the zip and gzip checksum). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function findEndOfCentralDirectory(bytes: Uint8Array): number {
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let offset = bytes.length - EOCD_SIZE; offset >= lowest; offset--) {
    // The comment length must reach exactly to the end, so a signature inside a comment is not taken.
    if (readU32(bytes, offset) === EOCD_SIGNATURE && offset + EOCD_SIZE + readU16(bytes, offset + 20) === bytes.length) return offset;
  }
  return -1;
}

function findExtraField(extra: Uint8Array, id: number): Uint8Array | null {
  for (let offset = 0; offset + 4 <= extra.length; ) {
    const fieldId = readU16(extra, offset);
    const length = readU16(extra, offset + 2);
    if (fieldId === id) return extra.subarray(offset + 4, Math.min(extra.length, offset + 4 + length));
    offset += 4 + length;
  }
  return null;
}

function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function readU64(bytes: Uint8Array, offset: number): number {
  // Exact up to 2^53, far beyond any archive a browser can hold.
  return readU32(bytes, offset) + readU32(bytes, offset + 4) * 2 ** 32;
}
