// Your own images in Node (`cli finetune --images`, the study's `images:<folder>` task): a folder
// with one sub-folder per class, read from disk and decoded here (PNG with pngjs, JPEG with
// jpeg-js; the browser decodes more formats), then split and resized by the same pure builder as
// the page's import (src/core/data/imageFolder.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { importImageFolder, importPathKind, type DecodeImage, type ImageFolderImport, type ImportEntry } from '../../src/core/data/imageFolder';
import { DataError } from '../../src/core/data/types';

/** Each image up to this many megapixels (jpeg-js's own guard against huge files). */
const MAX_MEGAPIXELS = 64;

export const nodeDecodeImage: DecodeImage = async (bytes, path) => {
  const lower = path.toLowerCase();
  if (lower.endsWith('.png')) {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, channels: 4, data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  }
  if (lower.endsWith('.jpg') || lower.endsWith('.jpeg')) {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS });
    return { width: image.width, height: image.height, channels: 4, data: new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength) };
  }
  throw new Error('Node reads PNG and JPEG images only (the lab page also reads GIF, BMP and WebP): convert it, or fine-tune in the page');
};

/** Every file and folder under `folder`, paths relative to its parent (so the folder's name leads), images read. */
function entriesOf(folder: string): ImportEntry[] {
  let stat;
  try {
    stat = statSync(folder);
  } catch {
    throw new DataError('Your own images', `${folder} does not exist`);
  }
  if (!stat.isDirectory()) throw new DataError('Your own images', `${folder} is not a folder (one sub-folder per class)`);
  const parent = join(folder, '..');
  const entries: ImportEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const path = relative(parent, full).split(sep).join('/');
      if (statSync(full).isDirectory()) {
        entries.push({ path: `${path}/`, bytes: null });
        walk(full);
      } else {
        entries.push({ path, bytes: importPathKind(path) === 'image' ? new Uint8Array(readFileSync(full)) : null });
      }
    }
  };
  walk(folder);
  return entries;
}

/** The images of `folder`, decoded, resized to `size` and split with `seed` as the page does. */
export function importImagesFromDisk(folder: string, size: number, seed: number): Promise<ImageFolderImport> {
  return importImageFolder(entriesOf(folder), { size, seed, decode: nodeDecodeImage, archiveName: undefined }).then((imported) => ({
    ...imported,
    summary: { ...imported.summary, source: basename(folder) },
  }));
}
