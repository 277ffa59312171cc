/**
 * The lab's fine-tuning tasks, built from the data layer's datasets. All functions are pure:
 * they return new datasets or throw a DataError, so a failed import leaves nothing half-done.
 */
import { corruptDataset, type CorruptionName, type Severity } from './corruptions';
import { createRng, permutation } from '../rng';
import { DataError, selectImages, type Dataset } from './types';

export const TASK_IDS = ['shift', 'unseen_classes', 'custom'] as const;
export type TaskId = (typeof TASK_IDS)[number];

/** The clean source domain's splits (synthetic or CIFAR-10; val is optional). */
export interface SourceSplits {
  train: Dataset;
  val?: Dataset;
  test: Dataset;
}

export interface ShiftTask {
  task: 'shift';
  corruption: CorruptionName;
  severity: Severity;
  /** Clean train split: what the base model is pretrained on. */
  pretrainTrain: Dataset;
  /** Corrupted copy of the train split: what fine-tuning sees. */
  fineTuneTrain: Dataset;
  fineTuneVal?: Dataset;
  /** Corrupted test split: the task's accuracy. */
  test: Dataset;
  /** Clean test split: accuracy here minus accuracy on `test` before fine-tuning is the shift's drop. */
  cleanTest: Dataset;
}

// Distinct seed streams per split so train and test noise never coincide.
const SHIFT_SPLIT_STREAM = { train: 1, val: 2, test: 3 } as const;

/** Distribution shift: fine-tune on a corrupted copy of the source, evaluate on the corrupted test split. */
export function makeShiftTask(source: SourceSplits, corruption: CorruptionName, severity: Severity, seed: number): ShiftTask {
  return {
    task: 'shift',
    corruption,
    severity,
    pretrainTrain: source.train,
    fineTuneTrain: corruptDataset(source.train, corruption, severity, createRng(seed, SHIFT_SPLIT_STREAM.train).int(2 ** 32)),
    fineTuneVal: source.val ? corruptDataset(source.val, corruption, severity, createRng(seed, SHIFT_SPLIT_STREAM.val).int(2 ** 32)) : undefined,
    test: corruptDataset(source.test, corruption, severity, createRng(seed, SHIFT_SPLIT_STREAM.test).int(2 ** 32)),
    cleanTest: source.test,
  };
}

/** The source classes the base model of unseen_classes is pretrained on, and the ones it must learn. */
export const UNSEEN_PRETRAIN_CLASSES = [0, 1, 2, 3, 4] as const;
export const UNSEEN_FINE_TUNE_CLASSES = [5, 6, 7, 8, 9] as const;

export interface UnseenClassesTask {
  task: 'unseen_classes';
  /** Source restricted to classes 0–4 (labels 0..4 unchanged). */
  pretrain: SourceSplits;
  /** Source restricted to classes 5–9, relabelled 0..4, for a new 5-way head. */
  fineTune: SourceSplits;
}

/** Unseen classes: pretrain on classes 0–4, fine-tune a new head on 5–9 (labels remapped to 0..4). */
export function makeUnseenClassesTask(source: SourceSplits): UnseenClassesTask {
  const restrictAll = (classes: readonly number[]): SourceSplits => ({
    train: restrictToClasses(source.train, classes),
    val: source.val ? restrictToClasses(source.val, classes) : undefined,
    test: restrictToClasses(source.test, classes),
  });
  return { task: 'unseen_classes', pretrain: restrictAll(UNSEEN_PRETRAIN_CLASSES), fineTune: restrictAll(UNSEEN_FINE_TUNE_CLASSES) };
}

/** The images of the given classes, relabelled by their position in `classes`. */
export function restrictToClasses(dataset: Dataset, classes: readonly number[]): Dataset {
  const newLabel = new Map<number, number>();
  classes.forEach((label, position) => {
    if (label < 0 || label >= dataset.numClasses) throw new RangeError(`class ${label} is not in the dataset (0..${dataset.numClasses - 1})`);
    newLabel.set(label, position);
  });
  const indices: number[] = [];
  for (let i = 0; i < dataset.labels.length; i++) if (newLabel.has(dataset.labels[i])) indices.push(i);
  const selected = selectImages(dataset, indices);
  const labels = selected.labels.map((label) => newLabel.get(label) as number);
  return { ...selected, labels, numClasses: classes.length, classNames: classes.map((label) => dataset.classNames[label]) };
}

/** A decoded image of the user's (decoding happens outside core, e.g. createImageBitmap in the worker). */
export interface DecodedImage {
  /** File name, shown in errors. */
  name: string;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA, as canvas ImageData gives). */
  channels: 3 | 4;
  /** Row-major, `channels` bytes per pixel. */
  data: Uint8Array | Uint8ClampedArray;
}

/** An image the decoder could not read; carried here so the error names it. */
export interface UnreadableImage {
  name: string;
  decodeError: string;
}

export interface CustomClass {
  name: string;
  images: readonly (DecodedImage | UnreadableImage)[];
}

/**
 * The user's images as a dataset at the model's resolution (size × size): area averaging when
 * shrinking, bilinear when enlarging, transparent pixels composited over white. Throws a
 * DataError naming the class or file if a class is empty or an image is unreadable.
 */
export function buildCustomDataset(classes: readonly CustomClass[], size: number): Dataset {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`model resolution must be a positive integer, got ${size}`);
  if (classes.length < 2) throw new DataError('custom dataset', `needs at least 2 classes, got ${classes.length}`);
  if (classes.length > 256) throw new DataError('custom dataset', `has ${classes.length} classes; at most 256 are supported`);
  const seenNames = new Set<string>();
  let total = 0;
  for (const customClass of classes) {
    if (customClass.name.trim() === '') throw new DataError('custom dataset', 'a class has an empty name');
    if (seenNames.has(customClass.name)) throw new DataError(customClass.name, 'is listed twice (class names must be unique)');
    seenNames.add(customClass.name);
    if (customClass.images.length === 0) throw new DataError(customClass.name, 'class has no images');
    for (const image of customClass.images) validateImage(image, customClass.name);
    total += customClass.images.length;
  }
  const perImage = size * size * 3;
  const images = new Uint8Array(total * perImage);
  const labels = new Uint8Array(total);
  let index = 0;
  classes.forEach((customClass, label) => {
    for (const image of customClass.images) {
      images.set(resizeToRgb(image as DecodedImage, size, size), index * perImage);
      labels[index] = label;
      index++;
    }
  });
  return { images, labels, numClasses: classes.length, classNames: classes.map((customClass) => customClass.name), height: size, width: size };
}

function validateImage(image: DecodedImage | UnreadableImage, className: string): void {
  const where = `${className}/${image.name}`;
  if ('decodeError' in image) throw new DataError(where, `unreadable image (${image.decodeError})`);
  const problem = decodedImageProblem(image);
  if (problem) throw new DataError(where, `unreadable image (${problem})`);
}

/** What is wrong with a decoder's output (bad size, channels or byte count), or null. */
export function decodedImageProblem(image: Omit<DecodedImage, 'name'>): string | null {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) return `size ${width}×${height}`;
  if (channels !== 3 && channels !== 4) return `${channels} channels; expected RGB or RGBA`;
  if (data.length !== width * height * channels) return `${data.length} bytes for ${width}×${height}×${channels}`;
  return null;
}

/** Resizes a decoded image to outHeight × outWidth RGB bytes. */
export function resizeToRgb(image: DecodedImage, outHeight: number, outWidth: number): Uint8Array {
  const { width, height, channels, data } = image;
  // Composite over white so transparent backgrounds do not turn black.
  const rgb = new Float64Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const alpha = channels === 4 ? data[p * 4 + 3] / 255 : 1;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = data[p * channels + c] * alpha + 255 * (1 - alpha);
  }
  const horizontal = resampleAxis(rgb, height, width, outWidth, 'x');
  const both = resampleAxis(horizontal, height, outWidth, outHeight, 'y');
  const out = new Uint8Array(outHeight * outWidth * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(both[i])));
  return out;
}

/** One separable pass: area average when shrinking (exact pixel coverage), bilinear with half-pixel centres when enlarging. */
function resampleAxis(image: Float64Array, height: number, width: number, outSize: number, axis: 'x' | 'y'): Float64Array {
  const inSize = axis === 'x' ? width : height;
  if (inSize === outSize) return image;
  const weightsFor: { start: number; weights: number[] }[] = [];
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    if (scale > 1) {
      const from = o * scale;
      const to = (o + 1) * scale;
      const start = Math.floor(from);
      const weights: number[] = [];
      for (let i = start; i < Math.min(inSize, Math.ceil(to)); i++) weights.push((Math.min(to, i + 1) - Math.max(from, i)) / scale);
      weightsFor.push({ start, weights });
    } else {
      const centre = Math.min(inSize - 1, Math.max(0, (o + 0.5) * scale - 0.5));
      const start = Math.min(Math.floor(centre), inSize - 1);
      const fraction = centre - start;
      weightsFor.push(start + 1 < inSize ? { start, weights: [1 - fraction, fraction] } : { start, weights: [1] });
    }
  }
  const outHeight = axis === 'x' ? height : outSize;
  const outWidth = axis === 'x' ? outSize : width;
  const out = new Float64Array(outHeight * outWidth * 3);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = weightsFor[axis === 'x' ? x : y];
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let k = 0; k < weights.length; k++) {
          sum += weights[k] * (axis === 'x' ? image[(y * width + start + k) * 3 + c] : image[((start + k) * width + x) * 3 + c]);
        }
        out[(y * outWidth + x) * 3 + c] = sum;
      }
    }
  }
  return out;
}

/** A seeded stratified split: `testFraction` of each class goes to test (at least one image when a class has ≥ 2). */
export function splitDataset(dataset: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}`);
  const trainIndices: number[] = [];
  const testIndices: number[] = [];
  for (let label = 0; label < dataset.numClasses; label++) {
    const members: number[] = [];
    for (let i = 0; i < dataset.labels.length; i++) if (dataset.labels[i] === label) members.push(i);
    const order = permutation(members.length, createRng(seed, label));
    const testCount = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * testFraction));
    order.forEach((position, rank) => (rank < testCount ? testIndices : trainIndices).push(members[position]));
  }
  trainIndices.sort((a, b) => a - b);
  testIndices.sort((a, b) => a - b);
  return { train: selectImages(dataset, trainIndices), test: selectImages(dataset, testIndices) };
}
