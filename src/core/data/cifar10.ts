/**
 * CIFAR-10 from its binary distribution (https://www.cs.toronto.edu/~kriz/cifar.html):
 * `cifar-10-binary.tar.gz` is a gzipped tar of `cifar-10-batches-bin/` holding
 * `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin` and `batches.meta.txt`. Each `.bin`
 * is a run of 3073-byte records: 1 label byte, then 3072 pixel bytes in CHW order (1024 R, 1024 G,
 * 1024 B, rows top to bottom). The reader streams (gunzip and tar are incremental), converts to
 * the data layer's HWC `Dataset`, and rejects bad input with a DataError naming the file.
 */
import { TarReader, bytesToStream, concatBytes, gunzipStream, gzip, gzipError, makeTar, progressStream } from './archive';
import { DataError, type Dataset } from './types';

export const CIFAR10_CLASS_NAMES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];
export const CIFAR_IMAGE_SIZE = 32;
export const CIFAR_PIXELS_PER_RECORD = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE * 3;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_PIXELS_PER_RECORD;
export const CIFAR10_ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
export const CIFAR10_DIRECTORY = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_META_FILE = 'batches.meta.txt';
/** Where `npm run data:cifar10` puts the archive; a deployment serves it from here. */
export const CIFAR10_DEFAULT_URL = 'data/cifar-10-binary.tar.gz';

export interface CifarBinOptions {
  numClasses?: number;
  classNames?: readonly string[];
}

/** Parses a CIFAR-format record file (`.bin`) into an HWC dataset. */
export function readCifarBin(bytes: Uint8Array, fileName = 'CIFAR record file', options: CifarBinOptions = {}): Dataset {
  const classNames = options.classNames ?? CIFAR10_CLASS_NAMES;
  const numClasses = options.numClasses ?? classNames.length;
  if (bytes.length === 0) throw new DataError(fileName, 'is empty (no CIFAR records)');
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DataError(
      fileName,
      `has the wrong record size: ${bytes.length} bytes is not a multiple of the ${CIFAR_RECORD_BYTES}-byte CIFAR record ` +
        `(1 label byte + ${CIFAR_PIXELS_PER_RECORD} pixel bytes); ${bytes.length % CIFAR_RECORD_BYTES} bytes left over`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * CIFAR_PIXELS_PER_RECORD);
  const planeSize = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE;
  for (let record = 0; record < count; record++) {
    const start = record * CIFAR_RECORD_BYTES;
    const label = bytes[start];
    if (label >= numClasses) {
      throw new DataError(fileName, `record ${record} has label ${label}, out of range 0..${numClasses - 1}`);
    }
    labels[record] = label;
    const pixels = start + 1;
    const out = record * CIFAR_PIXELS_PER_RECORD;
    for (let p = 0; p < planeSize; p++) {
      images[out + p * 3] = bytes[pixels + p];
      images[out + p * 3 + 1] = bytes[pixels + planeSize + p];
      images[out + p * 3 + 2] = bytes[pixels + 2 * planeSize + p];
    }
  }
  return { images, labels, numClasses, classNames, height: CIFAR_IMAGE_SIZE, width: CIFAR_IMAGE_SIZE };
}

/** Serialises a 32×32 dataset as CIFAR records (label byte + CHW pixels). */
export function writeCifarBin(dataset: Dataset): Uint8Array {
  if (dataset.height !== CIFAR_IMAGE_SIZE || dataset.width !== CIFAR_IMAGE_SIZE) {
    throw new RangeError(`CIFAR records hold 32×32 images, got ${dataset.height}×${dataset.width}`);
  }
  const count = dataset.labels.length;
  const out = new Uint8Array(count * CIFAR_RECORD_BYTES);
  const planeSize = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE;
  for (let record = 0; record < count; record++) {
    const start = record * CIFAR_RECORD_BYTES;
    out[start] = dataset.labels[record];
    const source = record * CIFAR_PIXELS_PER_RECORD;
    for (let p = 0; p < planeSize; p++) {
      out[start + 1 + p] = dataset.images[source + p * 3];
      out[start + 1 + planeSize + p] = dataset.images[source + p * 3 + 1];
      out[start + 1 + 2 * planeSize + p] = dataset.images[source + p * 3 + 2];
    }
  }
  return out;
}

/** Concatenates datasets of the same shape and classes. */
export function concatDatasets(parts: readonly Dataset[]): Dataset {
  if (parts.length === 0) throw new RangeError('concatDatasets needs at least one dataset');
  const first = parts[0];
  for (const part of parts) {
    if (part.height !== first.height || part.width !== first.width || part.numClasses !== first.numClasses) {
      throw new RangeError('concatDatasets: datasets differ in image size or class count');
    }
  }
  return {
    ...first,
    images: concatBytes(parts.map((part) => part.images)),
    labels: concatBytes(parts.map((part) => part.labels)),
  };
}

export interface Cifar10Splits {
  train: Dataset;
  test: Dataset;
  classNames: readonly string[];
}

export interface ReadArchiveOptions {
  /** Shown in error messages (the URL's or the dropped file's name). */
  archiveName?: string;
  /** Compressed size if known (Content-Length, File.size); passed to onProgress. */
  totalBytes?: number;
  /** Called as compressed bytes are consumed. */
  onProgress?: (bytesSoFar: number, totalBytes: number | undefined) => void;
}

/**
 * Reads `cifar-10-binary.tar.gz` (bytes or a stream, e.g. `fetch(url).body` or `file.stream()`)
 * into its train (data_batch_1..5) and test splits. Every batch file must be present.
 */
export async function readCifar10Archive(source: Uint8Array | ReadableStream<Uint8Array>, options: ReadArchiveOptions = {}): Promise<Cifar10Splits> {
  const archiveName = options.archiveName ?? CIFAR10_ARCHIVE_NAME;
  const totalBytes = options.totalBytes ?? (source instanceof Uint8Array ? source.length : undefined);
  let compressed = source instanceof Uint8Array ? bytesToStream(source) : source;
  if (options.onProgress) {
    const onProgress = options.onProgress;
    compressed = compressed.pipeThrough(progressStream((bytesSoFar) => onProgress(bytesSoFar, totalBytes)));
  }

  const wantedFiles = new Set<string>([...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE]);
  const batches = new Map<string, Dataset>();
  let classNamesFromMeta: readonly string[] | null = null;
  const tar = new TarReader(
    archiveName,
    (path) => wantedFiles.has(baseName(path)),
    ({ path, data }) => {
      const file = baseName(path);
      if (file === CIFAR10_META_FILE) {
        classNamesFromMeta = parseMetaFile(data, `${archiveName}/${path}`);
      } else {
        // Convert each batch as it completes so its raw bytes can be dropped early.
        batches.set(file, readCifarBin(data, `${archiveName}/${path}`));
      }
    },
  );

  const reader = gunzipStream(compressed).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      tar.push(value);
    }
  } catch (error) {
    throw gzipError(archiveName, error);
  }
  tar.finish();

  const missing = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].filter((file) => !batches.has(file));
  if (missing.length > 0) {
    throw new DataError(archiveName, `is missing ${missing.map((file) => `${CIFAR10_DIRECTORY}/${file}`).join(', ')}`);
  }
  const classNames: readonly string[] = classNamesFromMeta ?? CIFAR10_CLASS_NAMES;
  const withNames = (dataset: Dataset): Dataset => ({ ...dataset, classNames });
  return {
    train: withNames(concatDatasets(CIFAR10_TRAIN_FILES.map((file) => batches.get(file) as Dataset))),
    test: withNames(batches.get(CIFAR10_TEST_FILE) as Dataset),
    classNames,
  };
}

function parseMetaFile(data: Uint8Array, fileName: string): readonly string[] {
  const names = new TextDecoder()
    .decode(data)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length !== CIFAR10_CLASS_NAMES.length) {
    throw new DataError(fileName, `lists ${names.length} class names, expected ${CIFAR10_CLASS_NAMES.length}`);
  }
  return names;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export interface WriteArchiveOptions {
  /** How many data_batch files to split train into (the real archive has 5). */
  trainBatches?: number;
  /** Leave these files out (tests of the missing-file error). */
  omitFiles?: readonly string[];
}

/** Writes train/test datasets as a `cifar-10-binary.tar.gz` of the real layout. */
export async function writeCifar10Archive(splits: { train: Dataset; test: Dataset }, options: WriteArchiveOptions = {}): Promise<Uint8Array> {
  const trainBatches = options.trainBatches ?? CIFAR10_TRAIN_FILES.length;
  if (trainBatches !== CIFAR10_TRAIN_FILES.length) {
    throw new RangeError(`the CIFAR-10 layout has ${CIFAR10_TRAIN_FILES.length} train batches`);
  }
  const omit = new Set(options.omitFiles ?? []);
  const trainRecords = writeCifarBin(splits.train);
  const trainCount = splits.train.labels.length;
  const entries: { path: string; data: Uint8Array }[] = [];
  entries.push({ path: `${CIFAR10_DIRECTORY}/${CIFAR10_META_FILE}`, data: new TextEncoder().encode(`${splits.train.classNames.join('\n')}\n\n`) });
  CIFAR10_TRAIN_FILES.forEach((file, batch) => {
    const from = Math.floor((batch * trainCount) / trainBatches);
    const to = Math.floor(((batch + 1) * trainCount) / trainBatches);
    entries.push({ path: `${CIFAR10_DIRECTORY}/${file}`, data: trainRecords.subarray(from * CIFAR_RECORD_BYTES, to * CIFAR_RECORD_BYTES) });
  });
  entries.push({ path: `${CIFAR10_DIRECTORY}/${CIFAR10_TEST_FILE}`, data: writeCifarBin(splits.test) });
  return gzip(makeTar(entries.filter((entry) => !omit.has(baseName(entry.path)))));
}
