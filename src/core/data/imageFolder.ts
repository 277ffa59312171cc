/**
 * The user's own images as a labelled dataset: a folder per class (dropped, chosen with a folder
 * input, or zipped), class = the first folder level under the root, every image decoded, resized
 * to the model's resolution and split train/val/test with a seed, stratified by class.
 *
 * Decoding is the caller's (the worker uses createImageBitmap + OffscreenCanvas; tests a fake), so
 * everything else here is pure. It is all or nothing: any bad input throws a DataError naming the
 * file and the problem before a dataset exists, so the previous import stays in use.
 */
import { mixSeed } from '../rng';
import { decodedImageProblem, resizeToRgb, splitDataset, type DecodedImage } from './tasks';
import { DataError, type Dataset } from './types';

/** File types the browser's decoders read everywhere. */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'gif', 'bmp', 'webp'] as const;
/** Labels are bytes. */
export const MAX_IMPORT_CLASSES = 256;
/** The resized images together may take at most this many bytes (the worker keeps them all). */
export const MAX_IMPORT_BYTES = 1024 ** 3;
/** One image to train on and one to test, per class. */
export const MIN_IMAGES_PER_CLASS = 2;
export const DEFAULT_VAL_FRACTION = 0.1;
export const DEFAULT_TEST_FRACTION = 0.2;

/** One file or directory of the import. Directories end with '/'; `bytes` is null for directories
 * and for files the caller did not read (anything `importPathKind` does not call an image). */
export interface ImportEntry {
  path: string;
  bytes: Uint8Array | null;
}

/** A decoder's output: RGB or RGBA pixels, row-major. */
export type DecodedPixels = Omit<DecodedImage, 'name'>;

/**
 * Decodes an image file; throws (any error) when the bytes are not a readable image. `targetSize`
 * is the model's resolution: a decoder may downscale a huge image on the way (keeping at least
 * that many pixels per side) to save memory.
 */
export type DecodeImage = (bytes: Uint8Array, path: string, targetSize: number) => Promise<DecodedPixels>;

export interface ImageFolderOptions {
  /** The model's resolution: every image becomes size × size RGB. */
  size: number;
  /** Seeds the split. */
  seed: number;
  decode: DecodeImage;
  /** A zip's file name: errors then name files as `archive.zip/path`. */
  archiveName?: string;
  valFraction?: number;
  testFraction?: number;
  /** Called after each decoded image. */
  onProgress?: (decoded: number, total: number) => void;
}

export interface ImageFolderSummary {
  /** What was imported, in words: the zip's or the root folder's name. */
  source: string;
  /** The folder the class folders are in ('' when they are at the top level). */
  root: string;
  size: number;
  classes: { name: string; images: number }[];
  split: { train: number; val: number; test: number };
  /** Files that are not images (not imported), the first few by path, and how many in all. */
  skipped: string[];
  skippedCount: number;
}

export interface ImageFolderImport {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  summary: ImageFolderSummary;
}

const SHOWN_SKIPPED = 5;
const JUNK_NAMES = new Set(['__MACOSX', 'Thumbs.db', 'desktop.ini']);

/**
 * What a path is to the import: an image, junk the system wrote (hidden files, macOS resource
 * forks, Thumbs.db; ignored silently), a directory, or another file (skipped and reported).
 */
export function importPathKind(path: string): 'image' | 'junk' | 'directory' | 'other' {
  const segments = path.split('/').filter((segment) => segment.length > 0);
  if (segments.some((segment) => segment.startsWith('.') || JUNK_NAMES.has(segment))) return 'junk';
  if (path.endsWith('/')) return 'directory';
  const name = segments.at(-1) ?? '';
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extension) ? 'image' : 'other';
}

export interface ImportItem {
  path: string;
  segments: string[];
  kind: 'image' | 'directory' | 'other';
  bytes: Uint8Array | null;
}

const byPath = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The class folders and their images, before anything is decoded; throws on a bad layout. */
export function planImageFolder(entries: readonly ImportEntry[], archiveName?: string): { root: string; classes: { name: string; images: ImportItem[]; others: ImportItem[] }[]; skipped: string[] } {
  const where = (path: string) => (archiveName ? `${archiveName}/${path}` : path);
  const source = archiveName ?? 'the chosen folder';
  const items: ImportItem[] = [];
  for (const entry of entries) {
    const kind = importPathKind(entry.path);
    if (kind === 'junk') continue;
    const segments = entry.path.split('/').filter((segment) => segment.length > 0);
    if (segments.length === 0) continue;
    items.push({ path: entry.path, segments, kind, bytes: entry.bytes });
  }
  const images = items.filter((item) => item.kind === 'image');
  if (images.length === 0) {
    const others = items.filter((item) => item.kind === 'other');
    const found = others.length > 0 ? ` (found ${others.length} other file${others.length === 1 ? '' : 's'}, e.g. ${others[0].path})` : '';
    throw new DataError(source, `contains no images${found}: expected one folder per class holding ${IMAGE_EXTENSIONS.map((e) => e.toUpperCase()).join('/')} files`);
  }

  // The root: strip leading folders that every image (and every directory) shares, as long as each
  // image keeps a class folder below it.
  let depth = 0;
  for (;;) {
    const candidate = images[0].segments[depth];
    const imagesAgree = images.every((item) => item.segments.length >= depth + 3 && item.segments[depth] === candidate);
    const directoriesAgree = items.every((item) => item.kind !== 'directory' || item.segments.length <= depth || item.segments[depth] === candidate);
    if (!imagesAgree || !directoriesAgree) break;
    depth++;
  }
  const rootSegments = images[0].segments.slice(0, depth);
  const root = rootSegments.length > 0 ? `${rootSegments.join('/')}/` : '';
  const underRoot = (item: ImportItem) => item.segments.length > depth && rootSegments.every((segment, i) => item.segments[i] === segment);

  const classes = new Map<string, { name: string; images: ImportItem[]; others: ImportItem[] }>();
  const classOf = (name: string) => {
    let found = classes.get(name);
    if (!found) classes.set(name, (found = { name, images: [], others: [] }));
    return found;
  };
  const skipped: string[] = [];
  for (const item of items) {
    const inside = underRoot(item);
    const relative = item.segments.slice(depth);
    if (item.kind === 'image') {
      if (relative.length < 2) {
        throw new DataError(where(item.path), `is not inside a class folder: put each class's images in a folder named after the class (e.g. ${root}person/, ${root}no_person/)`);
      }
      classOf(relative[0]).images.push(item);
    } else if (item.kind === 'directory') {
      if (inside) classOf(relative[0]);
    } else {
      skipped.push(item.path);
      if (inside && relative.length >= 2) classOf(relative[0]).others.push(item);
    }
  }

  const sorted = [...classes.values()].sort((a, b) => byPath(a.name, b.name));
  for (const entry of sorted) {
    if (entry.images.length === 0) {
      const others = entry.others.length > 0 ? ` (only ${entry.others.length} other file${entry.others.length === 1 ? '' : 's'}, e.g. ${entry.others[0].segments.at(-1)})` : '';
      throw new DataError(where(`${root}${entry.name}/`), `class folder has no images${others}: add images or remove the folder`);
    }
    if (entry.images.length < MIN_IMAGES_PER_CLASS) {
      throw new DataError(where(`${root}${entry.name}/`), `class folder has only 1 image (${entry.images[0].segments.at(-1)}): each class needs at least ${MIN_IMAGES_PER_CLASS}, one to train on and one to test`);
    }
  }
  if (sorted.length < 2) {
    throw new DataError(
      source,
      `needs at least 2 class folders, found ${sorted.length} (${sorted.map((c) => c.name).join(', ')}${root ? ` in ${root}` : ''}): put each class's images in its own folder, e.g. person/ and no_person/`,
    );
  }
  if (sorted.length > MAX_IMPORT_CLASSES) throw new DataError(source, `has ${sorted.length} class folders; at most ${MAX_IMPORT_CLASSES} are supported`);
  for (const entry of sorted) entry.images.sort((a, b) => byPath(a.path, b.path));
  return { root, classes: sorted, skipped: skipped.sort(byPath) };
}

/** Decodes, resizes and splits the user's images; throws a DataError on the first bad input. */
export async function importImageFolder(entries: readonly ImportEntry[], options: ImageFolderOptions): Promise<ImageFolderImport> {
  const { size, seed, decode, archiveName } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`model resolution must be a positive integer, got ${size}`);
  const valFraction = options.valFraction ?? DEFAULT_VAL_FRACTION;
  const testFraction = options.testFraction ?? DEFAULT_TEST_FRACTION;
  if (!(valFraction >= 0 && testFraction > 0 && valFraction + testFraction < 1)) {
    throw new RangeError(`val and test fractions must be ≥ 0, > 0 and sum below 1, got ${valFraction} and ${testFraction}`);
  }
  const where = (path: string) => (archiveName ? `${archiveName}/${path}` : path);
  const plan = planImageFolder(entries, archiveName);
  const total = plan.classes.reduce((sum, entry) => sum + entry.images.length, 0);
  const perImage = size * size * 3;
  if (total * perImage > MAX_IMPORT_BYTES) {
    const mib = Math.round((total * perImage) / 1024 ** 2);
    throw new DataError(archiveName ?? 'the chosen folder', `has ${total} images: at ${size}×${size} they take ${mib} MiB, more than the lab holds (${MAX_IMPORT_BYTES / 1024 ** 2} MiB); import fewer images or lower the resolution`);
  }

  const images = new Uint8Array(total * perImage);
  const labels = new Uint8Array(total);
  let index = 0;
  for (const [label, entry] of plan.classes.entries()) {
    for (const item of entry.images) {
      if (!item.bytes) throw new DataError(where(item.path), 'could not be read');
      if (item.bytes.length === 0) throw new DataError(where(item.path), 'is not a readable image (the file is empty)');
      let pixels: DecodedPixels;
      try {
        pixels = await decode(item.bytes, item.path, size);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        throw new DataError(where(item.path), `is not a readable image (${detail || 'the decoder failed'})`);
      }
      const problem = decodedImageProblem(pixels);
      if (problem) throw new DataError(where(item.path), `is not a readable image (${problem})`);
      images.set(resizeToRgb({ ...pixels, name: item.path }, size, size), index * perImage);
      labels[index] = label;
      index++;
      options.onProgress?.(index, total);
    }
  }
  const classNames = plan.classes.map((entry) => entry.name);
  const all: Dataset = { images, labels, numClasses: classNames.length, classNames, height: size, width: size };

  // Stratified: test first, then val out of the rest (a class of 2 gives 1 train, 1 test).
  const { train: rest, test } = splitDataset(all, testFraction, seed);
  const { train, test: val } = valFraction > 0 ? splitDataset(rest, valFraction / (1 - testFraction), mixSeed(seed, 0x76616c)) : { train: rest, test: { ...rest, images: new Uint8Array(0), labels: new Uint8Array(0) } };
  const rootName = plan.root.replace(/\/$/, '');
  return {
    train,
    val,
    test,
    summary: {
      source: archiveName ?? (rootName || 'dropped folders'),
      root: plan.root,
      size,
      classes: plan.classes.map((entry) => ({ name: entry.name, images: entry.images.length })),
      split: { train: train.labels.length, val: val.labels.length, test: test.labels.length },
      skipped: plan.skipped.slice(0, SHOWN_SKIPPED),
      skippedCount: plan.skipped.length,
    },
  };
}
