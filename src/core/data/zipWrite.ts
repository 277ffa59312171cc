// A zip archive of stored (uncompressed) files: what the lab's downloads bundle (a PEFT adapter's
// directory). Safetensors of float32 weights barely deflate, so storing costs little and keeps
// the writer synchronous. Files over 4 GiB (zip64) are refused.
import { crc32, ZIP_STORED } from './zip';

export interface ZipFileToWrite {
  /** Forward slashes, no leading slash. */
  path: string;
  bytes: Uint8Array;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** Version 2.0: what a stored file needs; bit 11 of the flags: names are UTF-8. */
const VERSION = 20;
const UTF8_NAMES = 0x0800;
/** 1980-01-01 00:00 in DOS time: fixed, so an archive's bytes depend on its contents only. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function writeZip(files: readonly ZipFileToWrite[]): Uint8Array {
  const encoder = new TextEncoder();
  const entries = files.map((file) => {
    if (!file.path || file.path.startsWith('/') || file.path.includes('\\')) throw new Error(`writeZip: bad path ${JSON.stringify(file.path)}`);
    if (file.bytes.length >= 0xffffffff) throw new Error(`writeZip: ${file.path} is too large for a zip without zip64`);
    return { name: encoder.encode(file.path), bytes: file.bytes, crc: crc32(file.bytes), offset: 0 };
  });
  if (new Set(files.map((file) => file.path)).size !== files.length) throw new Error('writeZip: two files with the same path');
  if (files.length >= 0xffff) throw new Error('writeZip: too many files for a zip without zip64');
  const localSize = entries.reduce((sum, entry) => sum + 30 + entry.name.length + entry.bytes.length, 0);
  const centralSize = entries.reduce((sum, entry) => sum + 46 + entry.name.length, 0);
  const out = new Uint8Array(localSize + centralSize + 22);
  const view = new DataView(out.buffer);
  let at = 0;
  const u16 = (value: number) => {
    view.setUint16(at, value, true);
    at += 2;
  };
  const u32 = (value: number) => {
    view.setUint32(at, value >>> 0, true);
    at += 4;
  };
  const bytes = (value: Uint8Array) => {
    out.set(value, at);
    at += value.length;
  };
  // The fields a local header and a central directory entry share, in the same order.
  const sharedFields = (entry: (typeof entries)[number]) => {
    u16(VERSION); // needed to extract
    u16(UTF8_NAMES);
    u16(ZIP_STORED);
    u16(0); // time
    u16(DOS_DATE);
    u32(entry.crc);
    u32(entry.bytes.length);
    u32(entry.bytes.length);
    u16(entry.name.length);
    u16(0); // extra field
  };
  for (const entry of entries) {
    entry.offset = at;
    u32(LOCAL_HEADER);
    sharedFields(entry);
    bytes(entry.name);
    bytes(entry.bytes);
  }
  const centralStart = at;
  for (const entry of entries) {
    u32(CENTRAL_HEADER);
    u16(VERSION); // made by
    sharedFields(entry);
    u16(0);
    u16(0);
    u16(0);
    u32(0);
    u32(entry.offset);
    bytes(entry.name);
  }
  const centralLength = at - centralStart;
  u32(END_OF_CENTRAL_DIRECTORY);
  u16(0);
  u16(0);
  u16(entries.length);
  u16(entries.length);
  u32(centralLength);
  u32(centralStart);
  u16(0);
  return out;
}
