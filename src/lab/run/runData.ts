// The datasets of a run: the task's fine-tuning and test splits at a browser-sized count, from the
// embedded synthetic domain (no download), from CIFAR-10 (a file the user chose, the browser's
// cache, or a download, with a clear error when that fails), from CIFAR-10's parquet files on the
// Hugging Face hub (cached the same way), or the user's imported images.
import type { LabConfig } from '../config';
import { readCifar10Archive, CIFAR10_DEFAULT_URL, type Cifar10Splits } from '../../core/data/cifar10';
import { readCifar10Parquet, type DecodePng } from '../../core/data/cifarParquet';
import { mixSeed } from '../../core/rng';
import { isSeverity } from '../../core/data/corruptions';
import type { ImageFolderImport } from '../../core/data/imageFolder';
import { generateSyntheticDataset } from '../../core/data/synthetic';
import { makeShiftTask, restrictToClasses, splitDataset, UNSEEN_FINE_TUNE_CLASSES, type SourceSplits } from '../../core/data/tasks';
import { DataError, selectImages, type Dataset } from '../../core/data/types';
import { testImagesFor } from './runState';
import type { RunEnvironment } from './environment';
import { DownloadError, fetchServed } from './fetchRetry';
import { fetchHubFile } from '../hub/hubFiles';
import { hubCacheKey, hubFileUrl } from '../hub/hubUrl';
import { HUB_CIFAR10_FILES, HUB_CIFAR10_HOLDOUT_FRACTION, type HubCifar10File } from '../hub/hubCifar10';

/** The key of the CIFAR-10 archive in the data cache (one copy, whatever URL or file it came from). */
export const CIFAR10_CACHE_KEY = 'cifar-10-binary.tar.gz';

export interface RunData {
  train: Dataset;
  test: Dataset;
  /** Shift: the clean test split (for the clean→corrupted drop before fine-tuning). */
  cleanTest: Dataset | null;
  /** Classes the model's head predicts. */
  numClasses: number;
  /** Which base checkpoint fits the task: all 10 source classes, or classes 0–4 (a fresh head follows
   * for unseen classes and the user's images). */
  pretrainTask: 'source' | 'source_0_4';
  source: string;
}

export { DownloadError } from './fetchRetry';

/** The first `count` images of each class in turn (balanced), or all when there are fewer. */
function balancedSubset(dataset: Dataset, count: number): Dataset {
  if (dataset.labels.length <= count) return dataset;
  const byClass: number[][] = Array.from({ length: dataset.numClasses }, () => []);
  dataset.labels.forEach((label, index) => byClass[label].push(index));
  const picked: number[] = [];
  for (let i = 0; picked.length < count; i++) {
    for (const indices of byClass) if (i < indices.length && picked.length < count) picked.push(indices[i]);
  }
  return selectImages(dataset, picked.sort((a, b) => a - b));
}

/** Where the CIFAR-10 archive comes from, in order: the file the user chose (then cached), the
 * browser's cache (a previous download or file), a download (then cached). A cached copy that no
 * longer reads is dropped and downloaded again. */
async function loadCifar10(environment: RunEnvironment, chosenFile: File | undefined): Promise<Cifar10Splits> {
  const cache = environment.dataCache;
  if (chosenFile) {
    const splits = await readCifar10Archive(chosenFile.stream() as ReadableStream<Uint8Array>, { archiveName: chosenFile.name, totalBytes: chosenFile.size });
    await cache.put(CIFAR10_CACHE_KEY, chosenFile, chosenFile.name);
    return splits;
  }
  const cached = await cache.get(CIFAR10_CACHE_KEY);
  if (cached) {
    try {
      return await readCifar10Archive(cached.blob.stream() as ReadableStream<Uint8Array>, { archiveName: `${cached.source} (cached)`, totalBytes: cached.blob.size });
    } catch {
      await cache.delete(CIFAR10_CACHE_KEY);
    }
  }
  const url = new URL(CIFAR10_DEFAULT_URL, environment.baseUrl).href;
  const advice = 'Choose the synthetic data source, choose the archive file, or serve it there (npm run data:cifar10).';
  let response: Response | null;
  try {
    response = await fetchServed(environment, url, 'CIFAR-10');
  } catch (error) {
    if (error instanceof DownloadError) throw new DownloadError(`${error.message} ${advice}`, url, error.status);
    throw error;
  }
  if (!response) throw new DownloadError(`CIFAR-10 could not be downloaded from ${url}: HTTP 404 (not served). ${advice}`, url, 404);
  let archive: Blob;
  try {
    archive = await response.blob();
  } catch (error) {
    throw new DownloadError(`CIFAR-10 could not be downloaded from ${url}: ${error instanceof Error ? error.message : String(error)}. ${advice}`, url, null);
  }
  // Cached only once it has read whole, so a broken download is not kept.
  const splits = await readCifar10Archive(archive.stream() as ReadableStream<Uint8Array>, { archiveName: url, totalBytes: archive.size });
  await cache.put(CIFAR10_CACHE_KEY, archive, url);
  return splits;
}

/** A real dataset's splits cut to the task's classes and the run's counts. */
function subsetSplits(splits: { train: Dataset; test: Dataset }, trainCount: number, testCount: number, classes: readonly number[] | null): SourceSplits {
  const restrict = (dataset: Dataset) => (classes ? restrictToClasses(dataset, classes) : dataset);
  return { train: balancedSubset(restrict(splits.train), trainCount), test: balancedSubset(restrict(splits.test), testCount) };
}

async function cifarSource(environment: RunEnvironment, trainCount: number, testCount: number, classes: readonly number[] | null, chosenFile: File | undefined): Promise<SourceSplits> {
  return subsetSplits(await loadCifar10(environment, chosenFile), trainCount, testCount, classes);
}

/** Hub files decoded in this worker (by sha256), so the runs of a queue decode each file once. */
const decodedHubFiles = new Map<string, Dataset>();
const DECODED_HUB_FILES_KEPT = Object.keys(HUB_CIFAR10_FILES).length;

/** One of the hub's CIFAR-10 files: from the cache (a download the page started, or an earlier run)
 * or downloaded and cached (hub/hubFiles.ts), then read. A file that does not read as CIFAR-10 is
 * dropped from the cache, so a fixed file is downloaded again instead of failing on the old copy. */
async function loadHubCifarFile(entry: HubCifar10File, config: LabConfig, environment: RunEnvironment, decode: DecodePng, onProgress: RunDataInputs['onDataProgress'], signal?: AbortSignal): Promise<Dataset> {
  const { bytes, sha256, fromCache } = await fetchHubFile(entry.file, { hubUrl: config.hubUrl, fetch: environment.fetch, cache: environment.dataCache, retryDelaysMs: environment.retryDelaysMs, signal });
  const known = decodedHubFiles.get(sha256);
  if (known) return known;
  let dataset: Dataset;
  try {
    const what = `the CIFAR-10 ${entry.split} file`;
    dataset = await readCifar10Parquet(bytes, { fileName: `${hubFileUrl(config.hubUrl, entry.file)}${fromCache ? ' (cached)' : ''}`, decode, onProgress: (done, total) => onProgress?.(what, done, total) });
  } catch (error) {
    if (error instanceof DataError) await environment.dataCache.delete(hubCacheKey(entry.file));
    throw error;
  }
  if (decodedHubFiles.size >= DECODED_HUB_FILES_KEPT) decodedHubFiles.delete(decodedHubFiles.keys().next().value as string);
  decodedHubFiles.set(sha256, dataset);
  return dataset;
}

/** CIFAR-10 from the hub: its test file split (stratified, with the seed) into images to fine-tune
 * on and images to test on; or, when the configuration asks for it, the train file to fine-tune on
 * and the whole test file to test on, as the archive's splits. */
async function hubCifarSource(config: LabConfig, environment: RunEnvironment, trainCount: number, testCount: number, classes: readonly number[] | null, inputs: RunDataInputs): Promise<SourceSplits> {
  const { decodePng: decode, onDataProgress, signal } = inputs;
  if (!decode) throw new Error('This run was given no PNG decoder, which the hub’s CIFAR-10 needs (the training worker and the CLI pass one).');
  const test = await loadHubCifarFile(HUB_CIFAR10_FILES.test, config, environment, decode, onDataProgress, signal);
  const splits = config.hubTrainFile
    ? { train: await loadHubCifarFile(HUB_CIFAR10_FILES.train, config, environment, decode, onDataProgress, signal), test }
    : splitDataset(test, HUB_CIFAR10_HOLDOUT_FRACTION, mixSeed(config.seed, 0x687562));
  return subsetSplits(splits, trainCount, testCount, classes);
}

function syntheticSource(trainCount: number, testCount: number, classes: readonly number[] | null): SourceSplits {
  const make = (split: 'train' | 'test', count: number) => {
    const dataset = generateSyntheticDataset({ split, count, ...(classes ? { classes } : {}) });
    return classes ? restrictToClasses(dataset, classes) : dataset;
  };
  return { train: make('train', trainCount), test: make('test', testCount) };
}

export interface RunDataInputs {
  /** The images imported for the custom task (null: none yet). */
  customImages?: ImageFolderImport | null;
  /** A CIFAR-10 archive the user chose. */
  cifarArchive?: File;
  /** Decodes the PNGs of the hub's CIFAR-10 (the worker: the browser's decoder; Node: pngjs). */
  decodePng?: DecodePng;
  /** Called as a data file's images are decoded (`what` names the file in words). */
  onDataProgress?: (what: string, done: number, total: number) => void;
  /** Cancels a download of the data (the run was stopped). */
  signal?: AbortSignal;
}

export async function buildRunData(config: LabConfig, environment: RunEnvironment, inputs: RunDataInputs = {}): Promise<RunData> {
  const trainCount = config.trainImages;
  const testCount = testImagesFor(trainCount);
  if (config.task === 'custom') {
    const images = inputs.customImages;
    if (!images) throw new DataError('Your own images', 'none are imported yet: choose an images folder or zip (one folder per class) first.');
    // Every imported test image is kept (the split is the user's); the train split is capped like any task's.
    return {
      train: balancedSubset(images.train, trainCount),
      test: images.test,
      cleanTest: null,
      numClasses: images.train.numClasses,
      pretrainTask: 'source',
      source: `your images (${images.summary.source})`,
    };
  }
  const classes = config.task === 'unseen_classes' ? UNSEEN_FINE_TUNE_CLASSES : null;
  const source =
    config.dataSource === 'cifar10'
      ? await cifarSource(environment, trainCount, testCount, classes, inputs.cifarArchive)
      : config.dataSource === 'hub_cifar10'
        ? await hubCifarSource(config, environment, trainCount, testCount, classes, inputs)
        : syntheticSource(trainCount, testCount, classes);
  const sourceName = { synthetic: 'synthetic', cifar10: 'CIFAR-10', hub_cifar10: 'CIFAR-10 (Hugging Face hub)' }[config.dataSource];
  if (config.task === 'unseen_classes') {
    return { train: source.train, test: source.test, cleanTest: null, numClasses: classes!.length, pretrainTask: 'source_0_4', source: sourceName };
  }
  if (!isSeverity(config.severity)) throw new DataError('Severity', `must be 1–5, got ${config.severity}.`);
  const shift = makeShiftTask(source, config.corruption, config.severity, config.seed);
  return { train: shift.fineTuneTrain, test: shift.test, cleanTest: shift.cleanTest, numClasses: source.train.numClasses, pretrainTask: 'source', source: sourceName };
}
