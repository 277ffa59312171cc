/**
 * The one in-memory image dataset format of the data layer: every source (synthetic, CIFAR-10,
 * the user's images), every corruption and every task produces and consumes this.
 */
export interface Dataset {
  /** N × height × width × 3 bytes, HWC, RGB, 0–255. */
  images: Uint8Array;
  /** N class indices, each in [0, numClasses). */
  labels: Uint8Array;
  numClasses: number;
  classNames: readonly string[];
  height: number;
  width: number;
}

/** Channels per pixel of a `Dataset` image (RGB). */
export const DATASET_CHANNELS = 3;

export function datasetSize(dataset: Dataset): number {
  return dataset.labels.length;
}

export function imageByteLength(dataset: Pick<Dataset, 'height' | 'width'>): number {
  return dataset.height * dataset.width * DATASET_CHANNELS;
}

/**
 * Bad input at the data boundary (an archive, a record file, a user's image or class): `file`
 * names what was bad so the message can point the user at it.
 */
export class DataError extends Error {
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
  }
}

/** Throws unless the dataset's arrays agree with its declared shape and class count. */
export function assertValidDataset(dataset: Dataset, what = 'dataset'): void {
  const perImage = imageByteLength(dataset);
  const count = dataset.labels.length;
  if (dataset.images.length !== count * perImage) {
    throw new DataError(what, `has ${dataset.images.length} image bytes, expected ${count} × ${perImage}`);
  }
  if (dataset.classNames.length !== dataset.numClasses) {
    throw new DataError(what, `has ${dataset.classNames.length} class names for ${dataset.numClasses} classes`);
  }
  for (let i = 0; i < count; i++) {
    if (dataset.labels[i] >= dataset.numClasses) {
      throw new DataError(what, `label ${dataset.labels[i]} of image ${i} is out of range 0..${dataset.numClasses - 1}`);
    }
  }
}

/** A new dataset holding the images at `indices`, in that order (labels unchanged). */
export function selectImages(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const perImage = imageByteLength(dataset);
  const images = new Uint8Array(indices.length * perImage);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i];
    images.set(dataset.images.subarray(source * perImage, (source + 1) * perImage), i * perImage);
    labels[i] = dataset.labels[source];
  }
  return { ...dataset, images, labels };
}
