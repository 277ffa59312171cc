// The user's images in the training worker: read the dropped or chosen files (or unzip the zip),
// decode each image with the browser's decoders, and hand everything else to the pure builder in
// src/core/data/imageFolder.ts. The result replaces the worker's current images only when it is
// complete, so a failed import leaves the previous one in use.
import { importImageFolder, importPathKind, type DecodeImage, type ImageFolderImport, type ImportEntry } from '../core/data/imageFolder';
import { DataError } from '../core/data/types';
import { unzip } from '../core/data/zip';
import type { ImageImportSource } from '../lab/protocol';

/** Large photos are first shrunk by the browser to at most this many times the model's side (then
 * area-averaged to the exact size in core), so a folder of 12-megapixel photos fits in memory. */
const DECODE_OVERSAMPLING = 4;
const MIN_DECODE_SIDE = 256;

/** createImageBitmap + OffscreenCanvas: any format the browser reads, as RGBA. */
export const browserDecodeImage: DecodeImage = async (bytes, _path, targetSize) => {
  // Throws on bytes that are not an image (Chrome: "The source image could not be decoded."); the
  // builder turns that into an error naming the file.
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  try {
    const limit = Math.max(MIN_DECODE_SIDE, targetSize * DECODE_OVERSAMPLING);
    const scale = Math.min(1, limit / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('no 2D canvas in this browser');
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    return { width, height, channels: 4, data: context.getImageData(0, 0, width, height).data };
  } finally {
    bitmap.close();
  }
};

async function readBlob(blob: Blob, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await blob.arrayBuffer());
  } catch (error) {
    throw new DataError(path, `could not be read (${error instanceof Error ? error.message : String(error)}); was it moved or deleted?`);
  }
}

/** The entries of a source: only images are read, directories and other files come with null bytes. */
async function entriesOf(source: ImageImportSource): Promise<{ entries: ImportEntry[]; archiveName?: string }> {
  if (source.kind === 'zip') {
    const bytes = await readBlob(source.file, source.name);
    return { entries: await unzip(bytes, source.name, (path) => importPathKind(path) === 'image'), archiveName: source.name };
  }
  const entries: ImportEntry[] = [];
  for (const item of source.files) {
    entries.push({ path: item.path, bytes: item.file && importPathKind(item.path) === 'image' ? await readBlob(item.file, item.path) : null });
  }
  return { entries };
}

export async function importImages(
  source: ImageImportSource,
  options: { size: number; seed: number; onProgress?: (decoded: number, total: number) => void; decode?: DecodeImage },
): Promise<ImageFolderImport> {
  const { entries, archiveName } = await entriesOf(source);
  return importImageFolder(entries, { size: options.size, seed: options.seed, decode: options.decode ?? browserDecodeImage, archiveName, onProgress: options.onProgress });
}
