// The datasets of a run: the task's fine-tuning and test splits at a browser-sized count, from the
// embedded synthetic domain (no download) or from CIFAR-10 (downloaded, with a clear error when
// that fails).
import type { LabConfig } from '../app/config';
import { readCifar10Archive, CIFAR10_DEFAULT_URL } from '../core/data/cifar10';
import { isSeverity } from '../core/data/corruptions';
import { generateSyntheticDataset } from '../core/data/synthetic';
import { makeShiftTask, restrictToClasses, UNSEEN_FINE_TUNE_CLASSES, type SourceSplits } from '../core/data/tasks';
import { DataError, selectImages, type Dataset } from '../core/data/types';
import { testImagesFor } from './runState';

export interface RunData {
  train: Dataset;
  test: Dataset;
  /** Shift: the clean test split (for the clean→corrupted drop before fine-tuning). */
  cleanTest: Dataset | null;
  /** Classes the model's head predicts. */
  numClasses: number;
  /** Which base checkpoint fits the task: all 10 source classes, or classes 0–4 (a fresh 5-way head follows). */
  pretrainTask: 'source' | 'source_0_4';
  source: string;
}

/** A failed download, said with its URL. */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

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

async function cifarSource(baseUrl: string, trainCount: number, testCount: number, classes: readonly number[] | null): Promise<SourceSplits> {
  const url = new URL(CIFAR10_DEFAULT_URL, baseUrl).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DownloadError(`CIFAR-10 could not be downloaded from ${url}: ${error instanceof Error ? error.message : String(error)}. Choose the synthetic data source, or serve the archive there (npm run data:cifar10).`);
  }
  if (!response.ok || !response.body) {
    throw new DownloadError(`CIFAR-10 could not be downloaded from ${url}: HTTP ${response.status}. Choose the synthetic data source, or serve the archive there (npm run data:cifar10).`);
  }
  const splits = await readCifar10Archive(response.body, { archiveName: url });
  const restrict = (dataset: Dataset) => (classes ? restrictToClasses(dataset, classes) : dataset);
  return { train: balancedSubset(restrict(splits.train), trainCount), test: balancedSubset(restrict(splits.test), testCount) };
}

function syntheticSource(trainCount: number, testCount: number, classes: readonly number[] | null): SourceSplits {
  const make = (split: 'train' | 'test', count: number) => {
    const dataset = generateSyntheticDataset({ split, count, ...(classes ? { classes } : {}) });
    return classes ? restrictToClasses(dataset, classes) : dataset;
  };
  return { train: make('train', trainCount), test: make('test', testCount) };
}

export async function buildRunData(config: LabConfig, baseUrl: string): Promise<RunData> {
  const trainCount = config.trainImages;
  const testCount = testImagesFor(trainCount);
  if (config.task === 'custom') {
    throw new DataError('Task', 'Training on your own images is not available in the lab yet: choose the shift or unseen-classes task.');
  }
  const classes = config.task === 'unseen_classes' ? UNSEEN_FINE_TUNE_CLASSES : null;
  const source =
    config.dataSource === 'cifar10'
      ? await cifarSource(baseUrl, trainCount, testCount, classes)
      : syntheticSource(trainCount, testCount, classes);
  const sourceName = config.dataSource === 'cifar10' ? 'CIFAR-10' : 'synthetic';
  if (config.task === 'unseen_classes') {
    return { train: source.train, test: source.test, cleanTest: null, numClasses: classes!.length, pretrainTask: 'source_0_4', source: sourceName };
  }
  if (!isSeverity(config.severity)) throw new DataError('Severity', `must be 1–5, got ${config.severity}.`);
  const shift = makeShiftTask(source, config.corruption, config.severity, config.seed);
  return { train: shift.fineTuneTrain, test: shift.test, cleanTest: shift.cleanTest, numClasses: source.train.numClasses, pretrainTask: 'source', source: sourceName };
}
