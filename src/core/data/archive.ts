/**
 * Platform-only gzip and tar handling for the data layer: gzip through the standard
 * (De)CompressionStream (Node ≥ 18, browsers, workers), tar as the ustar format of 512-byte
 * blocks, parsed incrementally so a large archive never has to sit in memory uncompressed.
 */
import { DataError } from './types';

const BLOCK = 512;

/** A stream of the given bytes, in chunks, so that consumers can report progress. */
export function bytesToStream(bytes: Uint8Array, chunkSize = 1 << 20): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, offset + chunkSize);
      controller.enqueue(bytes.slice(offset, end));
      offset = end;
    },
  });
}

/** Reads a stream to its end into one array. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  return concatBytes(chunks, total);
}

export function concatBytes(chunks: readonly Uint8Array[], total = chunks.reduce((sum, chunk) => sum + chunk.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Passes bytes through unchanged, reporting the running count after each chunk. */
export function progressStream(onBytes: (bytesSoFar: number) => void): TransformStream<Uint8Array, Uint8Array> {
  let bytesSoFar = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytesSoFar += chunk.length;
      onBytes(bytesSoFar);
      controller.enqueue(chunk);
    },
  });
}

/** gzip-compresses bytes. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return readAll(bytesToStream(bytes).pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>));
}

/** A stream of the gunzipped bytes of `compressed`. Errors surface when the result is read. */
export function gunzipStream(compressed: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return compressed.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
}

/** gunzips bytes; a truncated or malformed stream is a DataError naming `fileName`. */
export async function gunzip(compressed: Uint8Array, fileName = 'gzip data'): Promise<Uint8Array> {
  try {
    return await readAll(gunzipStream(bytesToStream(compressed)));
  } catch (error) {
    throw gzipError(fileName, error);
  }
}

/** Wraps a zlib failure as a DataError that says what is wrong with the file. */
export function gzipError(fileName: string, error: unknown): DataError {
  if (error instanceof DataError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const truncated = /unexpected end|end of file|truncat/i.test(detail);
  return new DataError(fileName, truncated ? `the gzip data is truncated (${detail})` : `is not valid gzip data (${detail})`);
}

export interface TarEntry {
  /** Full path inside the archive, e.g. `cifar-10-batches-bin/test_batch.bin`. */
  path: string;
  data: Uint8Array;
}

/**
 * Incremental ustar reader: feed chunks with `push`, then `finish`. Regular files whose path
 * `wanted` accepts are handed to `onFile` as each completes; everything else is skipped
 * without being buffered. Understands GNU long names (`L`) and pax `path` records (`x`).
 */
export class TarReader {
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private state: { kind: 'header' } | { kind: 'body'; path: string; type: string; size: number; data: Uint8Array | null; filled: number; padding: number } = { kind: 'header' };
  private nextPathOverride: string | null = null;
  private ended = false;
  private sawAnyHeader = false;

  constructor(
    private readonly archiveName: string,
    private readonly wanted: (path: string) => boolean,
    private readonly onFile: (entry: TarEntry) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.ended) return; // Bytes after the end-of-archive marker are padding.
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drain();
  }

  finish(): void {
    if (this.ended) return;
    if (this.state.kind === 'body') {
      const { path, size, filled } = this.state;
      throw new DataError(this.archiveName, `the tar archive is truncated inside "${path}" (${filled} of ${size} bytes)`);
    }
    if (this.pendingBytes > 0) {
      throw new DataError(this.archiveName, `the tar archive is truncated (${this.pendingBytes} stray bytes where a 512-byte header was expected)`);
    }
    if (!this.sawAnyHeader) throw new DataError(this.archiveName, 'the tar archive is empty');
  }

  private drain(): void {
    for (;;) {
      if (this.ended) return;
      if (this.state.kind === 'header') {
        if (this.pendingBytes < BLOCK) return;
        this.readHeader(this.take(BLOCK));
      } else {
        const body = this.state;
        if (body.filled < body.size) {
          if (this.pendingBytes === 0) return;
          const piece = this.take(Math.min(this.pendingBytes, body.size - body.filled));
          if (body.data) body.data.set(piece, body.filled);
          body.filled += piece.length;
          if (body.filled < body.size) return;
        }
        if (this.pendingBytes < body.padding) return;
        this.take(body.padding);
        this.state = { kind: 'header' };
        this.completeEntry(body.path, body.type, body.data);
      }
    }
  }

  private completeEntry(path: string, type: string, data: Uint8Array | null): void {
    if (type === 'L' && data) {
      this.nextPathOverride = decodeCString(data);
    } else if (type === 'x' && data) {
      const paxPath = parsePaxPath(data);
      if (paxPath !== null) this.nextPathOverride = paxPath;
    } else if (data) {
      this.onFile({ path, data });
    }
  }

  private readHeader(header: Uint8Array): void {
    if (header.every((byte) => byte === 0)) {
      // A zero block marks the end of the archive (tar writes two; one suffices to stop).
      this.ended = true;
      return;
    }
    const storedChecksum = parseOctal(header.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    if (storedChecksum === null || storedChecksum !== sum) {
      throw new DataError(this.archiveName, 'is not a valid tar archive (header checksum mismatch)');
    }
    this.sawAnyHeader = true;
    const name = decodeCString(header.subarray(0, 100));
    const isUstar = decodeCString(header.subarray(257, 262)) === 'ustar';
    const prefix = isUstar ? decodeCString(header.subarray(345, 500)) : '';
    const path = this.nextPathOverride ?? (prefix ? `${prefix}/${name}` : name);
    this.nextPathOverride = null;
    const type = String.fromCharCode(header[156] || 48); // NUL means a regular file ('0').
    const size = parseTarSize(header.subarray(124, 136));
    if (size === null) throw new DataError(this.archiveName, `tar header of "${path}" has an unreadable size field`);
    const hasBody = type === '0' || type === '7' || type === 'L' || type === 'x';
    const keep = type === 'L' || type === 'x' || (hasBody && this.wanted(path));
    // Directories, links and the like have no data blocks even if a size is written.
    const bodySize = hasBody || type === 'g' ? size : 0;
    this.state = {
      kind: 'body',
      path,
      type,
      size: bodySize,
      data: keep ? new Uint8Array(bodySize) : null,
      filled: 0,
      padding: (BLOCK - (bodySize % BLOCK)) % BLOCK,
    };
  }

  private take(count: number): Uint8Array {
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const head = this.pending[0];
      const need = count - filled;
      if (head.length <= need) {
        out.set(head, filled);
        filled += head.length;
        this.pending.shift();
      } else {
        out.set(head.subarray(0, need), filled);
        this.pending[0] = head.subarray(need);
        filled += need;
      }
    }
    this.pendingBytes -= count;
    return out;
  }
}

/** Parses a whole tar archive held in memory into its regular files. */
export function parseTar(bytes: Uint8Array, archiveName = 'tar archive'): TarEntry[] {
  const entries: TarEntry[] = [];
  const reader = new TarReader(archiveName, () => true, (entry) => entries.push(entry));
  reader.push(bytes);
  reader.finish();
  return entries;
}

/** Writes regular files (and the directories their paths need) as a ustar archive. */
export function makeTar(entries: readonly TarEntry[], modifiedTime = 0): Uint8Array {
  const blocks: Uint8Array[] = [];
  const directories = new Set<string>();
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const directory = `${parts.slice(0, depth).join('/')}/`;
      if (!directories.has(directory)) {
        directories.add(directory);
        blocks.push(tarHeader(directory, 0, '5', modifiedTime));
      }
    }
    blocks.push(tarHeader(entry.path, entry.data.length, '0', modifiedTime));
    blocks.push(entry.data);
    const padding = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (padding) blocks.push(new Uint8Array(padding));
  }
  blocks.push(new Uint8Array(2 * BLOCK));
  return concatBytes(blocks);
}

function tarHeader(path: string, size: number, type: string, modifiedTime: number): Uint8Array {
  const header = new Uint8Array(BLOCK);
  const encoder = new TextEncoder();
  const pathBytes = encoder.encode(path);
  if (pathBytes.length > 100) throw new RangeError(`tar path longer than 100 bytes: ${path}`);
  header.set(pathBytes, 0);
  writeOctal(header, 100, 8, type === '5' ? 0o755 : 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, modifiedTime);
  header[156] = type.charCodeAt(0);
  header.set(encoder.encode('ustar\u0000'), 257);
  header.set(encoder.encode('00'), 263);
  header.fill(32, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i];
  writeOctal(header, 148, 7, sum);
  header[155] = 32;
  return header;
}

function writeOctal(target: Uint8Array, offset: number, width: number, value: number): void {
  // width - 1 octal digits, then a NUL terminator.
  const digits = value.toString(8).padStart(width - 1, '0');
  for (let i = 0; i < width - 1; i++) target[offset + i] = digits.charCodeAt(i);
  target[offset + width - 1] = 0;
}

function parseOctal(field: Uint8Array): number | null {
  const text = decodeCString(field).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

function parseTarSize(field: Uint8Array): number | null {
  if (field[0] & 0x80) {
    // GNU base-256 encoding for sizes ≥ 8 GiB.
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  return parseOctal(field);
}

function decodeCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

function parsePaxPath(data: Uint8Array): string | null {
  // Records are "<length> <key>=<value>\n".
  const text = new TextDecoder().decode(data);
  for (const record of text.split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return null;
}
